"""Responses before framing, shared by the server and everything that answers requests."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Headers", "Reply", "StreamReply", "error_reply", "json_reply"]

Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Reply:
    """One HTTP response with its whole body."""

    status: int
    body: bytes
    headers: Headers = ()
    content_type: str = "application/json"

    def with_headers(self, extra: Headers) -> Reply:
        return Reply(self.status, self.body, (*self.headers, *extra), self.content_type)


@dataclass(frozen=True, slots=True)
class StreamReply:
    """A 200 response whose body is written over time (the inbox's event stream).

    The server calls ``run(write)`` and sends the head with the first chunk, so
    whatever ``run`` does before its first write (the inbox subscribes to changes)
    is done before the client sees the response. ``write`` sends one chunk and
    raises ``OSError`` once the client has gone. ``run`` returns when
    the stream is over (the client left, or the sandbox is stopping).
    """

    content_type: str
    run: Callable[[Callable[[bytes], None]], None]
    headers: Headers = ()


def dump(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def json_reply(status: int, value: object, headers: Headers = ()) -> Reply:
    return Reply(status, dump(value), headers)


def error_reply(status: int, code: str | None, message: str, headers: Headers = ()) -> Reply:
    """The spec's error body: ``{"error": message, "code": code}`` (API §2)."""
    body: dict[str, str] = {"error": message}
    if code is not None:
        body["code"] = code
    return json_reply(status, body, headers)

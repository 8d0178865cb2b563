"""A response body collected under the request's size cap: the one check every transport makes."""

from __future__ import annotations

from poststack_core import ConnectionBroken, Request, ResponseTooLarge

__all__ = ["Body"]

_Headers = tuple[tuple[str, str], ...]


class Body:
    """The body of one response, refused as soon as it is known to exceed the cap.

    Created once the head has arrived: a ``Content-Length`` above
    ``request.max_response_bytes`` fails at once, before any of the body is
    read, and :meth:`add` fails the moment the bytes read so far exceed it,
    so at most one read past the cap is ever held. A ``101 Switching
    Protocols`` (which the SDK never asks for) fails too: what follows it is
    not HTTP. Either way the caller must close the connection, never reuse it.
    """

    __slots__ = ("_chunks", "_headers", "_limit", "_size", "_status")

    def __init__(self, request: Request, status: int, headers: _Headers) -> None:
        if status == 101:
            raise ConnectionBroken("the server switched protocols, which the SDK never asks for")
        limit = request.max_response_bytes
        for name, value in headers:
            if name.lower() == "content-length" and value.strip().isdigit() and int(value) > limit:
                raise ResponseTooLarge(status, headers, limit)
        self._status = status
        self._headers = headers
        self._limit = limit
        self._size = 0
        self._chunks: list[bytes] = []

    def add(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > self._limit:
            self._chunks.clear()
            raise ResponseTooLarge(self._status, self._headers, self._limit)
        self._chunks.append(chunk)

    def value(self) -> bytes:
        return b"".join(self._chunks)

"""In-memory transports that record every Request and answer from a script.

The sans-IO core makes a mock library unnecessary: a transport is any object
with ``send(request, timeout) -> Response``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from poststack import AsyncPostStack, PostStack
from poststack_core import Request, Response

Reply = Callable[[Request], Response]

_SPEC_DIR = Path(__file__).resolve().parents[2] / "shared" / "spec"
_LOCAL_COPY = Path(__file__).resolve().parent / "data" / "endpoints.json"


def load_endpoints() -> list[dict[str, Any]]:
    """``endpoints.json`` from the sibling ``shared/spec`` checkout, else the copy in tests/data."""
    path = _SPEC_DIR / "endpoints.json"
    if not path.is_file():
        path = _LOCAL_COPY
    records: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return records


def json_response(value: object = None, status: int = 200) -> Response:
    body = b"{}" if value is None else json.dumps(value).encode()
    return Response(status, (("Content-Type", "application/json"),), body)


def scripted(*replies: object) -> Reply:
    """Answer each request with the next JSON value (a Response is sent as it is)."""
    queue = list(replies)

    def reply(request: Request) -> Response:
        value = queue.pop(0)
        return value if isinstance(value, Response) else json_response(value)

    return reply


class Recorder:
    def __init__(self, reply: Reply | None = None) -> None:
        self.requests: list[Request] = []
        self._reply = reply or (lambda request: json_response())

    def send(self, request: Request, timeout: float) -> Response:
        self.requests.append(request)
        return self._reply(request)

    def close(self) -> None:
        pass


class AsyncRecorder:
    def __init__(self, reply: Reply | None = None) -> None:
        self.requests: list[Request] = []
        self._reply = reply or (lambda request: json_response())

    async def send(self, request: Request, timeout: float) -> Response:
        self.requests.append(request)
        return self._reply(request)

    async def aclose(self) -> None:
        pass


def sync_client(reply: Reply | None = None) -> tuple[PostStack, Recorder]:
    recorder = Recorder(reply)
    return PostStack(api_key="sk_test_x", transport=recorder, max_retries=0), recorder


def async_client(reply: Reply | None = None) -> tuple[AsyncPostStack, AsyncRecorder]:
    recorder = AsyncRecorder(reply)
    return AsyncPostStack(api_key="sk_test_x", transport=recorder, max_retries=0), recorder


def path_of(request: Request) -> str:
    return request.target.partition("?")[0]


def query_of(request: Request) -> list[tuple[str, str]]:
    return parse_qsl(request.target.partition("?")[2], keep_blank_values=True)


def body_of(request: Request) -> Any:
    return None if request.body is None else json.loads(request.body)


def pages_query(requests: Iterable[Request]) -> list[str | None]:
    return [dict(query_of(request)).get("page") for request in requests]

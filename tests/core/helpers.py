"""Small builders shared by the core's tests."""

from __future__ import annotations

import json
from collections.abc import Sequence

from poststack_core import (
    Call,
    ClientConfig,
    Done,
    Fail,
    Operation,
    PostStackError,
    Response,
    ResponseKind,
    RetryPolicy,
)

NOW = 1_800_000_000.0  # a fixed "now" for every decision that reads the clock
KEY = "00000000-0000-4000-8000-000000000000"


def config(max_retries: int = 3, timeout: float = 30.0) -> ClientConfig:
    return ClientConfig(
        "sk_test_core", "https://api.poststack.dev", timeout, RetryPolicy(max_retries=max_retries)
    )


def response(
    status: int,
    body: object = None,
    headers: Sequence[tuple[str, str]] = (),
    *,
    raw: bytes | None = None,
) -> Response:
    if raw is None:
        raw = b"" if body is None else json.dumps(body).encode()
    return Response(status, tuple(headers), raw)


def outcome(kind: ResponseKind, reply: Response) -> object:
    """What a Call of an Operation promising ``kind`` makes of ``reply``: the value, or raises."""
    call = Call(
        Operation("GET", "/x", response=kind), config(), new_key=_no_key, random=lambda: 0.0
    )
    call.start()
    action = call.receive(reply, NOW)
    if isinstance(action, Done):
        return action.value
    assert isinstance(action, Fail), action
    raise action.error


def error_for(
    reply: Response, now: float = NOW, policy: RetryPolicy | None = None
) -> PostStackError:
    """The error a Call that does not retry raises for the non-2xx ``reply``."""
    policy = (policy or RetryPolicy()).replace(max_retries=0)
    settings = ClientConfig("sk_test_core", retry=policy)
    call = Call(Operation("GET", "/x"), settings, new_key=_no_key, random=lambda: 0.0)
    call.start()
    action = call.receive(reply, now)
    assert isinstance(action, Fail), action
    return action.error


def retry_after(value: str | None, now: float = NOW) -> float | None:
    """The ``Retry-After`` a 503 carrying ``value`` gives its error, as the Call reads it."""
    headers = [] if value is None else [("Retry-After", value)]
    return error_for(response(503, headers=headers), now).retry_after


def _no_key() -> str:
    raise AssertionError("a GET needs no Idempotency-Key")

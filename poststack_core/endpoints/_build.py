"""The one constructor every endpoint function goes through."""

from __future__ import annotations

from typing import Any, TypeVar

from .._operation import NO_BODY, Operation, ResponseKind, check_idempotency_key, check_timeout

R = TypeVar("R")


def op(
    method: str,
    path: str,
    *,
    query: tuple[tuple[str, str], ...] = (),
    body: Any = NO_BODY,
    response: ResponseKind = "json",
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[Any]:
    """An Operation with the per-call options checked before anything can be sent."""
    if idempotency_key is not None and method != "POST":
        raise ValueError(f"idempotency_key applies to POST requests only, not {method}")
    return Operation(
        method,
        path,
        query,
        body,
        response,
        check_timeout(timeout),
        check_idempotency_key(idempotency_key),
    )

"""The constructor every endpoint function goes through, and the few body shapes they share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from .._narrow import as_list
from .._operation import (
    NO_BODY,
    Operation,
    ResponseKind,
    check_idempotency_key,
    check_timeout,
    mapping_body,
    query_value,
)

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
    check: Callable[[Any], str | None] | None = None,
) -> Operation[Any]:
    """An Operation with the per-call options checked before anything can be sent.

    Only POST definitions take ``idempotency_key``: the Call puts a key on POSTs
    alone (Operation.needs_idempotency_key).
    """
    return Operation(
        method,
        path,
        query,
        body,
        response,
        check_timeout(timeout),
        check_idempotency_key(idempotency_key),
        check,
    )


def optional_body(value: object, name: str, omitted: Any = NO_BODY) -> Any:
    """A caller's optional dict body: ``omitted`` (no body, or ``{}``) when it is None."""
    if value is None:
        return omitted
    return mapping_body(value, name)


def list_body(value: object, name: str, what: str) -> list[Any]:
    """A list argument sent inside a body; a str or dict here is a mistake, caught early."""
    items = as_list(value)
    if items is None:
        raise TypeError(f"{name} must be a list of {what}, got {type(value).__name__}")
    return items


def optional_query(**values: object) -> tuple[tuple[str, str], ...]:
    """Query pairs for keyword arguments, each sent unless it is None (0 and '' are sent)."""
    return tuple((name, query_value(value)) for name, value in values.items() if value is not None)

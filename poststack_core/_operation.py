"""Operation: one endpoint call described as data, and the helpers endpoints build it with."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Literal, TypeVar
from urllib.parse import quote

from ._errors import PostStackError
from ._narrow import as_mapping

R = TypeVar("R")

ResponseKind = Literal["json", "text", "bytes"]
"""What a successful response holds: a JSON object, text (CSV), or raw bytes (a file)."""


class _NoBody:
    """The absence of a body, which the wire tells apart from an empty ``{}``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_BODY"


NO_BODY: Any = _NoBody()
"""Sentinel for "send no body at all"; ``{}`` sends an empty JSON object."""


@dataclass(frozen=True, slots=True)
class Operation(Generic[R]):
    """One endpoint call, before any I/O.

    ``path`` has its ids already percent-encoded; ``query`` holds the pairs to
    send, in order; ``body`` is the JSON value to send, or :data:`NO_BODY`.
    ``R`` is the type the parsed response is promised to have: it exists for
    the type checker only. ``check``, when given, looks at the parsed JSON
    object and returns why it is not what was promised (or None): the call
    then fails with ``invalid_response``, the response's own status and id.
    """

    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    body: Any = NO_BODY
    response: ResponseKind = "json"
    timeout: float | None = None
    idempotency_key: str | None = None
    check: Callable[[Any], str | None] | None = None

    # Bodies are dicts: an Operation is a value to compare, not a key to hash.
    __hash__: ClassVar[None] = None  # type: ignore[assignment]

    @property
    def has_body(self) -> bool:
        """Whether the request carries a body (``{}`` does; :data:`NO_BODY` does not)."""
        return self.body is not NO_BODY

    @property
    def needs_idempotency_key(self) -> bool:
        """Whether the request carries an Idempotency-Key: exactly the POSTs (spec section 4)."""
        # Only POST creates; PUT/DELETE are idempotent by definition and the
        # API takes PATCH without a key.
        return self.method == "POST"


@dataclass(frozen=True, slots=True)
class Plan(Generic[R]):
    """Several operations that make one logical call, run in order.

    A driver runs every operation of ``operations`` one after the other (each
    with its own retries and Idempotency-Key) and hands the parsed responses,
    in order, to ``combine``, whose value the caller gets. Everything is built
    and checked before the first request goes out.

    When an operation fails, the driver stops and raises what
    :meth:`failure` makes of the error: ``failed``, when given, turns the
    responses so far and the error into the error to raise (so that what
    was already done is not lost).
    """

    operations: tuple[Operation[Any], ...]
    combine: Callable[[Sequence[Any]], R]
    failed: Callable[[Sequence[Any], PostStackError], PostStackError] | None = None

    __hash__: ClassVar[None] = None  # type: ignore[assignment]

    def failure(self, results: Sequence[Any], error: PostStackError) -> PostStackError:
        """The error to raise when operation ``len(results)`` failed with ``error``."""
        return error if self.failed is None else self.failed(results, error)


def check_timeout(timeout: object, name: str = "timeout") -> float | None:
    """A per-call or per-client timeout, or a clear error before anything is sent."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, got {type(timeout).__name__}")
    if not (math.isfinite(timeout) and timeout > 0):
        raise ValueError(f"{name} must be a finite number of seconds > 0, got {timeout!r}")
    return float(timeout)


def is_header_value(text: str) -> bool:
    """Whether ``text`` goes out as a header value as it is: printable ASCII, no CR/LF, no
    surrounding spaces (which HTTP strips: another value than the caller's would arrive)."""
    return bool(text) and text == text.strip() and all(" " <= char <= "~" for char in text)


def check_header_value(value: object, name: str) -> str:
    """A header value the client sends on every request, or a clear error naming it."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    if not is_header_value(value):
        raise ValueError(
            f"{name} must be printable ASCII without line breaks or surrounding spaces, "
            f"got {value!r}"
        )
    return value


def check_idempotency_key(key: object) -> str | None:
    """A caller's Idempotency-Key, or a clear error: a header value of at most 255 characters."""
    if key is None:
        return None
    # Checked here, not in the HTTP library, which would fail on non-ASCII or mangle it.
    if isinstance(key, str) and len(key) <= 255 and is_header_value(key):
        return key
    raise ValueError(
        "idempotency_key must be a non-empty printable ASCII string of at most 255 characters, "
        "without surrounding spaces"
    )


def percent_encode(value: str) -> str:
    """RFC 3986 percent-encoding of every byte but the unreserved ones (UTF-8, upper hex)."""
    return quote(value, safe="")


def segment(value: object, name: str) -> str:
    """A string id as one percent-encoded path segment (``/``, ``@``, ``%`` … included)."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__} {value!r}")
    if not value:
        raise ValueError(f"{name} must not be empty")
    return percent_encode(value)


def numeric(value: object, name: str) -> str:
    """A numeric id, written as a decimal integer; anything else fails before sending."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    return str(value)


def query_value(value: object) -> str:
    """A query value as the API spells it: booleans lower-case, everything else ``str()``."""
    # Python's str(True) would not match the API's "true".
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def query_pairs(
    params: Mapping[str, object] | None,
    name: str = "params",
    renames: Mapping[str, str] | None = None,
) -> tuple[tuple[str, str], ...]:
    """Pass-through query parameters: None dropped, booleans as true/false, keys renamed."""
    if params is None:
        return ()
    mapping = as_mapping(params)
    if mapping is None:
        raise TypeError(f"{name} must be a mapping, got {type(params).__name__}")
    pairs: list[tuple[str, str]] = []
    for key, value in mapping.items():
        if value is None:
            continue
        if renames:
            key = renames.get(key, key)
        pairs.append((key, query_value(value)))
    return tuple(pairs)


def mapping_body(value: object, name: str) -> Mapping[str, Any]:
    """A caller's dict body, sent as given (``None`` values included: they clear fields)."""
    mapping = as_mapping(value)
    if mapping is None:
        raise TypeError(f"{name} must be a dict, got {type(value).__name__}")
    return mapping

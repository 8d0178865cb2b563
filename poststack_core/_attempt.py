"""Attempt records: what one attempt of a Call sent and what came of it.

A :class:`~poststack_core.Call` describes every attempt as an :class:`Attempt`
(``call.record()``): the operation's name, the request's method, URL and
Idempotency-Key, the attempt number and, once the attempt has ended, the
status, the response headers and request id, the rate limit they state, how
long the attempt took, and the wait before the next one or the error that
ended the call. Event hooks, log records, OpenTelemetry spans and raw
responses are all read from these records, so each fact is worked out once,
here, and every observer sees the same.

Records are plain frozen values: they hold no API key (the request's headers
are not in them) and can be kept, compared and pickled.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Generic, TypeVar

from ._errors import PostStackError

R = TypeVar("R")

# An x-ratelimit-reset above this is a Unix timestamp (seconds), not a number of seconds.
EPOCH_THRESHOLD = 1e9


@dataclass(frozen=True, slots=True)
class RateLimit:
    """What one response said of the API's rate limit (``x-ratelimit-*``).

    ``limit`` is how many requests the window admits, ``remaining`` how many
    are left in it, ``reset`` the seconds from the response until the window
    frees up again (a Unix timestamp in the header is turned into seconds
    from then). Each is None when the response did not state it, or stated
    something that is not a finite number >= 0 (whole, for the two counts).
    """

    limit: int | None = None
    remaining: int | None = None
    reset: float | None = None

    @classmethod
    def of(cls, headers: Mapping[str, str], now: float) -> RateLimit:
        """The rate limit a response's ``headers`` state; ``now`` (epoch seconds) reads a timestamp.

        ``headers`` have lower-case names, as ``Response.header_dict()`` gives them.
        """
        reset = _number(headers.get("x-ratelimit-reset"))
        if reset is not None and reset > EPOCH_THRESHOLD:
            reset = max(0.0, reset - now)
        return cls(
            _count(headers.get("x-ratelimit-limit")),
            _count(headers.get("x-ratelimit-remaining")),
            reset,
        )


def _number(raw: str | None) -> float | None:
    if raw is None:
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def _count(raw: str | None) -> int | None:
    value = _number(raw)
    return int(value) if value is not None and value.is_integer() else None


@dataclass(frozen=True, slots=True)
class Attempt:
    """One attempt of one call, as event hooks, logs and traces see it.

    Always set: ``operation`` (the endpoint's name, ``"emails.send"``; empty
    when the Call was given none), ``method``, ``url`` (never with
    credentials: the key travels in a header, which is not recorded),
    ``path`` (the URL's path, without the query), ``attempt`` (1 for the first
    try, 2 for the first retry ...) and ``idempotency_key`` (the same on
    every attempt of a POST; None for other methods).

    Set once the attempt has ended: ``status`` (None when no HTTP response
    came back), the response ``headers`` (lower-case names), ``request_id``
    (the server's ``x-request-id``), ``rate_limit`` (None without a
    response), ``elapsed`` (seconds from sending to the whole response or the
    failure, when the driver measured it), and either ``wait`` with
    ``error``: the call retries after ``wait`` seconds because of ``error``;
    or ``error`` alone: the call failed with it; or neither: it succeeded.
    """

    operation: str
    method: str
    url: str
    path: str
    attempt: int
    idempotency_key: str | None
    status: int | None = None
    request_id: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict[str, str], repr=False)
    elapsed: float | None = None
    rate_limit: RateLimit | None = None
    wait: float | None = None
    error: PostStackError | None = None

    # Records hold a dict of headers: compare them, never hash them.
    __hash__: ClassVar[None] = None  # type: ignore[assignment]

    @property
    def retry(self) -> bool:
        """Whether another attempt follows this one (after ``wait`` seconds)."""
        return self.wait is not None

    @property
    def reason(self) -> str | None:
        """Why the attempt failed, in one line (``"503 internal_error: ..."``), or None."""
        return None if self.error is None else str(self.error)


@dataclass(frozen=True, slots=True)
class RawResponse(Generic[R]):
    """A call's parsed value together with the HTTP response it came from.

    ``parsed`` is what the plain method returns. ``status_code``, ``headers``
    (lower-case names), ``request_id`` and ``rate_limit`` are the last
    response's, the one that succeeded; ``retries`` is how many attempts
    failed before it, ``elapsed`` how long that last attempt took (seconds),
    and ``idempotency_key`` the key every attempt carried (None but for
    POSTs).
    """

    parsed: R
    status_code: int
    headers: Mapping[str, str] = field(repr=False)
    request_id: str | None
    rate_limit: RateLimit
    retries: int
    elapsed: float | None
    idempotency_key: str | None

    __hash__: ClassVar[None] = None  # type: ignore[assignment]

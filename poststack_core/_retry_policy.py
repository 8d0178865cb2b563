"""The retry policy: an immutable value that answers "wait how long, or stop?"."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

DEFAULT_MAX_RETRIES = 3
"""Retries after the first attempt, so at most four requests per call (spec section 3)."""

QUOTA_CODES: frozenset[str] = frozenset(
    {
        "quota_exceeded",
        "monthly_limit_exceeded",
        "daily_limit_exceeded",
        "daily_cap_exceeded",
        "send_limit_exceeded",
    }
)
"""The 429 codes of a plan quota or send cap: they reset on a calendar boundary."""


def validate_max_retries(max_retries: object) -> int:
    """``max_retries`` as an int, or a ValueError/TypeError that says what is wrong."""
    # bool is an int subclass; max_retries=True is a mistake, not one retry.
    if isinstance(max_retries, bool) or not isinstance(max_retries, int):
        raise TypeError(
            f"max_retries must be a whole number >= 0, got {type(max_retries).__name__} "
            f"{max_retries!r}"
        )
    if max_retries < 0:
        raise ValueError(f"max_retries must be >= 0 (0 disables retrying), got {max_retries}")
    return max_retries


def _seconds(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, got {type(value).__name__}")
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How one logical call retries. Immutable: ``replace`` what you want changed.

    The wait before retry ``k`` (1-based) is full jitter, uniform in
    ``[0, backoff_base * backoff_growth ** (k - 1))``. A usable ``Retry-After``
    on a retryable response replaces it when it is at most ``retry_after_cap``
    seconds; above the cap the call stops at once.
    """

    max_retries: int = DEFAULT_MAX_RETRIES
    backoff_base: float = 0.25
    backoff_growth: float = 2.0
    retry_after_cap: float = 60.0
    extra_retry_statuses: frozenset[int] = frozenset({408, 429})
    quota_codes: frozenset[str] = QUOTA_CODES

    def __post_init__(self) -> None:
        # Frozen: normalised values are written past the dataclass's __setattr__.
        set_field = object.__setattr__
        set_field(self, "max_retries", validate_max_retries(self.max_retries))
        set_field(self, "backoff_base", _seconds(self.backoff_base, "backoff_base"))
        set_field(self, "retry_after_cap", _seconds(self.retry_after_cap, "retry_after_cap"))
        growth = _seconds(self.backoff_growth, "backoff_growth")
        if growth < 1:
            raise ValueError(f"backoff_growth must be >= 1, got {growth!r}")
        set_field(self, "backoff_growth", growth)
        set_field(self, "extra_retry_statuses", frozenset(self.extra_retry_statuses))
        set_field(self, "quota_codes", frozenset(self.quota_codes))

    def replace(self, **changes: Any) -> RetryPolicy:
        """A copy with ``changes`` applied: ``policy.replace(max_retries=5)``."""
        return dataclasses.replace(self, **changes)

    def is_retryable_status(self, status: int) -> bool:
        """Whether a response with this status is worth sending again (5xx, 408, 429)."""
        return status >= 500 or status in self.extra_retry_statuses

    def is_quota(self, status: int, code: str | None, retry_after: float | None) -> bool:
        """A 429 that no amount of waiting within this call will cure.

        A quota code is final even with Retry-After; any other code without a
        usable Retry-After is a quota in disguise (the API sends monthly limits
        as ``rate_limit_exceeded``). A bare 429 with neither, from a proxy, is
        ordinary throttling.
        """
        if status != 429:
            return False
        if code in self.quota_codes:
            return True
        return code is not None and retry_after is None

    def is_retryable(self, status: int, code: str | None, retry_after: float | None) -> bool:
        """Whether the same request, sent again later, may succeed (an error's ``retryable``).

        ``status`` 0 (no response came back) and a 2xx (its body was garbled)
        may, and so does a retryable status that is not a quota. The
        Idempotency-Key makes sending a POST again safe in every case.
        """
        if status == 0 or 200 <= status < 300:
            return True
        return self.is_retryable_status(status) and not self.is_quota(status, code, retry_after)

    def backoff(self, retry_number: int, random: Callable[[], float]) -> float:
        """Full-jitter wait before retry ``retry_number`` (1-based); ``random()`` is in [0, 1)."""
        ceiling = self.backoff_base * self.backoff_growth ** (retry_number - 1)
        return random() * ceiling


DEFAULT_POLICY = RetryPolicy()

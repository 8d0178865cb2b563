"""The retry policy: an immutable value that answers "wait how long, or stop?"."""

from __future__ import annotations

from ._value import Value
from ._value import set_field as _set

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing at run time

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

QUOTA_CODES: frozenset[str] = frozenset(
    {
        "quota_exceeded",
        "monthly_limit_exceeded",
        "daily_limit_exceeded",
        "daily_cap_exceeded",
        "send_limit_exceeded",
    }
)


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


class RetryPolicy(Value):
    """How one logical call retries. Immutable: ``replace`` what you want changed.

    The wait before retry ``k`` (1-based) is full jitter, uniform in
    ``[0, backoff_base * backoff_growth ** (k - 1))``. A usable ``Retry-After``
    on a retryable response replaces it when it is at most ``retry_after_cap``
    seconds; above the cap the call stops at once.
    """

    __slots__ = (
        "backoff_base",
        "backoff_growth",
        "extra_retry_statuses",
        "max_retries",
        "quota_codes",
        "retry_after_cap",
    )
    max_retries: int
    backoff_base: float
    backoff_growth: float
    retry_after_cap: float
    extra_retry_statuses: frozenset[int]
    quota_codes: frozenset[str]

    def __init__(
        self,
        max_retries: int = 3,
        backoff_base: float = 0.25,
        backoff_growth: float = 2.0,
        retry_after_cap: float = 60.0,
        extra_retry_statuses: frozenset[int] = frozenset({408, 429}),
        quota_codes: frozenset[str] = QUOTA_CODES,
    ) -> None:
        _set(self, "max_retries", validate_max_retries(max_retries))
        _set(self, "backoff_base", backoff_base)
        _set(self, "backoff_growth", backoff_growth)
        _set(self, "retry_after_cap", retry_after_cap)
        _set(self, "extra_retry_statuses", frozenset(extra_retry_statuses))
        _set(self, "quota_codes", frozenset(quota_codes))

    def replace(self, **changes: Any) -> RetryPolicy:
        """A copy with ``changes`` applied: ``policy.replace(max_retries=5)``."""
        fields = {name: getattr(self, name) for name in self.__slots__}
        unknown = set(changes) - set(fields)
        if unknown:
            raise TypeError(f"RetryPolicy has no field(s) {sorted(unknown)}")
        return RetryPolicy(**{**fields, **changes})

    def is_retryable_status(self, status: int) -> bool:
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

    def backoff(self, retry_number: int, random: Callable[[], float]) -> float:
        """Full-jitter wait before retry ``retry_number`` (1-based); ``random()`` is in [0, 1)."""
        ceiling = self.backoff_base * self.backoff_growth ** (retry_number - 1)
        return random() * ceiling

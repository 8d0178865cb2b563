"""Limits to test against: a per-key rate limit and a monthly email quota.

The rate limit (``rate_limit=N``, ``--rate-limit N``) is exact: a sliding log
of the accepted requests of each key admits a request only if fewer than N
were accepted in the second before it, so no one-second window ever holds more
than N. A refused request takes no slot. It runs on real (monotonic) time,
whatever the sandbox clock does, because the clients it throttles do. Each
answer to an authenticated request says where the key stands:

- ``x-ratelimit-limit``: N;
- ``x-ratelimit-remaining``: requests still admitted right now;
- ``x-ratelimit-reset``: seconds until ``remaining`` grows again (milliseconds,
  rounded up);
- on a 429 ``rate_limit_exceeded``: ``Retry-After`` with that same wait, so a
  client that waits exactly that long is admitted.

The monthly quota (``monthly_quota=N``) counts accepted emails per calendar
month of the sandbox clock (advance the clock into the next month and it
resets). A send or batch that does not fit answers with the API's quota 429:
``monthly_limit_exceeded``, without ``Retry-After`` (it resets on a calendar
boundary, not in seconds), so the SDK does not retry it.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from ._http import Headers
from ._models import SandboxEmail
from ._store import EmailChange, Store
from ._validation import ApiError, isoformat, parse_timestamp

__all__ = ["Decision", "MonthlyQuota", "RateLimiter"]


def _seconds(value: float) -> str:
    """Seconds with millisecond precision, rounded up (never tell a client to come back early)."""
    return f"{math.ceil(max(0.0, value) * 1000) / 1000:.3f}"


@dataclass(frozen=True, slots=True)
class Decision:
    """The limiter's answer for one request."""

    allowed: bool
    limit: int
    remaining: int
    reset: float

    def headers(self) -> Headers:
        headers = (
            ("x-ratelimit-limit", str(self.limit)),
            ("x-ratelimit-remaining", str(self.remaining)),
            ("x-ratelimit-reset", _seconds(self.reset)),
        )
        return headers if self.allowed else (*headers, ("retry-after", _seconds(self.reset)))


class RateLimiter:
    """At most ``limit`` requests per key in any one-second window (a sliding log)."""

    def __init__(
        self, limit: int, *, window: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"rate_limit must be a whole number of requests >= 1, got {limit!r}")
        self.limit = limit
        self._window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._logs: dict[str, deque[float]] = {}

    def take(self, key: str) -> Decision:
        """Admit one request of ``key`` (recording it) or refuse it."""
        with self._lock:
            now = self._clock()
            log = self._logs.setdefault(key, deque())
            horizon = now - self._window
            while log and log[0] <= horizon:
                log.popleft()
            allowed = len(log) < self.limit
            if allowed:
                log.append(now)
            return Decision(allowed, self.limit, self.limit - len(log), log[0] + self._window - now)


class MonthlyQuota:
    """At most ``limit`` accepted emails per calendar month of the sandbox clock."""

    def __init__(self, limit: int, store: Store) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"monthly_quota must be a whole number of emails >= 1, got {limit!r}")
        self.limit = limit
        self._used: dict[str, int] = {}
        with store.lock:
            for email in store.emails.values():
                self._count(email)
            store.email_listeners.append(self._on_email)

    @staticmethod
    def _month(moment: datetime) -> str:
        return moment.astimezone(timezone.utc).strftime("%Y-%m")

    def _count(self, email: SandboxEmail) -> None:
        created = parse_timestamp(email.created_at)
        if created is not None:
            month = self._month(created)
            self._used[month] = self._used.get(month, 0) + 1

    def _on_email(self, change: EmailChange, email: SandboxEmail | None) -> None:
        if change == "message" and email is not None:
            self._count(email)
        elif change == "clear":
            self._used.clear()

    def used(self, now: datetime) -> int:
        return self._used.get(self._month(now), 0)

    def reserve(self, count: int, now: datetime) -> None:
        """Raise the quota 429 unless ``count`` more emails fit this month (store lock held)."""
        used = self.used(now)
        if used + count <= self.limit:
            return
        year, month = now.year + now.month // 12, now.month % 12 + 1
        resets = isoformat(datetime(year, month, 1, tzinfo=timezone.utc))
        raise ApiError(
            429,
            "monthly_limit_exceeded",
            f"Monthly quota of {self.limit} emails reached ({used} sent this month, "
            f"{count} more asked); it resets at {resets}",
        )

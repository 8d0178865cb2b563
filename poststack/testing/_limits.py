"""Limits to test against: a per-key rate limit and a monthly email quota.

The rate limit (``rate_limit=N``, ``--rate-limit N``) is exact: a sliding log
of the accepted requests of each key admits a request only if fewer than N
were accepted in the second before it, so no one-second window ever holds more
than N. A refused request takes no slot. It runs on real (monotonic) time,
whatever the sandbox clock does, because the clients it throttles do, and in
whole nanoseconds, so no rounding ever admits one request too many or refuses
a client that waited exactly as long as it was told. Each
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


_NS = 1_000_000_000
_MS = 1_000_000


def _seconds(nanoseconds: int) -> str:
    """Seconds with millisecond precision, rounded up (never tell a client to come back early)."""
    millis = -(-max(0, nanoseconds) // _MS)
    return f"{millis // 1000}.{millis % 1000:03d}"


@dataclass(frozen=True, slots=True)
class Decision:
    """The limiter's answer for one request."""

    allowed: bool
    limit: int
    remaining: int
    reset_ns: int
    """Nanoseconds until ``remaining`` grows again (the oldest admitted request leaves)."""

    @property
    def reset(self) -> float:
        return self.reset_ns / _NS

    def headers(self) -> Headers:
        reset = _seconds(self.reset_ns)
        headers = (
            ("x-ratelimit-limit", str(self.limit)),
            ("x-ratelimit-remaining", str(self.remaining)),
            ("x-ratelimit-reset", reset),
        )
        return headers if self.allowed else (*headers, ("retry-after", reset))


class RateLimiter:
    """At most ``limit`` requests per key in any one-second window (a sliding log)."""

    def __init__(self, limit: int, *, clock: Callable[[], int] = time.monotonic_ns) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"rate_limit must be a whole number of requests >= 1, got {limit!r}")
        self.limit = limit
        self._clock = clock
        self._lock = threading.Lock()
        self._logs: dict[str, deque[int]] = {}

    def take(self, key: str) -> Decision:
        """Admit one request of ``key`` (recording it) or refuse it."""
        with self._lock:
            now = self._clock()
            log = self._logs.setdefault(key, deque())
            # Admitted requests older than one second (at or before now - 1 s) no longer count.
            horizon = now - _NS
            while log and log[0] <= horizon:
                log.popleft()
            allowed = len(log) < self.limit
            if allowed:
                log.append(now)
            return Decision(allowed, self.limit, self.limit - len(log), log[0] + _NS - now)


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

"""The sandbox clock: the time every createdAt, event and schedule is measured on.

A :class:`SandboxClock` is either *frozen* (time stands still until
:meth:`~SandboxClock.advance` moves it: what tests want, since every step is
then deterministic) or *running* (wall-clock time plus whatever was advanced:
what ``poststack sandbox`` uses, so the inbox moves on its own). Both can be
advanced; advancing never goes backwards.

Times are whole milliseconds, the precision the API's timestamps carry, so a
time written as ISO 8601 and read back is exactly the same time.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

__all__ = ["SandboxClock"]


def _to_millis(moment: datetime) -> datetime:
    moment = moment.astimezone(timezone.utc)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


class SandboxClock:
    """Now, as the sandbox sees it (thread-safe)."""

    def __init__(self, *, frozen: bool = True, start: datetime | None = None) -> None:
        if start is not None and start.tzinfo is None:
            raise ValueError(
                "start must be timezone-aware (e.g. datetime(..., tzinfo=timezone.utc))"
            )
        self._lock = threading.Lock()
        self._frozen = frozen
        wall = datetime.now(timezone.utc)
        origin = _to_millis(start or wall)
        # frozen: now is _fixed; running: now is the wall clock plus _offset.
        self._fixed = origin
        self._offset = origin - wall
        self._explicit_start = start is not None

    @property
    def frozen(self) -> bool:
        """True when time moves only through :meth:`advance`."""
        return self._frozen

    def now(self) -> datetime:
        """The current sandbox time (UTC, whole milliseconds)."""
        with self._lock:
            if self._frozen:
                return self._fixed
            return _to_millis(datetime.now(timezone.utc) + self._offset)

    def advance(self, seconds: float) -> datetime:
        """Move time forward by ``seconds`` (>= 0); return the new now."""
        if not seconds >= 0 or seconds == float("inf"):
            raise ValueError(f"seconds must be a finite number >= 0, got {seconds!r}")
        step = timedelta(seconds=seconds)
        with self._lock:
            if self._frozen:
                self._fixed = _to_millis(self._fixed + step)
                return self._fixed
            self._offset += step
            return _to_millis(datetime.now(timezone.utc) + self._offset)

    def seconds_until(self, moment: datetime) -> float | None:
        """Real seconds until the clock shows ``moment``; ``None`` if it never will on its own."""
        with self._lock:
            if self._frozen:
                return 0.0 if moment <= self._fixed else None
            now = datetime.now(timezone.utc) + self._offset
        return max(0.0, (moment - now).total_seconds())

    def restore(self, moment: datetime) -> None:
        """Continue from a saved time (a restart with ``db=``).

        A frozen clock stands exactly where it stood (or at an explicit, later
        ``start``); a running clock never shows a time earlier than the saved one.
        """
        moment = _to_millis(moment)
        with self._lock:
            if self._frozen:
                self._fixed = max(self._fixed, moment) if self._explicit_start else moment
            else:
                wall = datetime.now(timezone.utc)
                self._offset = max(self._offset, moment - wall)

    def monotonic(self) -> float:
        """Real monotonic seconds (for rate limits, which run on real time)."""
        return time.monotonic()

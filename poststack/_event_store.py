"""Remembering which webhook events were handled, so a redelivery is not handled twice.

PostStack retries a delivery that was not answered 2xx (for up to 24 hours)
and lets you replay one, so the same event can arrive more than once. The
router asks a store about each verified event's key before running any
handler:

- :attr:`Claim.NEW`: never seen (or an earlier attempt gave up): handle it now.
  The store holds it as *in progress* for ``lease`` seconds.
- :attr:`Claim.IN_PROGRESS`: another request is handling it right now. The
  router answers 409 so PostStack tries again later, when that attempt has
  either finished (the retry is then a duplicate) or failed (the retry handles
  it). Answering 2xx here could lose the event, should the first attempt fail.
- :attr:`Claim.DONE`: handled before: answered 200, no handler runs.

After the handlers succeed the router calls :meth:`EventStore.finish`; when
one raises, :meth:`EventStore.release`, so the next delivery handles it again.
A process that dies mid-handler leaves an in-progress claim that runs out
after ``lease`` seconds.
"""

from __future__ import annotations

import enum
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

__all__ = [
    "DEFAULT_KEEP",
    "DEFAULT_LEASE",
    "DEFAULT_MAX_KEYS",
    "Claim",
    "EventStore",
    "MemoryEventStore",
]

DEFAULT_KEEP = 72 * 3600.0
"""Three days: PostStack's 24 hours of retries, and time to replay a delivery after."""
DEFAULT_LEASE = 300.0
DEFAULT_MAX_KEYS = 100_000


class Claim(enum.Enum):
    """A store's answer to "may I handle this event now?"."""

    NEW = "new"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class EventStore(Protocol):
    """Where the router records handled events (:class:`MemoryEventStore` by default).

    Implement it over a shared store (Redis ``SET NX PX``, a database row, a
    Django cache: ``poststack.contrib.django.CacheEventStore``) to de-duplicate
    across processes. Each method is called once per delivery and should be quick.
    """

    def claim(self, key: str) -> Claim:
        """Atomically: if ``key`` is unknown (or its lease ran out) hold it and answer NEW."""
        ...

    def finish(self, key: str) -> None:
        """The event was handled: remember ``key`` as DONE."""
        ...

    def release(self, key: str) -> None:
        """Handling failed: forget ``key``, so a redelivery is handled."""
        ...


class MemoryEventStore:
    """An :class:`EventStore` in this process's memory, safe across threads.

    ``keep``: seconds a handled event is remembered (default three days);
    ``lease``: seconds an event may be in progress before another delivery of
    it may be handled (default five minutes); ``max_keys``: at most this many
    events are remembered, the oldest forgotten first (default 100,000, a few
    tens of MB). ``clock`` is for tests.

    It de-duplicates within one process only: with several workers (gunicorn,
    uvicorn ``--workers``) a redelivery may reach another one. Use a shared
    store there.
    """

    def __init__(
        self,
        *,
        keep: float = DEFAULT_KEEP,
        lease: float = DEFAULT_LEASE,
        max_keys: int = DEFAULT_MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        for name, value in (("keep", keep), ("lease", lease)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"{name} must be a number of seconds > 0, got {value!r}")
        if isinstance(max_keys, bool) or not isinstance(max_keys, int) or max_keys < 1:
            raise ValueError(f"max_keys must be an int >= 1, got {max_keys!r}")
        self._keep = float(keep)
        self._lease = float(lease)
        self._max_keys = max_keys
        self._clock = clock
        self._lock = threading.Lock()
        # key -> (done, expires at); oldest first.
        self._entries: OrderedDict[str, tuple[bool, float]] = OrderedDict()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def claim(self, key: str) -> Claim:
        with self._lock:
            now = self._clock()
            self._forget_expired(now)
            entry = self._entries.get(key)
            if entry is not None and entry[1] > now:
                return Claim.DONE if entry[0] else Claim.IN_PROGRESS
            self._put(key, False, now + self._lease)
            return Claim.NEW

    def finish(self, key: str) -> None:
        with self._lock:
            self._put(key, True, self._clock() + self._keep)

    def release(self, key: str) -> None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and not entry[0]:
                del self._entries[key]

    def _put(self, key: str, done: bool, expires: float) -> None:
        self._entries[key] = (done, expires)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_keys:
            self._entries.popitem(last=False)

    def _forget_expired(self, now: float) -> None:
        # Entries are in the order they were last written, so the front is about
        # the next to expire. One that expires behind a longer-lived neighbour
        # stays until it reaches the front, but claim() checks each key's own
        # expiry, so it is never taken for live.
        while self._entries:
            key, (_, expires) = next(iter(self._entries.items()))
            if expires > now:
                return
            del self._entries[key]

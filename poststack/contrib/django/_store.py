"""``CacheEventStore``: de-duplicating webhook events through a Django cache, across processes."""

from __future__ import annotations

import hashlib

from django.core.cache import caches

from poststack._event_store import DEFAULT_KEEP, DEFAULT_LEASE
from poststack.webhooks import Claim

__all__ = ["CacheEventStore"]

_IN_PROGRESS = "in_progress"
_DONE = "done"


class CacheEventStore:
    """An :class:`~poststack.webhooks.EventStore` in one of Django's caches.

    ``POSTSTACK_WEBHOOK_STORE = "poststack.contrib.django.CacheEventStore"``
    uses the ``default`` cache; with Redis or Memcached behind it, every worker
    process sees the same events. ``cache.add`` (atomic in Django's Redis,
    Memcached and database caches) is the claim. A process-local cache
    (``LocMemCache``) de-duplicates within one process only, and ``DummyCache``
    not at all. ``keep`` and ``lease`` are as for
    :class:`~poststack.webhooks.MemoryEventStore`.
    """

    def __init__(
        self,
        alias: str = "default",
        *,
        prefix: str = "poststack:webhook:",
        keep: float = DEFAULT_KEEP,
        lease: float = DEFAULT_LEASE,
    ) -> None:
        for name, value in (("keep", keep), ("lease", lease)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"{name} must be a number of seconds > 0, got {value!r}")
        self.alias = alias
        self.prefix = prefix
        self.keep = keep
        self.lease = lease

    def _key(self, key: str) -> str:
        # Memcached takes keys of up to 250 printable bytes: hash whatever the event id is.
        return self.prefix + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()

    def claim(self, key: str) -> Claim:
        cache = caches[self.alias]
        name = self._key(key)
        for _ in range(2):  # the entry may expire between add() and get(): then add again
            if cache.add(name, _IN_PROGRESS, timeout=self.lease):
                return Claim.NEW
            state = cache.get(name)
            if state == _DONE:
                return Claim.DONE
            if state is not None:
                return Claim.IN_PROGRESS
        return Claim.IN_PROGRESS

    def finish(self, key: str) -> None:
        caches[self.alias].set(self._key(key), _DONE, timeout=self.keep)

    def release(self, key: str) -> None:
        caches[self.alias].delete(self._key(key))

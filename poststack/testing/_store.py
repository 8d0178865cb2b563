"""The state of one sandbox: resources, emails, webhook deliveries, idempotency records.

Theory of operation
-------------------
Everything lives in memory, guarded by one re-entrant lock (``Store.lock``).
``Store.changed`` is a Condition on that lock, notified on every change, which
is what the ``wait_for_*`` helpers wait on.

Resources of the 17 API families are :class:`Entity` values: ``data`` is the
API object exactly as responses show it (camelCase keys and all), ``private``
what the API never shows (a webhook's secret, a key's hash, a mailbox's
password hash). An entity is found by its key (a ``con_…`` id, or a numeric id
for resources without a public id) or by one of its aliases (its numeric id,
a contact's email, ...). Emails are :class:`~._models.SandboxEmail` values and
webhook deliveries :class:`~._models.WebhookDelivery` values, both frozen:
changing one means putting its successor.

Every write is also noted as *dirty*; :meth:`Store.commit`, called once at the
end of each request, lifecycle step and delivery, hands the dirty records to
the database (``db=``) in one transaction, so a crash never leaves half a
request on disk. Without a database, commit only forgets the notes.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ._models import RecordedRequest, SandboxEmail, WebhookDelivery

if TYPE_CHECKING:
    from ._persistence import Database

__all__ = ["EmailChange", "Entity", "IdempotencyRecord", "Store"]

JSONObject = dict[str, Any]
EmailChange = Literal["message", "update", "clear"]

# Record kinds written to the database besides the resources' own kinds.
EMAIL = "email"
DELIVERY = "delivery"
IDEMPOTENCY = "idempotency"
REQUEST = "request"
TRAFFIC_KINDS = (EMAIL, DELIVERY, IDEMPOTENCY, REQUEST)


@dataclass(slots=True)
class Entity:
    """One stored resource: the API object, what the API never shows, and other names for it."""

    kind: str
    key: str
    data: JSONObject
    private: JSONObject = field(default_factory=dict[str, Any])
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """A remembered successful response, replayed for a repeated key."""

    fingerprint: str
    status: int
    body: bytes
    created_at: str = ""
    """When it was remembered (sandbox clock, ISO 8601): keys are kept 24 hours."""


class Store:
    """All mutable state of one sandbox, guarded by one lock."""

    def __init__(self, database: Database | None = None, *, request_log: int | None = None) -> None:
        self.lock: threading.RLock = threading.RLock()
        self.changed: threading.Condition = threading.Condition(self.lock)
        self.database = database
        self._entities: dict[str, dict[str, Entity]] = {}
        self._aliases: dict[str, dict[str, str]] = {}
        self.emails: dict[str, SandboxEmail] = {}
        self.deliveries: dict[int, WebhookDelivery] = {}
        self.finished_deliveries: list[int] = []
        self.idempotency: dict[str, IdempotencyRecord] = {}
        self.requests: deque[RecordedRequest] = deque(maxlen=request_log)
        self.meta: dict[str, str] = {}
        self.email_listeners: list[Callable[[EmailChange, SandboxEmail | None], None]] = []
        self._counters: dict[str, int] = {}
        self._dirty: dict[tuple[str, str], object | None] = {}
        self._dirty_meta: set[str] = set()
        self._cleared = False

    # -- ids --

    def next_id(self, kind: str) -> int:
        """The next numeric id of ``kind`` (1, 2, ...); ids are never reused."""
        with self.lock:
            value = self._counters.get(kind, 0) + 1
            self._counters[kind] = value
            self._set_meta(f"counter:{kind}", str(value))
            return value

    # -- resources --

    def put(self, entity: Entity) -> Entity:
        """Insert or replace an entity (an update keeps its place in listings)."""
        with self.lock:
            table = self._entities.setdefault(entity.kind, {})
            aliases = self._aliases.setdefault(entity.kind, {})
            old = table.get(entity.key)
            if old is not None:
                for alias in old.aliases:
                    aliases.pop(alias, None)
            table[entity.key] = entity
            for alias in entity.aliases:
                aliases[alias] = entity.key
            self._dirty[(entity.kind, entity.key)] = entity
            self.changed.notify_all()
            return entity

    def get(self, kind: str, ref: str) -> Entity | None:
        """The entity whose key or alias is ``ref``."""
        with self.lock:
            table = self._entities.get(kind, {})
            entity = table.get(ref)
            if entity is None:
                key = self._aliases.get(kind, {}).get(ref)
                entity = table.get(key) if key is not None else None
            return entity

    def remove(self, kind: str, key: str) -> None:
        with self.lock:
            entity = self._entities.get(kind, {}).pop(key, None)
            if entity is not None:
                aliases = self._aliases.get(kind, {})
                for alias in entity.aliases:
                    aliases.pop(alias, None)
                self._dirty[(kind, key)] = None
                self.changed.notify_all()

    def all(self, kind: str) -> list[Entity]:
        """Every entity of ``kind``, oldest first."""
        with self.lock:
            return list(self._entities.get(kind, {}).values())

    # -- emails --

    def add_email(self, email: SandboxEmail) -> None:
        with self.lock:
            self.emails[email.id] = email
            self._dirty[(EMAIL, email.id)] = email
            self._tell("message", email)

    def replace_email(self, email: SandboxEmail) -> None:
        """Put the successor of a stored email (same id, new status or events)."""
        with self.lock:
            if email.id not in self.emails:
                return  # cleared meanwhile: nothing to update
            self.emails[email.id] = email
            self._dirty[(EMAIL, email.id)] = email
            self._tell("update", email)

    def touch_email(self, email_id: str) -> None:
        """Tell listeners an email's surroundings changed (a webhook delivery finished)."""
        with self.lock:
            email = self.emails.get(email_id)
            if email is not None:
                self._tell("update", email)

    def _tell(self, change: EmailChange, email: SandboxEmail | None) -> None:
        for listener in self.email_listeners:
            listener(change, email)
        self.changed.notify_all()

    # -- webhook deliveries --

    def put_delivery(self, delivery: WebhookDelivery) -> None:
        with self.lock:
            known = self.deliveries.get(delivery.id)
            self.deliveries[delivery.id] = delivery
            if delivery.finished and (known is None or not known.finished):
                self.finished_deliveries.append(delivery.id)
            self._dirty[(DELIVERY, str(delivery.id))] = delivery
            self.changed.notify_all()

    # -- idempotency, origin requests, meta --

    def remember(self, scope: str, record: IdempotencyRecord) -> None:
        with self.lock:
            self.idempotency[scope] = record
            self._dirty[(IDEMPOTENCY, scope)] = record

    def forget_idempotency_before(self, moment: str) -> None:
        """Drop the records remembered before ``moment`` (an ISO 8601 time)."""
        with self.lock:
            for scope in [s for s, r in self.idempotency.items() if r.created_at < moment]:
                del self.idempotency[scope]
                self._dirty[(IDEMPOTENCY, scope)] = None

    def add_request(self, request: RecordedRequest) -> None:
        """Log a request for ``sb.requests`` (memory only: the log is for tests)."""
        with self.lock:
            self.requests.append(request)
            self.changed.notify_all()

    def _set_meta(self, key: str, value: str) -> None:
        self.meta[key] = value
        self._dirty_meta.add(key)

    def set_meta(self, key: str, value: str) -> None:
        with self.lock:
            self._set_meta(key, value)

    # -- clearing, loading, committing --

    def clear_traffic(self) -> None:
        """Forget emails, deliveries, idempotency records, origin requests and the request log."""
        with self.lock:
            self.emails.clear()
            self.deliveries.clear()
            self.finished_deliveries.clear()
            self.idempotency.clear()
            self.requests.clear()
            self._entities.pop(REQUEST, None)
            self._aliases.pop(REQUEST, None)
            self._dirty = {k: v for k, v in self._dirty.items() if k[0] not in TRAFFIC_KINDS}
            self._cleared = True
            self._tell("clear", None)

    def load(
        self,
        entities: Iterator[Entity],
        emails: Iterator[SandboxEmail],
        deliveries: Iterator[WebhookDelivery],
        idempotency: Iterator[tuple[str, IdempotencyRecord]],
        meta: dict[str, str],
    ) -> None:
        """Fill an empty store from the database (oldest records first)."""
        with self.lock:
            for entity in entities:
                self._entities.setdefault(entity.kind, {})[entity.key] = entity
                aliases = self._aliases.setdefault(entity.kind, {})
                for alias in entity.aliases:
                    aliases[alias] = entity.key
            for email in emails:
                self.emails[email.id] = email
            for delivery in deliveries:
                self.deliveries[delivery.id] = delivery
                if delivery.finished:
                    self.finished_deliveries.append(delivery.id)
            self.idempotency.update(idempotency)
            self.meta.update(meta)
            for key, value in meta.items():
                if key.startswith("counter:"):
                    self._counters[key.removeprefix("counter:")] = int(value)
            self._dirty.clear()
            self._dirty_meta.clear()

    def commit(self) -> None:
        """Write everything changed since the last commit, in one transaction."""
        with self.lock:
            if self.database is not None and (self._dirty or self._dirty_meta or self._cleared):
                self.database.write(
                    self._dirty,
                    {key: self.meta[key] for key in self._dirty_meta},
                    clear=TRAFFIC_KINDS if self._cleared else (),
                )
            self._dirty = {}
            self._dirty_meta = set()
            self._cleared = False

    def wait_until(self, predicate: Callable[[], bool], timeout: float | None) -> bool:
        """Block until ``predicate()`` holds (checked under the lock) or time runs out."""
        with self.changed:
            return self.changed.wait_for(predicate, timeout)

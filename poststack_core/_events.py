"""Typed webhook events: every delivered payload normalized into one shape per event type.

Theory of operation
-------------------
PostStack POSTs one JSON object per event. The sandbox (and, as far as the
spec shows, the API) wraps it in an envelope::

    {"id": "evt_…", "type": "email.bounced", "created_at": "2026-…Z",
     "data": {"email_id": "em_…", "to": [...], "tags": [...], "reason": …, …}}

:func:`parse_event` reads any JSON object and never raises: a payload of a
type this SDK does not know, or with fields missing, still becomes an event
(``type == "unknown"`` for the former, ``None`` / empty values for the
latter), and ``event["raw"]`` always holds the payload whole. What it reads:

- the type from ``type`` (or ``event``, as the API's test deliveries spell it);
- fields from ``data`` when the payload is an envelope, else from the payload
  itself, each under its snake_case or camelCase spelling (the API's objects are
  camelCase, the sandbox's payloads snake_case; the spec promises neither);
- the event id only from an envelope's ``id`` (or an explicit ``event_id``):
  in a flat payload ``id`` may just as well be the email's, and treating that as
  the event's would make two events of one email look like one redelivery.

The type narrows the event under mypy and pyright::

    if event["type"] == "email.bounced":
        event["reason"]  # BouncedEvent: a str or None
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, Literal, TypedDict, cast, get_args

from ._narrow import as_list, as_mapping

TrackingEventType = Literal[
    "email.queued",
    "email.sent",
    "email.delivered",
    "email.deferred",
    "email.bounced",
    "email.soft_bounced",
    "email.opened",
    "email.clicked",
    "email.complained",
    "email.unsubscribed",
    "email.failed",
]
"""The email events (API §5's vocabulary) under the names webhooks subscribe to."""

TRACKING_EVENT_TYPES: tuple[TrackingEventType, ...] = get_args(TrackingEventType)
INBOUND_EVENT_TYPE: Literal["inbound.received"] = "inbound.received"


class _Common(TypedDict):
    id: str | None
    """The event's own id (``evt_…``): the same on every retry and replay of it, so
    it is what redeliveries are recognised by. ``None`` when the payload has none."""
    timestamp: datetime | None
    """When it happened (timezone-aware, UTC), or ``None`` if the payload does not say."""
    raw: dict[str, Any]
    """The payload exactly as delivered (parsed JSON)."""


class _Tracking(_Common):
    email_id: str | None
    """The ``em_…`` id ``emails.send`` returned: match it against what you stored."""
    recipient: str | None
    """The address the event is about: the one named in the payload, else the only ``to``."""
    to: list[str]
    subject: str | None
    tags: list[str]
    metadata: dict[str, Any]
    """The email's metadata, when the payload carries it (else empty)."""


class QueuedEvent(_Tracking):
    type: Literal["email.queued"]


class SentEvent(_Tracking):
    type: Literal["email.sent"]


class DeliveredEvent(_Tracking):
    type: Literal["email.delivered"]


class DeferredEvent(_Tracking):
    type: Literal["email.deferred"]
    reason: str | None
    """Why the receiving server asked to try again later (its SMTP answer)."""


class BouncedEvent(_Tracking):
    """A hard bounce: the address does not exist. PostStack suppresses it."""

    type: Literal["email.bounced"]
    reason: str | None
    """The receiving server's diagnostic (``smtp; 550 5.1.1 …``)."""


class SoftBouncedEvent(_Tracking):
    """A soft bounce: a full mailbox, a message too large; the address may work later."""

    type: Literal["email.soft_bounced"]
    reason: str | None


class OpenedEvent(_Tracking):
    type: Literal["email.opened"]


class ClickedEvent(_Tracking):
    type: Literal["email.clicked"]
    url: str | None
    """The link that was clicked."""


class ComplainedEvent(_Tracking):
    """The recipient marked the email as spam. PostStack suppresses the address."""

    type: Literal["email.complained"]
    feedback_type: str | None
    """The feedback report's type (``abuse``, ``fraud``, …)."""


class UnsubscribedEvent(_Tracking):
    type: Literal["email.unsubscribed"]


class FailedEvent(_Tracking):
    """PostStack did not send the email at all (a suppressed address, a rejection)."""

    type: Literal["email.failed"]
    reason: str | None


class InboundEvent(_Common):
    """Mail arrived on one of your domains (``inbound_emails.get(inbound_id)`` has it all)."""

    type: Literal["inbound.received"]
    inbound_id: int | None
    sender: str | None
    """The ``From`` address."""
    recipient: str | None
    """The address on your domain it was sent to."""
    subject: str | None


class UnknownEvent(_Common):
    """An event this SDK has no type for (contact and domain events, newer ones)."""

    type: Literal["unknown"]
    name: str | None
    """The type as delivered (``contact.created``), or ``None`` if the payload has none."""


TrackingEvent = (
    QueuedEvent
    | SentEvent
    | DeliveredEvent
    | DeferredEvent
    | BouncedEvent
    | SoftBouncedEvent
    | OpenedEvent
    | ClickedEvent
    | ComplainedEvent
    | UnsubscribedEvent
    | FailedEvent
)
"""An event about an email you sent: its delivery, or what its recipient did with it."""

Event = TrackingEvent | InboundEvent | UnknownEvent
"""Whatever a delivery carries: narrow it on ``event["type"]``."""

# The fields some event types add to the tracking ones: the event's key, and the
# payload names it is read from, in order of preference.
_EXTRAS: dict[str, tuple[str, tuple[str, ...]]] = {
    "email.deferred": ("reason", ("reason", "diagnostic_code", "error")),
    "email.bounced": ("reason", ("reason", "diagnostic_code", "error")),
    "email.soft_bounced": ("reason", ("reason", "diagnostic_code", "error")),
    "email.failed": ("reason", ("reason", "error", "diagnostic_code")),
    "email.clicked": ("url", ("url", "link")),
    "email.complained": ("feedback_type", ("feedback_type",)),
}
_TRACKING = frozenset(TRACKING_EVENT_TYPES)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


_spellings: dict[str, tuple[str, ...]] = {}


def _lookup(source: Mapping[str, Any], *names: str) -> object:
    """The first of ``names`` present (and not null) in ``source``, snake_case or camelCase."""
    for name in names:
        spellings = _spellings.get(name)
        if spellings is None:  # a few dozen names: remembered, not recomputed per event
            spellings = _spellings[name] = tuple(dict.fromkeys((name, _camel(name))))
        for spelling in spellings:
            value = source.get(spelling)
            if value is not None:
                return value
    return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _identifier(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    return _text(value)


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    return [item for item in as_list(value) or () if isinstance(item, str)]


def _integer(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


def _timestamp(value: object) -> datetime | None:
    """An ISO 8601 string or seconds since the epoch, as an aware UTC datetime; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            return None
        try:
            return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=value)
        except OverflowError:
            return None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    # Python 3.10's fromisoformat takes 3 or 6 fraction digits only: the API may send 9.
    head, dot, tail = text.partition(".")
    if dot:
        digits = len(tail) - len(tail.lstrip("0123456789"))
        fraction, rest = tail[:digits], tail[digits:]
        text = f"{head}.{(fraction + '000000')[:6]}{rest}" if fraction else text
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)  # an API timestamp without offset is UTC
    return moment.astimezone(timezone.utc)


def _event_name(payload: Mapping[str, Any]) -> str | None:
    """The event type a payload names (``type``, else ``event``), as delivered."""
    return _text(_lookup(payload, "type", "event", "event_type"))


def parse_event(payload: Mapping[str, Any]) -> Event:
    """Normalize a webhook payload (a parsed JSON object) into a typed :data:`Event`.

    Never raises for a JSON object, whatever it holds: see the module's
    docstring for what is read where. ``event["raw"]`` is ``payload`` itself.
    Use it on payloads you already trust, such as a delivery's ``payload``
    from ``webhooks.get_deliveries``; :func:`construct_event` verifies a
    request first and then calls this.
    """
    if as_mapping(payload) is None:
        raise TypeError(f"payload must be a parsed JSON object, got {type(payload).__name__}")
    raw: dict[str, Any] = payload if isinstance(payload, dict) else dict(payload)
    name = _event_name(raw)
    envelope = as_mapping(raw.get("data"))
    data = envelope if envelope is not None else raw
    event_id = _identifier(_lookup(raw, "event_id"))
    if event_id is None and envelope is not None:
        event_id = _identifier(raw.get("id"))
    timestamp = _timestamp(_lookup(data, "timestamp")) or _timestamp(
        _lookup(raw, "created_at", "timestamp")
    )
    if name in _TRACKING:
        return _tracking_event(name, raw, data, event_id, timestamp)
    if name == INBOUND_EVENT_TYPE:
        return InboundEvent(
            type=INBOUND_EVENT_TYPE,
            id=event_id,
            timestamp=timestamp,
            raw=raw,
            inbound_id=_integer(_lookup(data, "inbound_id", "id")),
            sender=_text(_lookup(data, "from", "from_address")),
            recipient=next(iter(_strings(_lookup(data, "to", "to_address"))), None),
            subject=_text(_lookup(data, "subject")),
        )
    return UnknownEvent(type="unknown", id=event_id, timestamp=timestamp, raw=raw, name=name)


def _tracking_event(
    name: str,
    raw: dict[str, Any],
    data: Mapping[str, Any],
    event_id: str | None,
    timestamp: datetime | None,
) -> TrackingEvent:
    to = _strings(_lookup(data, "to"))
    email_id = _text(_lookup(data, "email_id")) or _text(
        data.get("id") if data is not raw else None
    )
    event: dict[str, Any] = {
        "type": name,
        "id": event_id,
        "timestamp": timestamp,
        "raw": raw,
        "email_id": email_id,
        "recipient": _text(_lookup(data, "recipient")) or (to[0] if len(to) == 1 else None),
        "to": to,
        "subject": _text(_lookup(data, "subject")),
        "tags": _strings(_lookup(data, "tags")),
        "metadata": dict(as_mapping(_lookup(data, "metadata")) or {}),
    }
    extra = _EXTRAS.get(name)
    if extra is not None:
        key, names = extra
        event[key] = _text(_lookup(data, *names))
    # The one place a dict becomes a typed event: ``name`` is one of the types and
    # _EXTRAS adds exactly the keys its TypedDict declares (tests/test_events.py).
    return cast("TrackingEvent", event)

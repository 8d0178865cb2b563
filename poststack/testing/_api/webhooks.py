"""``webhooks``: endpoints that receive signed events, their secrets and delivery logs.

Deliveries themselves are the dispatcher's (``_webhook_delivery``); this module
registers endpoints, rotates secrets and reads or replays the delivery log.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from .._http import Reply
from .._models import WebhookDelivery
from .._routing import ApiRequest, Routes, created, ok, success
from .._store import Entity
from .._validation import Fields, bad_request, isoformat, not_found, parse_timestamp, unprocessable
from .._webhook_delivery import WEBHOOK
from ._common import Kind, camel_page

__all__ = ["EMAIL_EVENT_TYPES", "routes"]

routes = Routes()
HOOK = Kind(WEBHOOK, "Webhook")

EMAIL_EVENT_TYPES = frozenset(
    f"email.{name}"
    for name in (
        "queued",
        "sent",
        "delivered",
        "deferred",
        "bounced",
        "soft_bounced",
        "opened",
        "clicked",
        "complained",
        "unsubscribed",
        "failed",
        "scheduled",
        "cancelled",
    )
)
_EVENT_NAME_RE = re.compile(r"^[a-z_]+\.[a-z_]+$")
MAX_GRACE_HOURS = 168
MAX_REPLAY = 1000


def _new_secret() -> str:
    return f"whsec_{secrets.token_hex(24)}"


def _url(value: object) -> str:
    if value is None or value == "":
        raise bad_request("Missing required field: url")
    if not isinstance(value, str):
        raise bad_request("'url' must be a string")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise unprocessable(f"Invalid webhook URL: {value!r}")
    return value


def _events(fields: Fields) -> list[str]:
    names = fields.strings("events", required=True)
    assert names is not None
    for name in names:
        known = name in EMAIL_EVENT_TYPES or (
            not name.startswith("email.") and _EVENT_NAME_RE.match(name)
        )
        if not known:
            raise unprocessable(f"Unknown event type: {name!r}")
    return names


def _find(call: ApiRequest) -> Entity:
    return HOOK.find(call.backend.store, call.param("id"))


@routes.post("/webhooks")
def create(call: ApiRequest) -> Reply:
    fields = call.body()
    url = _url(fields.data.get("url"))
    events = _events(fields)
    secret = _new_secret()
    webhook = HOOK.create(
        call.backend.store,
        {
            "url": url,
            "events": events,
            "active": True,
            "secretRotatedAt": None,
            "previousSecretExpiresAt": None,
            "consecutiveFailures": 0,
            "disabledAt": None,
            "disabledReason": None,
            "lastDeliveryAt": None,
            "lastDeliveryStatus": None,
        },
        now=call.backend.now_iso(),
        private={"secret": secret},
    )
    return created({"webhook": webhook.data, "signingSecret": secret})


@routes.get("/webhooks")
def list_(call: ApiRequest) -> Reply:
    return ok({"webhooks": [w.data for w in HOOK.all(call.backend.store)]})


@routes.get("/webhooks/{id}")
def get(call: ApiRequest) -> Reply:
    return ok({"webhook": _find(call).data})


@routes.patch("/webhooks/{id}")
def update(call: ApiRequest) -> Reply:
    webhook = _find(call)
    fields = call.body()
    changes: dict[str, Any] = {}
    if fields.has("url"):
        changes["url"] = _url(fields.data["url"])
    if fields.has("events"):
        changes["events"] = _events(fields)
    # The API's types call the switch "enabled"; the object shows it as "active".
    for name in ("active", "enabled"):
        if fields.has(name):
            value = fields.flag(name)
            if value is None:
                raise bad_request(f"'{name}' must be a boolean")
            changes["active"] = value
    webhook = HOOK.update(call.backend.store, webhook, changes, now=call.backend.now_iso())
    return ok({"webhook": webhook.data})


@routes.delete("/webhooks/{id}")
def delete(call: ApiRequest) -> Reply:
    HOOK.remove(call.backend.store, _find(call))
    return success()


@routes.post("/webhooks/{id}/rotate-secret")
def rotate_secret(call: ApiRequest) -> Reply:
    webhook = _find(call)
    grace = call.optional_body().integer("graceHours", minimum=0, maximum=MAX_GRACE_HOURS)
    hours = 24 if grace is None else grace
    backend = call.backend
    now = backend.now()
    secret = _new_secret()
    expires = isoformat(now + timedelta(hours=hours)) if hours else None
    webhook = HOOK.update(
        backend.store,
        webhook,
        {"secretRotatedAt": isoformat(now), "previousSecretExpiresAt": expires},
        now=isoformat(now),
        private={"secret": secret, "previous_secret": webhook.private["secret"] if hours else None},
    )
    return ok({"webhook": webhook.data, "signingSecret": secret})


@routes.post("/webhooks/{id}/test")
def test(call: ApiRequest) -> Reply:
    webhook = _find(call)
    data = {"webhook_id": webhook.data["id"], "message": "A test event from the PostStack sandbox"}
    call.backend.webhooks.deliver(webhook, "webhook.test", data)
    return success()


def _deliveries(call: ApiRequest, webhook: Entity) -> list[WebhookDelivery]:
    webhook_id = webhook.data["id"]
    return [d for d in call.backend.store.deliveries.values() if d.webhook_id == webhook_id]


@routes.get("/webhooks/{id}/deliveries")
def get_deliveries(call: ApiRequest) -> Reply:
    webhook = _find(call)
    newest_first = [d.to_api() for d in reversed(_deliveries(call, webhook))]
    return ok(camel_page("deliveries", newest_first, call.query))


def _find_delivery(call: ApiRequest, webhook: Entity, raw: str) -> WebhookDelivery:
    delivery = None
    if raw.isascii() and raw.isdigit():
        delivery = call.backend.store.deliveries.get(int(raw))
    if delivery is None or delivery.webhook_id != webhook.data["id"]:
        raise not_found("Delivery")
    return delivery


@routes.post("/webhooks/{id}/deliveries/{delivery_id}/replay")
def replay(call: ApiRequest) -> Reply:
    webhook = _find(call)
    original = _find_delivery(call, webhook, call.param("delivery_id"))
    call.backend.webhooks.replay(webhook, original)
    return success()


@routes.post("/webhooks/{id}/deliveries/batch-replay")
def batch_replay(call: ApiRequest) -> Reply:
    webhook = _find(call)
    fields = call.optional_body()
    within = fields.integer("withinMinutes", minimum=1)
    event_type = fields.text("eventType")
    limit = fields.integer("limit", minimum=1, maximum=MAX_REPLAY) or MAX_REPLAY
    backend = call.backend
    since = backend.now() - timedelta(minutes=within) if within is not None else None
    replayed_before = set(webhook.private.get("replayed", []))

    def eligible(delivery: WebhookDelivery) -> bool:
        if not delivery.finished or delivery.ok or delivery.id in replayed_before:
            return False
        if event_type is not None and delivery.event_type != event_type:
            return False
        created_at = parse_timestamp(delivery.created_at)
        return since is None or (created_at is not None and created_at >= since)

    failed = [d for d in _deliveries(call, webhook) if eligible(d)]
    batch, rest = failed[:limit], failed[limit:]
    for delivery in batch:
        backend.webhooks.replay(webhook, delivery)
    HOOK.update(
        backend.store,
        webhook,
        {},
        now=backend.now_iso(),
        private={"replayed": sorted(replayed_before | {d.id for d in batch})},
    )
    return ok({"replayed": len(batch), "remaining": len(rest)})

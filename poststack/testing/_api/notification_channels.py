"""``notification_channels``: Slack, Discord and Telegram alerts about account events.

The sandbox never contacts Slack, Discord or Telegram (it makes no network
calls at all): each alert a channel would send is recorded as a delivery with
the platform's usual success answer and a response body that says it was
simulated, so ``list_deliveries``, ``test`` and ``replay_delivery`` behave as
they do for real. Secrets in a channel's config (webhook URLs, bot tokens)
never come back: ``configSummary`` masks them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .._http import Reply
from .._routing import ApiRequest, Routes, created, ok, success
from .._store import Entity
from .._validation import Fields, bad_request, not_found, unprocessable
from ._common import Kind, camel_page
from .webhooks import EMAIL_EVENT_TYPES

if TYPE_CHECKING:
    from .._backend import Backend

__all__ = ["notify", "routes"]

routes = Routes()
CHANNEL = Kind("notification_channel", "Notification channel", prefix="nc", updated_at=True)
DELIVERY = Kind("notification_delivery", "Delivery")
TYPES = ("slack", "discord", "telegram")


def _mask(secret: str) -> str:
    return f"…{secret[-4:]}" if len(secret) > 4 else "…"


def _config(kind: str, given: dict[str, Any], stored: dict[str, Any]) -> dict[str, str]:
    """The full config after merging ``given`` into ``stored`` (update keeps omitted keys)."""
    merged = {**stored, **{k: v for k, v in given.items() if v is not None}}
    if kind in ("slack", "discord"):
        url = merged.get("webhookUrl")
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise unprocessable(f"A {kind} channel needs config.webhookUrl, an http(s) URL")
        assert isinstance(url, str)
        return {"webhookUrl": url}
    token, chat = merged.get("botToken"), merged.get("chatId")
    if not isinstance(token, str) or not token:
        raise unprocessable("A telegram channel needs config.botToken")
    if not isinstance(chat, str | int) or isinstance(chat, bool) or str(chat) == "":
        raise unprocessable("A telegram channel needs config.chatId")
    return {"botToken": token, "chatId": str(chat)}


def _summary(kind: str, config: dict[str, str]) -> dict[str, str]:
    if kind == "telegram":
        return {"botToken": _mask(config["botToken"]), "chatId": config["chatId"]}
    parts = urlsplit(config["webhookUrl"])
    return {"webhookUrl": f"{parts.scheme}://{parts.hostname}/{_mask(config['webhookUrl'])}"}


def _events(fields: Fields, *, required: bool) -> list[str] | None:
    names = fields.strings("events", required=required)
    for name in names or []:
        if name.startswith("email.") and name not in EMAIL_EVENT_TYPES:
            raise unprocessable(f"Unknown event type: {name!r}")
    return names


def _find(call: ApiRequest) -> Entity:
    return CHANNEL.find(call.backend.store, call.param("id"))


def _record(backend: Backend, channel: Entity, event_type: str, payload: dict[str, Any]) -> Entity:
    now = backend.now_iso()
    kind = channel.data["type"]
    delivery = DELIVERY.create(
        backend.store,
        {
            "channelId": channel.data["id"],
            "eventType": event_type,
            "payload": payload,
            "statusCode": 200,
            "responseBody": f"ok (simulated: the sandbox does not contact {kind})",
            "attempts": 1,
            "nextRetryAt": None,
            "deliveredAt": now,
        },
        now=now,
    )
    CHANNEL.update(backend.store, channel, {"lastUsedAt": now}, now=now)
    return delivery


def notify(backend: Backend, event_type: str, data: dict[str, Any]) -> None:
    """Record an alert for every active channel subscribed to ``event_type``."""
    for channel in CHANNEL.all(backend.store):
        info = channel.data
        if not info["active"] or event_type not in info["events"]:
            continue
        if info.get("domainId") is not None and data.get("domain_id") != info["domainId"]:
            continue
        _record(backend, channel, event_type, {"type": event_type, "data": data})


@routes.post("/notification-channels")
def create(call: ApiRequest) -> Reply:
    fields = call.body()
    kind = fields.required_choice("type", TYPES)
    name = fields.required_text("name")
    events = _events(fields, required=True)
    config = _config(kind, fields.mapping("config", required=True) or {}, {})
    channel = CHANNEL.create(
        call.backend.store,
        {
            "type": kind,
            "name": name,
            "events": events,
            "active": True,
            "domainId": fields.integer("domainId", minimum=1),
            "mailboxId": fields.integer("mailboxId", minimum=1),
            "configSummary": _summary(kind, config),
            "consecutiveFailures": 0,
            "disabledAt": None,
            "disabledReason": None,
            "lastUsedAt": None,
        },
        now=call.backend.now_iso(),
        private={"config": config},
    )
    return created({"channel": channel.data})


@routes.get("/notification-channels")
def list_(call: ApiRequest) -> Reply:
    return ok({"channels": [c.data for c in CHANNEL.all(call.backend.store)]})


@routes.get("/notification-channels/{id}")
def get(call: ApiRequest) -> Reply:
    return ok({"channel": _find(call).data})


@routes.put("/notification-channels/{id}")
def update(call: ApiRequest) -> Reply:
    """A PUT with partial-update semantics: fields and config keys left out are kept."""
    channel = _find(call)
    fields = call.body()
    changes: dict[str, Any] = {}
    if fields.has("name"):
        changes["name"] = fields.required_text("name")
    if fields.has("events"):
        changes["events"] = _events(fields, required=True)
    for key in ("domainId", "mailboxId"):
        if fields.has(key):
            changes[key] = fields.integer(key, minimum=1)
    if fields.has("enabled"):
        enabled = fields.flag("enabled")
        if enabled is None:
            raise bad_request("'enabled' must be a boolean")
        changes["active"] = enabled
    config = channel.private["config"]
    if fields.has("config"):
        config = _config(channel.data["type"], fields.mapping("config") or {}, config)
        changes["configSummary"] = _summary(channel.data["type"], config)
    channel = CHANNEL.update(
        call.backend.store, channel, changes, now=call.backend.now_iso(), private={"config": config}
    )
    return ok({"channel": channel.data})


@routes.delete("/notification-channels/{id}")
def delete(call: ApiRequest) -> Reply:
    CHANNEL.remove(call.backend.store, _find(call))
    return success()


@routes.post("/notification-channels/{id}/test")
def test(call: ApiRequest) -> Reply:
    channel = _find(call)
    payload = {"type": "channel.test", "data": {"message": "A test alert from the sandbox"}}
    delivery = _record(call.backend, channel, "channel.test", payload)
    return ok(
        {
            "success": True,
            "statusCode": delivery.data["statusCode"],
            "responseBody": delivery.data["responseBody"],
        }
    )


def _deliveries(call: ApiRequest, channel: Entity) -> list[Entity]:
    channel_id = channel.data["id"]
    return [d for d in DELIVERY.all(call.backend.store) if d.data["channelId"] == channel_id]


@routes.get("/notification-channels/{id}/deliveries")
def list_deliveries(call: ApiRequest) -> Reply:
    channel = _find(call)
    newest_first = [d.data for d in reversed(_deliveries(call, channel))]
    return ok(camel_page("deliveries", newest_first, call.query, meta_key="meta"))


@routes.post("/notification-channels/{id}/deliveries/{delivery_id}/replay")
def replay_delivery(call: ApiRequest) -> Reply:
    channel = _find(call)
    raw = call.param("delivery_id")
    original = DELIVERY.find(call.backend.store, raw)
    if original.data["channelId"] != channel.data["id"]:
        raise not_found("Delivery")
    _record(call.backend, channel, original.data["eventType"], original.data["payload"])
    return success()

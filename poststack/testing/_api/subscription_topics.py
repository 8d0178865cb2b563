"""``subscription_topics``: what contacts opted in to, one subscription per contact and topic.

Subscribing twice is not an error (the subscription is simply on); unsubscribing
keeps the record with ``subscribed: false``, which is how ``list_subscribers``
with ``subscribed=false`` finds those who opted out. Subscribing fires a
``contact.subscribed`` webhook and starts ``contact.subscribed`` workflows.
"""

from __future__ import annotations

from typing import Any

from .._http import Reply
from .._routing import ApiRequest, Routes, created, ok, success
from .._store import Entity
from .._validation import not_found
from ._common import Kind, query_flag, snake_page
from .contacts import CONTACT

__all__ = ["TOPIC", "routes", "set_subscription"]

routes = Routes()
TOPIC = Kind("subscription_topic", "Subscription topic", prefix="top")
SUBSCRIPTION = Kind("topic_subscription", "Subscription", updated_at=True)


def _pair(topic: Entity, contact: Entity) -> str:
    return f"pair:{topic.data['id']}:{contact.data['id']}"


def _subscriptions(
    call: ApiRequest, *, topic: Entity | None = None, contact: Entity | None = None
) -> list[Entity]:
    out: list[Entity] = []
    for item in SUBSCRIPTION.all(call.backend.store):
        if topic is not None and item.data["topicId"] != topic.data["id"]:
            continue
        if contact is not None and item.data["contactId"] != contact.data["id"]:
            continue
        out.append(item)
    return out


def set_subscription(
    call: ApiRequest, topic: Entity, contact: Entity, subscribed: bool
) -> dict[str, Any]:
    """Turn a contact's subscription to a topic on or off; the ContactSubscription object."""
    store = call.backend.store
    now = call.backend.now_iso()
    existing = store.get(SUBSCRIPTION.name, _pair(topic, contact))
    if existing is None:
        entry = SUBSCRIPTION.create(
            store,
            {
                "topicId": topic.data["id"],
                "contactId": contact.data["id"],
                "subscribed": subscribed,
                "subscribedAt": now,
            },
            now=now,
            aliases=(_pair(topic, contact),),
        )
    else:
        changes: dict[str, Any] = {"subscribed": subscribed}
        if subscribed and not existing.data["subscribed"]:
            changes["subscribedAt"] = now
        entry = SUBSCRIPTION.update(store, existing, changes, now=now)
    if subscribed:
        call.backend.emit(
            "contact.subscribed",
            {"id": contact.key, "email": contact.data["email"], "topic_id": topic.key},
        )
        from .workflows import enroll

        enroll(call, "contact.subscribed", contact)
    return {**entry.data, "topic": topic.data}


def _find(call: ApiRequest) -> Entity:
    return TOPIC.find(call.backend.store, call.param("id"))


@routes.post("/subscription-topics")
def create(call: ApiRequest) -> Reply:
    fields = call.body()
    topic = TOPIC.create(
        call.backend.store,
        {"name": fields.required_text("name"), "description": fields.text("description")},
        now=call.backend.now_iso(),
    )
    return created({"topic": topic.data})


@routes.get("/subscription-topics")
def list_(call: ApiRequest) -> Reply:
    return ok({"topics": [t.data for t in TOPIC.all(call.backend.store)]})


@routes.get("/subscription-topics/{id}")
def get(call: ApiRequest) -> Reply:
    topic = _find(call)
    subscriptions = _subscriptions(call, topic=topic)
    on = sum(1 for s in subscriptions if s.data["subscribed"])
    return ok(
        {"topic": topic.data, "subscriberCount": on, "unsubscribedCount": len(subscriptions) - on}
    )


@routes.patch("/subscription-topics/{id}")
def update(call: ApiRequest) -> Reply:
    topic = _find(call)
    fields = call.body()
    changes: dict[str, Any] = {}
    if fields.has("name"):
        changes["name"] = fields.required_text("name")
    if fields.has("description"):
        changes["description"] = fields.text("description")
    topic = TOPIC.update(call.backend.store, topic, changes, now=call.backend.now_iso())
    return ok({"topic": topic.data})


@routes.delete("/subscription-topics/{id}")
def delete(call: ApiRequest) -> Reply:
    topic = _find(call)
    for item in _subscriptions(call, topic=topic):
        SUBSCRIPTION.remove(call.backend.store, item)
    TOPIC.remove(call.backend.store, topic)
    return success()


@routes.get("/subscription-topics/{id}/subscribers")
def list_subscribers(call: ApiRequest) -> Reply:
    topic = _find(call)
    wanted = query_flag(call.query, "subscribed")
    wanted = True if wanted is None else wanted
    store = call.backend.store
    rows: list[dict[str, Any]] = []
    for item in _subscriptions(call, topic=topic):
        if item.data["subscribed"] != wanted:
            continue
        contact = store.get(CONTACT.name, str(item.data["contactId"]))
        if contact is None:
            continue
        rows.append(
            {
                "contactId": contact.data["id"],
                "contactPublicId": contact.key,
                "email": contact.data["email"],
                "firstName": contact.data.get("firstName"),
                "lastName": contact.data.get("lastName"),
                "subscribedAt": item.data["subscribedAt"],
            }
        )
    return ok(snake_page("subscribers", rows, call.query, default=50))


def _contact(call: ApiRequest) -> Entity:
    return CONTACT.find(call.backend.store, call.param("contact_id"))


@routes.get("/subscription-topics/contacts/{contact_id}/subscriptions")
def get_contact_subscriptions(call: ApiRequest) -> Reply:
    contact = _contact(call)
    store = call.backend.store
    items: list[dict[str, Any]] = []
    for item in _subscriptions(call, contact=contact):
        topic = store.get(TOPIC.name, str(item.data["topicId"]))
        items.append({**item.data, "topic": topic.data if topic is not None else None})
    return ok({"subscriptions": items})


@routes.post("/subscription-topics/contacts/{contact_id}/subscriptions")
def subscribe(call: ApiRequest) -> Reply:
    contact = _contact(call)
    topic_ref = call.body().required_text("topic_id")
    topic = TOPIC.find(call.backend.store, topic_ref)
    return ok({"subscription": set_subscription(call, topic, contact, True)})


@routes.delete("/subscription-topics/contacts/{contact_id}/subscriptions/{topic_id}")
def unsubscribe(call: ApiRequest) -> Reply:
    contact = _contact(call)
    topic = TOPIC.find(call.backend.store, call.param("topic_id"))
    if call.backend.store.get(SUBSCRIPTION.name, _pair(topic, contact)) is None:
        raise not_found("Subscription")
    return ok({"subscription": set_subscription(call, topic, contact, False)})

"""``broadcasts``: one email to a segment's contacts, with A/B tests and performance.

Sending a broadcast sends real emails through the normal path, one per member
of its audience: the segment's contacts (only those subscribed to the topic,
when it has one), minus unsubscribed contacts and suppressed addresses. They
appear in the inbox and run their lifecycle, so a broadcast's counts
(delivered, opened, clicked, bounced) are those of its emails, always current.
A broadcast with a future ``scheduled_at`` sends its emails scheduled for that
time: it is ``queued`` until they leave, and ``cancel`` cancels them.

With an ``ab_test``, ``test_sample_size`` percent of the audience (all of it
by default) is split among the variants by weight; ``end_ab_test`` picks the
variant with the best open rate (then click rate; the first on a tie) and
sends it to the rest.
"""

from __future__ import annotations

import math
from typing import Any

from .._http import Reply
from .._models import SandboxEmail
from .._routing import ApiRequest, Routes, created, ok, success
from .._store import Entity
from .._validation import (
    Fields,
    JSONObject,
    bad_request,
    conflict,
    isoformat,
    parse_timestamp,
    unprocessable,
)
from . import emails
from ._common import Kind, query_int, snake_page
from .contacts import CONTACT
from .segments import SEGMENT, members
from .suppressions import suppressed_among

__all__ = ["BROADCAST", "routes"]

routes = Routes()
BROADCAST = Kind("broadcast", "Broadcast", prefix="bc")
METRICS = ("open_rate", "click_rate", "delivered")
_IN_PROGRESS = ("scheduled", "queued", "sent", "deferred")
MAX_TEST_RECIPIENTS = 5


def _emails_of(call: ApiRequest, broadcast: Entity) -> list[SandboxEmail]:
    return [e for e in call.backend.store.emails.values() if e.broadcast_id == broadcast.key]


def _counts(found: list[SandboxEmail]) -> dict[str, int]:
    def has(email: SandboxEmail, kind: str) -> bool:
        return any(event.type == kind for event in email.events)

    return {
        "delivered": sum(1 for e in found if has(e, "delivered")),
        "opened": sum(1 for e in found if has(e, "opened")),
        "clicked": sum(1 for e in found if has(e, "clicked")),
        "bounced": sum(1 for e in found if e.status == "bounced"),
    }


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _status(call: ApiRequest, broadcast: Entity, found: list[SandboxEmail]) -> str:
    status: str = broadcast.data["status"]
    if status == "queued" and not any(e.status == "scheduled" for e in found):
        return "sent"
    return status


def view(call: ApiRequest, broadcast: Entity) -> dict[str, Any]:
    """The Broadcast object with its counts as of now."""
    found = _emails_of(call, broadcast)
    counts = _counts(found)
    total = len(found) if broadcast.data["status"] != "draft" else len(_audience(call, broadcast))
    return {
        **broadcast.data,
        "status": _status(call, broadcast, found),
        "totalRecipients": total,
        "deliveredCount": counts["delivered"],
        "openedCount": counts["opened"],
        "clickedCount": counts["clicked"],
        "bouncedCount": counts["bounced"],
    }


def _audience(call: ApiRequest, broadcast: Entity) -> list[Entity]:
    from .subscription_topics import SUBSCRIPTION

    store = call.backend.store
    segment = store.get(SEGMENT.name, str(broadcast.data["segmentId"]))
    if segment is None:
        return []
    topic_id = broadcast.private.get("topic_id")
    subscribed = None
    if topic_id is not None:
        subscribed = {
            s.data["contactId"]
            for s in SUBSCRIPTION.all(store)
            if s.data["topicId"] == topic_id and s.data["subscribed"]
        }
    audience: list[Entity] = []
    for contact in members(call, segment):
        if contact.data["unsubscribed"]:
            continue
        if subscribed is not None and contact.data["id"] not in subscribed:
            continue
        if suppressed_among(store, [contact.data["email"]]):
            continue
        audience.append(contact)
    return audience


def _ab_test(fields: Fields) -> JSONObject | None:
    raw = fields.mapping("ab_test")
    if raw is None:
        return None
    test = Fields(raw, "ab_test: ")
    variants = test.objects("variants", required=True)
    assert variants is not None
    if len(variants) < 2:
        raise unprocessable("ab_test: an A/B test needs at least two variants")
    checked: list[JSONObject] = []
    for index, item in enumerate(variants):
        variant = Fields(item, f"ab_test.variants[{index}]: ")
        checked.append(
            {
                "name": variant.text("name") or chr(ord("A") + index),
                "subject": variant.text("subject"),
                "html": variant.text("html"),
                "text": variant.text("text"),
                "weight": variant.integer("weight", minimum=1, maximum=100, required=True),
            }
        )
    if sum(v["weight"] for v in checked) != 100:
        raise unprocessable("ab_test: the variants' weights must add up to 100")
    return {
        "variants": checked,
        "test_sample_size": test.integer("test_sample_size", minimum=1, maximum=100) or 100,
        "test_duration_minutes": test.integer("test_duration_minutes", minimum=1),
    }


def _content(
    call: ApiRequest, fields: Fields, *, creating: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The Broadcast object's changes and the private ones, from create/update input."""
    store = call.backend.store
    data: dict[str, Any] = {}
    private: dict[str, Any] = {}
    if creating or fields.has("from"):
        address = fields.address("from", required=True)
        assert address is not None
        private["from"] = fields.data["from"]
    if creating or fields.has("subject"):
        data["subject"] = fields.required_text("subject")
    if creating or fields.has("segment_id"):
        segment = SEGMENT.find(store, fields.required_text("segment_id"))
        data["segmentId"] = segment.data["id"]
        data["segmentPublicId"] = segment.key
    if fields.has("name"):
        data["name"] = fields.text("name")
    for key in ("html", "text", "reply_to"):
        if fields.has(key):
            private[key] = fields.text(key)
    if fields.has("reply_to") and private["reply_to"] is not None:
        fields.addresses("reply_to")
    if fields.has("scheduled_at"):
        moment = fields.timestamp("scheduled_at")
        data["scheduledAt"] = isoformat(moment) if moment is not None else None
    if fields.has("topic_id"):
        from .subscription_topics import TOPIC

        ref = fields.text("topic_id")
        topic = TOPIC.find(store, ref) if ref else None
        data["topicPublicId"] = topic.key if topic is not None else None
        private["topic_id"] = topic.data["id"] if topic is not None else None
    if fields.has("ab_test"):
        private["ab_test"] = _ab_test(fields)
    return data, private


def _find(call: ApiRequest) -> Entity:
    return BROADCAST.find(call.backend.store, call.param("id"))


@routes.post("/broadcasts")
def create(call: ApiRequest) -> Reply:
    fields = call.body()
    data, private = _content(call, fields, creating=True)
    defaults: dict[str, Any] = {
        "name": None,
        "status": "draft",
        "totalRecipients": 0,
        "deliveredCount": 0,
        "openedCount": 0,
        "clickedCount": 0,
        "bouncedCount": 0,
        "segmentPublicId": None,
        "topicPublicId": None,
        "segmentId": None,
        "sentAt": None,
        "scheduledAt": None,
    }
    broadcast = BROADCAST.create(
        call.backend.store,
        {**defaults, **data},
        now=call.backend.now_iso(),
        private={
            "html": None,
            "text": None,
            "reply_to": None,
            "topic_id": None,
            "ab_test": None,
            **private,
        },
    )
    return created({"broadcast": view(call, broadcast)})


@routes.get("/broadcasts")
def list_(call: ApiRequest) -> Reply:
    search = (call.query.get("search") or "").lower()
    wanted = call.query.get("status")
    items: list[dict[str, Any]] = []
    for broadcast in reversed(BROADCAST.all(call.backend.store)):
        shown = view(call, broadcast)
        text = f"{shown.get('name') or ''} {shown['subject']}".lower()
        if search in text and (not wanted or shown["status"] == wanted):
            items.append(shown)
    return ok(snake_page("broadcasts", items, call.query))


@routes.get("/broadcasts/performance")
def list_performance(call: ApiRequest) -> Reply:
    metric = call.query.get("metric") or "click_rate"
    if metric not in METRICS:
        raise unprocessable(f"Unknown metric: {metric!r} (one of {', '.join(METRICS)})")
    since_raw = call.query.get("since")
    since = parse_timestamp(since_raw) if since_raw else None
    if since_raw and since is None:
        raise bad_request("'since' must be an ISO 8601 timestamp")
    limit = query_int(call.query, "limit", default=10, minimum=1, maximum=100)
    rows: list[dict[str, Any]] = []
    for broadcast in BROADCAST.all(call.backend.store):
        sent = parse_timestamp(broadcast.data.get("sentAt") or "")
        if sent is None or (since is not None and sent < since):
            continue
        rows.append(_performance_row(call, broadcast))
    rows.sort(key=lambda row: row[metric], reverse=True)
    return ok({"metric": metric, "since": since_raw, "broadcasts": rows[:limit]})


@routes.get("/broadcasts/{id}")
def get(call: ApiRequest) -> Reply:
    return ok({"broadcast": view(call, _find(call))})


@routes.patch("/broadcasts/{id}")
def update(call: ApiRequest) -> Reply:
    broadcast = _find(call)
    if broadcast.data["status"] != "draft":
        raise conflict(f"Only a draft broadcast can change (status: {broadcast.data['status']})")
    data, private = _content(call, call.body(), creating=False)
    broadcast = BROADCAST.update(
        call.backend.store, broadcast, data, now=call.backend.now_iso(), private=private
    )
    return ok({"broadcast": view(call, broadcast)})


def _payload(broadcast: Entity, contact: Entity, variant: JSONObject | None) -> dict[str, Any]:
    private = broadcast.private
    payload: dict[str, Any] = {
        "from": private["from"],
        "to": [contact.data["email"]],
        "subject": (variant or {}).get("subject") or broadcast.data["subject"],
        "tags": [f"broadcast:{broadcast.key}"],
    }
    for key in ("html", "text"):
        value = (variant or {}).get(key) or private.get(key)
        if value is not None:
            payload[key] = value
    if private.get("reply_to"):
        payload["reply_to"] = private["reply_to"]
    if broadcast.data.get("scheduledAt"):
        payload["scheduled_at"] = broadcast.data["scheduledAt"]
    return payload


def _send_to(
    call: ApiRequest, broadcast: Entity, contacts: list[Entity], variant: JSONObject | None
) -> list[SandboxEmail]:
    drafts = [emails.draft(call, _payload(broadcast, contact, variant)) for contact in contacts]
    return emails.accept(call, drafts, broadcast_id=broadcast.key)


def _split(audience: list[Entity], variants: list[JSONObject]) -> list[list[Entity]]:
    """Contacts per variant, in proportion to the weights (the first variants round up)."""
    groups: list[list[Entity]] = []
    start = 0
    for index, variant in enumerate(variants):
        if index == len(variants) - 1:
            size = len(audience) - start
        else:
            size = math.ceil(len(audience) * variant["weight"] / 100)
        groups.append(audience[start : start + size])
        start += size
    return groups


@routes.post("/broadcasts/{id}/send")
def send(call: ApiRequest) -> Reply:
    broadcast = _find(call)
    if broadcast.data["status"] != "draft":
        raise conflict(f"Only a draft broadcast can be sent (status: {broadcast.data['status']})")
    private = broadcast.private
    if not private.get("html") and not private.get("text"):
        raise unprocessable("Add html or text to the broadcast before sending it")
    audience = _audience(call, broadcast)
    test = private.get("ab_test")
    assignments: dict[str, int] = {}
    holdout: list[str] = []
    variants: list[JSONObject] = []
    if test is None:
        _send_to(call, broadcast, audience, None)
    else:
        sample = math.ceil(len(audience) * test["test_sample_size"] / 100)
        tested, rest = audience[:sample], audience[sample:]
        holdout = [c.key for c in rest]
        for variant, group in zip(test["variants"], _split(tested, test["variants"]), strict=True):
            variant_id = call.backend.store.next_id("broadcast_variant")
            variants.append({**variant, "id": variant_id})
            for email in _send_to(call, broadcast, group, variant):
                assignments[email.id] = variant_id
    scheduled = parse_timestamp(broadcast.data.get("scheduledAt") or "")
    now = call.backend.now()
    later = scheduled is not None and scheduled > now
    BROADCAST.update(
        call.backend.store,
        broadcast,
        {
            "status": "queued" if later else "sent",
            "sentAt": broadcast.data["scheduledAt"] if later else isoformat(now),
        },
        now=isoformat(now),
        private={
            "variants": variants,
            "assignments": assignments,
            "holdout": holdout,
            "winner": None,
        },
    )
    return success()


@routes.post("/broadcasts/{id}/cancel")
def cancel(call: ApiRequest) -> Reply:
    broadcast = _find(call)
    found = _emails_of(call, broadcast)
    status = _status(call, broadcast, found)
    if status not in ("draft", "queued"):
        raise conflict(f"A {status} broadcast cannot be cancelled")
    for email in found:
        if email.status == "scheduled":
            call.backend.lifecycle.cancel(email)
    BROADCAST.update(
        call.backend.store, broadcast, {"status": "cancelled"}, now=call.backend.now_iso()
    )
    return success()


@routes.post("/broadcasts/{id}/test")
def send_test(call: ApiRequest) -> Reply:
    broadcast = _find(call)
    fields = call.body()
    recipients = list(fields.addresses("to", max_items=MAX_TEST_RECIPIENTS))
    single = fields.address("email")
    if single is not None:
        recipients.append(single.address)
    if not recipients:
        raise bad_request("Missing required field: to (or email)")
    private = broadcast.private
    if not private.get("html") and not private.get("text"):
        raise unprocessable("Add html or text to the broadcast before testing it")
    payload: dict[str, Any] = {
        "from": private["from"],
        "to": recipients,
        "subject": f"[Test] {broadcast.data['subject']}",
        "tags": [f"broadcast-test:{broadcast.key}"],
    }
    for key in ("html", "text"):
        if private.get(key):
            payload[key] = private[key]
    emails.accept(call, [emails.draft(call, payload)])
    return success()


def _variant_rows(call: ApiRequest, broadcast: Entity) -> list[dict[str, Any]]:
    assignments: dict[str, int] = broadcast.private.get("assignments", {})
    found = _emails_of(call, broadcast)
    rows: list[dict[str, Any]] = []
    for variant in broadcast.private.get("variants", []):
        mine = [e for e in found if assignments.get(e.id) == variant["id"]]
        counts = _counts(mine)
        rows.append(
            {
                "id": variant["id"],
                "name": variant["name"],
                "subject": variant.get("subject") or broadcast.data["subject"],
                "weight": variant["weight"],
                "recipientCount": len(mine),
                "deliveredCount": counts["delivered"],
                "openedCount": counts["opened"],
                "clickedCount": counts["clicked"],
                "bouncedCount": counts["bounced"],
                "openRate": _rate(counts["opened"], len(mine)),
                "clickRate": _rate(counts["clicked"], len(mine)),
            }
        )
    return rows


@routes.get("/broadcasts/{id}/variants")
def get_variants(call: ApiRequest) -> Reply:
    return ok({"variants": _variant_rows(call, _find(call))})


@routes.get("/broadcasts/{id}/variant-stats")
def get_variant_stats(call: ApiRequest) -> Reply:
    broadcast = _find(call)
    return ok(
        {
            "variants": _variant_rows(call, broadcast),
            "winnerVariantId": broadcast.private.get("winner"),
        }
    )


@routes.post("/broadcasts/{id}/end-ab-test")
def end_ab_test(call: ApiRequest) -> Reply:
    broadcast = _find(call)
    if not broadcast.private.get("variants"):
        raise unprocessable("This broadcast has no A/B test running")
    if broadcast.private.get("winner") is not None:
        raise conflict("This broadcast's A/B test has ended already")
    rows = _variant_rows(call, broadcast)
    best = max(rows, key=lambda row: (row["openRate"], row["clickRate"], -rows.index(row)))
    winner = next(v for v in broadcast.private["variants"] if v["id"] == best["id"])
    store = call.backend.store
    rest = [
        c for key in broadcast.private.get("holdout", []) if (c := store.get(CONTACT.name, key))
    ]
    assignments = dict(broadcast.private.get("assignments", {}))
    for email in _send_to(call, broadcast, rest, winner):
        assignments[email.id] = winner["id"]
    BROADCAST.update(
        store,
        broadcast,
        {},
        now=call.backend.now_iso(),
        private={"winner": winner["id"], "holdout": [], "assignments": assignments},
    )
    return success()


def _performance_row(call: ApiRequest, broadcast: Entity) -> dict[str, Any]:
    found = _emails_of(call, broadcast)
    counts = _counts(found)
    total = len(found)
    return {
        "id": broadcast.key,
        "subject": broadcast.data["subject"],
        "status": _status(call, broadcast, found),
        "sent_at": broadcast.data.get("sentAt"),
        "total_recipients": total,
        "delivered": counts["delivered"],
        "opened": counts["opened"],
        "clicked": counts["clicked"],
        "bounced": counts["bounced"],
        "open_rate": _rate(counts["opened"], total),
        "click_rate": _rate(counts["clicked"], total),
        "in_progress": sum(1 for e in found if e.status in _IN_PROGRESS),
    }


@routes.get("/broadcasts/{id}/performance")
def performance(call: ApiRequest) -> Reply:
    broadcast = _find(call)
    variants = None
    if broadcast.private.get("variants"):
        variants = {
            "variants": _variant_rows(call, broadcast),
            "winnerVariantId": broadcast.private.get("winner"),
        }
    return ok({"broadcast": _performance_row(call, broadcast), "variants": variants})


def _non_responders(call: ApiRequest, broadcast: Entity, event: str) -> list[Entity]:
    store = call.backend.store
    out: list[Entity] = []
    for email in _emails_of(call, broadcast):
        if any(e.type == event for e in email.events):
            continue
        contact = store.get(CONTACT.name, f"email:{email.to[0].lower()}")
        if contact is not None:
            out.append(contact)
    return out


def _non_responders_reply(call: ApiRequest, event: str) -> Reply:
    broadcast = _find(call)
    contacts = _non_responders(call, broadcast, event)
    limit = query_int(call.query, "limit", default=100, minimum=0, maximum=10_000)
    return ok(
        {
            "broadcast": {"id": broadcast.key, "subject": broadcast.data["subject"]},
            "count": len(contacts),
            "contacts": [
                {
                    "id": c.data["id"],
                    "email": c.data["email"],
                    "first_name": c.data.get("firstName"),
                    "last_name": c.data.get("lastName"),
                }
                for c in contacts[:limit]
            ],
        }
    )


@routes.get("/broadcasts/{id}/non-openers")
def non_openers(call: ApiRequest) -> Reply:
    return _non_responders_reply(call, "opened")


@routes.get("/broadcasts/{id}/non-clickers")
def non_clickers(call: ApiRequest) -> Reply:
    return _non_responders_reply(call, "clicked")


@routes.post("/broadcasts/{id}/resend")
def resend(call: ApiRequest) -> Reply:
    broadcast = _find(call)
    if _status(call, broadcast, _emails_of(call, broadcast)) != "sent":
        raise conflict("Only a sent broadcast can be resent")
    fields = call.optional_body()
    target = fields.choice("target", ("non_openers", "non_clickers"), default="non_openers")
    assert target is not None
    contacts = _non_responders(call, broadcast, "opened" if target == "non_openers" else "clicked")
    store = call.backend.store
    now = call.backend.now_iso()
    segment = SEGMENT.create(
        store,
        {
            "name": f"{target.replace('_', '-')} of {broadcast.data['subject']}",
            "description": f"Who did not respond to {broadcast.key}",
            "rules": None,
            "contactCount": len(contacts),
        },
        now=now,
        private={"members": {c.key: now for c in contacts}},
    )
    subject = fields.text("subject") or broadcast.data["subject"]
    copy = BROADCAST.create(
        store,
        {
            **{k: v for k, v in broadcast.data.items() if k not in ("id", "publicId", "createdAt")},
            "subject": subject,
            "status": "draft",
            "segmentId": segment.data["id"],
            "segmentPublicId": segment.key,
            "sentAt": None,
            "scheduledAt": None,
        },
        now=now,
        private={
            key: broadcast.private.get(key)
            for key in ("from", "html", "text", "reply_to", "topic_id")
        },
    )
    return created(
        {
            "broadcast": {"id": copy.key, "subject": subject, "status": "draft"},
            "segment": {
                "id": segment.data["id"],
                "publicId": segment.key,
                "name": segment.data["name"],
            },
            "recipientCount": len(contacts),
        }
    )

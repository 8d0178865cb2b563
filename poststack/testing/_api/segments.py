"""``segments``: groups of contacts, by rules, by hand, or both.

A segment's members are the contacts its ``rules`` match (evaluated now, so
they follow the contacts as they change) plus those added with
``add_contacts``. ``contactCount`` is always the current number of members.
Rules: ``{"operator": "and"|"or", "conditions": [{field, comparator, value,
windowDays?}]}``; a field is ``email``, ``first_name``, ``last_name``,
``unsubscribed``, ``created_at`` or the name of a property (``properties.x``
or just ``x``). Text comparisons ignore case.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from .._http import Reply
from .._routing import ApiRequest, Routes, created, ok, success
from .._store import Entity
from .._validation import Fields, bad_request, parse_timestamp
from ._common import Kind, obj, query_int, snake_page
from .contacts import CONTACT, activity, view

__all__ = ["SEGMENT", "members", "routes"]

routes = Routes()
SEGMENT = Kind("segment", "Segment", prefix="seg")
MAX_ADD = 1000
COMPARATORS = (
    "equals",
    "not_equals",
    "contains",
    "starts_with",
    "ends_with",
    "greater_than",
    "less_than",
    "greater_than_or_equal",
    "less_than_or_equal",
    "before",
    "after",
    "in_last_days",
    "is_set",
    "is_not_set",
)
_NEEDS_NO_VALUE = ("is_set", "is_not_set", "in_last_days")
_FIELDS = {
    "email": "email",
    "first_name": "firstName",
    "firstName": "firstName",
    "last_name": "lastName",
    "lastName": "lastName",
    "unsubscribed": "unsubscribed",
    "created_at": "createdAt",
    "createdAt": "createdAt",
}


def check_rules(value: object) -> dict[str, Any]:
    """A rules object, checked (400 for its shape, 422 for unknown comparators)."""
    if not isinstance(value, dict):
        raise bad_request("'rules' must be an object")
    fields = Fields(value, "rules: ")  # pyright: ignore[reportUnknownArgumentType]
    operator = fields.required_choice("operator", ("and", "or"))
    conditions = fields.objects("conditions", required=True)
    assert conditions is not None
    for index, condition in enumerate(conditions):
        item = Fields(condition, f"rules.conditions[{index}]: ")
        item.required_text("field")
        comparator = item.required_choice("comparator", COMPARATORS)
        if comparator not in _NEEDS_NO_VALUE and "value" not in condition:
            raise bad_request(f"rules.conditions[{index}]: Missing required field: value")
        item.integer("windowDays", minimum=1)
    return {"operator": operator, "conditions": conditions}


def _value_of(contact: Entity, field: str) -> object:
    if field in _FIELDS:
        return contact.data.get(_FIELDS[field])
    return obj(contact.data.get("properties")).get(field.removeprefix("properties."))


def _as_number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def _as_time(value: object) -> datetime | None:
    return parse_timestamp(value) if isinstance(value, str) else None


def _compare(
    actual: object, comparator: str, wanted: object, condition: dict[str, Any], now: datetime
) -> bool:
    if comparator == "is_set":
        return actual not in (None, "")
    if comparator == "is_not_set":
        return actual in (None, "")
    if actual is None:
        return comparator == "not_equals"
    text, needle = str(actual).lower(), str(wanted).lower()
    if isinstance(actual, bool):
        text = "true" if actual else "false"
    if isinstance(wanted, bool):
        needle = "true" if wanted else "false"
    string_checks: dict[str, Callable[[], bool]] = {
        "equals": lambda: text == needle,
        "not_equals": lambda: text != needle,
        "contains": lambda: needle in text,
        "starts_with": lambda: text.startswith(needle),
        "ends_with": lambda: text.endswith(needle),
    }
    if comparator in string_checks:
        return string_checks[comparator]()
    if comparator in ("before", "after", "in_last_days"):
        moment = _as_time(actual)
        if moment is None:
            return False
        if comparator == "in_last_days":
            days = condition.get("windowDays") or _as_number(wanted) or 0
            return moment >= now - timedelta(days=float(days))
        bound = _as_time(wanted)
        return bound is not None and (moment < bound if comparator == "before" else moment > bound)
    left, right = _as_number(actual), _as_number(wanted)
    if left is None or right is None:
        return False
    return {
        "greater_than": left > right,
        "less_than": left < right,
        "greater_than_or_equal": left >= right,
        "less_than_or_equal": left <= right,
    }[comparator]


def matches(rules: dict[str, Any], contact: Entity, now: datetime) -> bool:
    results = (
        _compare(_value_of(contact, c["field"]), c["comparator"], c.get("value"), c, now)
        for c in rules["conditions"]
    )
    return all(results) if rules["operator"] == "and" else any(results)


def members(call: ApiRequest, segment: Entity) -> list[Entity]:
    """The segment's contacts now, oldest first: rule matches and manual members."""
    rules = segment.data.get("rules")
    manual = set(segment.private.get("members", {}))
    now = call.backend.now()
    return [
        contact
        for contact in CONTACT.all(call.backend.store)
        if contact.key in manual or (rules is not None and matches(rules, contact, now))
    ]


def view_segment(call: ApiRequest, segment: Entity) -> dict[str, Any]:
    return {**segment.data, "contactCount": len(members(call, segment))}


def _find(call: ApiRequest) -> Entity:
    return SEGMENT.find(call.backend.store, call.param("id"))


@routes.post("/segments")
def create(call: ApiRequest) -> Reply:
    fields = call.body()
    name = fields.required_text("name")
    rules = check_rules(fields.data["rules"]) if fields.data.get("rules") is not None else None
    segment = SEGMENT.create(
        call.backend.store,
        {
            "name": name,
            "description": fields.text("description"),
            "rules": rules,
            "contactCount": 0,
        },
        now=call.backend.now_iso(),
        private={"members": {}},
    )
    return created({"segment": view_segment(call, segment)})


@routes.get("/segments")
def list_(call: ApiRequest) -> Reply:
    return ok({"segments": [view_segment(call, s) for s in SEGMENT.all(call.backend.store)]})


@routes.get("/segments/{id}")
def get(call: ApiRequest) -> Reply:
    return ok({"segment": view_segment(call, _find(call))})


@routes.patch("/segments/{id}")
def update(call: ApiRequest) -> Reply:
    segment = _find(call)
    fields = call.body()
    changes: dict[str, Any] = {}
    if fields.has("name"):
        changes["name"] = fields.required_text("name")
    if fields.has("description"):
        changes["description"] = fields.text("description")
    if fields.has("rules"):
        raw = fields.data["rules"]
        changes["rules"] = check_rules(raw) if raw is not None else None
    segment = SEGMENT.update(call.backend.store, segment, changes, now=call.backend.now_iso())
    return ok({"segment": view_segment(call, segment)})


@routes.delete("/segments/{id}")
def delete(call: ApiRequest) -> Reply:
    SEGMENT.remove(call.backend.store, _find(call))
    return success()


@routes.get("/segments/{id}/members")
def list_members(call: ApiRequest) -> Reply:
    known = activity(call)
    contacts = [view(call, c, known) for c in members(call, _find(call))]
    return ok(snake_page("contacts", contacts, call.query))


@routes.post("/segments/{id}/contacts")
def add_contacts(call: ApiRequest) -> Reply:
    segment = _find(call)
    ids = call.body().strings("contact_ids", required=True, max_items=MAX_ADD)
    assert ids is not None
    store = call.backend.store
    contacts = [CONTACT.find(store, ref) for ref in ids]  # all found, or a 404 and none added
    added: dict[str, str] = dict(segment.private.get("members", {}))
    now = call.backend.now_iso()
    before = len(added)
    for contact in contacts:
        added.setdefault(contact.key, now)
    SEGMENT.update(store, segment, {}, now=now, private={"members": added})
    return ok({"added": len(added) - before})


@routes.delete("/segments/{id}/contacts/{contact_id}")
def remove_contact(call: ApiRequest) -> Reply:
    segment = _find(call)
    contact = CONTACT.find(call.backend.store, call.param("contact_id"))
    added = {k: v for k, v in segment.private.get("members", {}).items() if k != contact.key}
    SEGMENT.update(
        call.backend.store, segment, {}, now=call.backend.now_iso(), private={"members": added}
    )
    return success()


@routes.post("/segments/preview")
def preview_rules(call: ApiRequest) -> Reply:
    rules = check_rules(call.body().data.get("rules"))
    now = call.backend.now()
    count = sum(1 for c in CONTACT.all(call.backend.store) if matches(rules, c, now))
    return ok({"count": count})


@routes.get("/segments/{id}/growth")
def growth(call: ApiRequest) -> Reply:
    segment = _find(call)
    days = query_int(call.query, "days", default=30, minimum=0, maximum=365)
    manual = segment.private.get("members", {})
    joined: list[datetime] = []
    for contact in members(call, segment):
        moment = parse_timestamp(manual.get(contact.key) or contact.data["createdAt"])
        if moment is not None:
            joined.append(moment)
    today = call.backend.now()
    series: list[dict[str, Any]] = []
    for back in range(days, -1, -1):
        day = (today - timedelta(days=back)).date()
        count = sum(1 for moment in joined if moment.date() <= day)
        series.append({"date": day.isoformat(), "count": count})
    return ok(
        {
            "segmentId": segment.data["publicId"],
            "days": days,
            "total": len(joined),
            "series": series,
        }
    )


@routes.get("/segments/{id}/broadcasts")
def broadcasts(call: ApiRequest) -> Reply:
    from .broadcasts import BROADCAST

    segment = _find(call)
    found = [
        {
            key: b.data.get(key)
            for key in ("id", "publicId", "name", "subject", "status", "createdAt")
        }
        for b in BROADCAST.all(call.backend.store)
        if b.data.get("segmentId") == segment.data["id"]
    ]
    return ok({"broadcasts": found})

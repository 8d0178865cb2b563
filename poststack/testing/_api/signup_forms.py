"""``signup_forms``: hosted forms whose submissions add contacts to a segment or a topic.

Create and update take snake_case input (``name``, ``fields``, ``segment_id``,
``topic_id``, ``success_message``, ``redirect_url``, ``active``). A submission
must fill the required fields and carry a valid ``email``; it creates the
contact (or updates the one with that email): ``first_name`` / ``last_name``
fields land on the contact, any other field in its properties. An inactive
form answers 422.
"""

from __future__ import annotations

from typing import Any

from .._http import Reply
from .._routing import ApiRequest, Routes, created, ok, success
from .._store import Entity
from .._validation import Fields, JSONObject, bad_request, parse_address, unprocessable
from ._common import Kind, obj, snake_page
from .contacts import CONTACT, create_contact, find_by_email
from .segments import SEGMENT
from .subscription_topics import TOPIC, set_subscription

__all__ = ["routes"]

routes = Routes()
FORM = Kind("signup_form", "Signup form", prefix="sf", updated_at=True)
FIELD_TYPES = ("email", "text", "select", "checkbox")
DEFAULT_FIELDS: list[JSONObject] = [
    {"name": "email", "type": "email", "label": "Email", "required": True}
]
DEFAULT_MESSAGE = "Thanks for signing up!"


def _fields(raw: list[JSONObject]) -> list[JSONObject]:
    checked: list[JSONObject] = []
    for index, item in enumerate(raw):
        field = Fields(item, f"fields[{index}]: ")
        name = field.required_text("name")
        kind = field.required_choice("type", FIELD_TYPES)
        entry: JSONObject = {"name": name, "type": kind, "label": field.required_text("label")}
        if field.has("required"):
            entry["required"] = bool(field.flag("required"))
        if kind == "select":
            options = field.strings("options", required=True)
            entry["options"] = options
        checked.append(entry)
    if not any(f["type"] == "email" for f in checked):
        raise unprocessable("A signup form needs a field of type email")
    return checked


def _changes(call: ApiRequest, fields: Fields) -> dict[str, Any]:
    store = call.backend.store
    changes: dict[str, Any] = {}
    if fields.has("name"):
        changes["name"] = fields.required_text("name")
    if fields.has("fields"):
        raw = fields.objects("fields", required=True)
        assert raw is not None
        changes["fields"] = _fields(raw)
    if fields.has("segment_id"):
        ref = fields.text("segment_id")
        changes["segmentId"] = SEGMENT.find(store, ref).data["id"] if ref else None
    if fields.has("topic_id"):
        ref = fields.text("topic_id")
        changes["topicId"] = TOPIC.find(store, ref).data["id"] if ref else None
    if fields.has("success_message"):
        changes["successMessage"] = fields.text("success_message")
    if fields.has("redirect_url"):
        changes["redirectUrl"] = fields.text("redirect_url")
    if fields.has("active"):
        changes["active"] = bool(fields.flag("active"))
    return changes


def _find(call: ApiRequest) -> Entity:
    return FORM.find(call.backend.store, call.param("id"))


@routes.post("/signup-forms")
def create(call: ApiRequest) -> Reply:
    fields = call.body()
    fields.required_text("name")
    defaults: dict[str, Any] = {
        "segmentId": None,
        "topicId": None,
        "fields": DEFAULT_FIELDS,
        "successMessage": None,
        "redirectUrl": None,
        "active": True,
        "submissionCount": 0,
    }
    form = FORM.create(
        call.backend.store, {**defaults, **_changes(call, fields)}, now=call.backend.now_iso()
    )
    return created({"signupForm": form.data})


@routes.get("/signup-forms")
def list_(call: ApiRequest) -> Reply:
    forms = [f.data for f in reversed(FORM.all(call.backend.store))]
    return ok(snake_page("signupForms", forms, call.query))


@routes.get("/signup-forms/{id}")
def get(call: ApiRequest) -> Reply:
    return ok({"signupForm": _find(call).data})


@routes.patch("/signup-forms/{id}")
def update(call: ApiRequest) -> Reply:
    form = _find(call)
    form = FORM.update(
        call.backend.store, form, _changes(call, call.body()), now=call.backend.now_iso()
    )
    return ok({"signupForm": form.data})


@routes.delete("/signup-forms/{id}")
def delete(call: ApiRequest) -> Reply:
    FORM.remove(call.backend.store, _find(call))
    return success()


@routes.post("/signup-forms/{id}/submit")
def submit(call: ApiRequest) -> Reply:
    form = _find(call)
    data = form.data
    if not data["active"]:
        raise unprocessable("This signup form is not active")
    values = call.body().data
    missing = [
        f["name"]
        for f in data["fields"]
        if f.get("required") and values.get(f["name"]) in (None, "")
    ]
    if missing:
        raise unprocessable(f"Missing required field(s): {', '.join(missing)}")
    email_field = next(f["name"] for f in data["fields"] if f["type"] == "email")
    raw_email = values.get(email_field)
    if not isinstance(raw_email, str):
        raise bad_request(f"'{email_field}' must be an email address")
    address = parse_address(raw_email, email_field).address
    known = {f["name"] for f in data["fields"]}
    extra = {
        k: v
        for k, v in values.items()
        if k in known and k not in (email_field, "first_name", "last_name")
    }
    store = call.backend.store
    contact = find_by_email(store, address)
    if contact is None:
        contact = create_contact(
            call,
            address,
            first_name=_text(values.get("first_name")),
            last_name=_text(values.get("last_name")),
            properties=extra,
        )
    elif extra:
        properties = {**obj(contact.data.get("properties")), **extra}
        contact = CONTACT.update(
            store, contact, {"properties": properties}, now=call.backend.now_iso()
        )
    if data.get("segmentId") is not None:
        segment = store.get(SEGMENT.name, str(data["segmentId"]))
        if segment is not None:
            members = dict(segment.private.get("members", {}))
            members.setdefault(contact.key, call.backend.now_iso())
            SEGMENT.update(
                store, segment, {}, now=call.backend.now_iso(), private={"members": members}
            )
    if data.get("topicId") is not None:
        topic = store.get(TOPIC.name, str(data["topicId"]))
        if topic is not None:
            set_subscription(call, topic, contact, True)
    FORM.update(
        store, form, {"submissionCount": data["submissionCount"] + 1}, now=call.backend.now_iso()
    )
    answer: dict[str, Any] = {
        "success": True,
        "message": data.get("successMessage") or DEFAULT_MESSAGE,
    }
    if data.get("redirectUrl"):
        answer["redirect_url"] = data["redirectUrl"]
    return ok(answer)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None

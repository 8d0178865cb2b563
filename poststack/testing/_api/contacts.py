"""``contacts``: the audience: people, their properties, unsubscribes, import and export.

A contact's email is unique (case-insensitively): creating a second one is a
409, and ``import`` skips rows whose email exists. ``engagementSegment`` is
worked out from the emails sent to the contact: ``active`` when one was
opened or clicked in the last 30 days, ``dormant`` when none was sent in the
last 90, ``at_risk`` otherwise. Creating a contact, changing, unsubscribing and
deleting one fire ``contact.*`` webhooks and start ``contact.created``
workflows.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from .._http import Reply
from .._routing import ApiRequest, Routes, created, ok, success
from .._store import Entity, Store
from .._validation import ApiError, Fields, conflict, not_found, parse_address, parse_timestamp
from ._common import Kind, obj, query_flag, snake_page
from .contact_properties import check_properties

__all__ = ["CONTACT", "create_contact", "routes", "view"]

routes = Routes()
CONTACT = Kind("contact", "Contact", prefix="con", updated_at=True)
MAX_IMPORT = 10_000
ENGAGEMENT = ("active", "at_risk", "dormant")


def _alias(email: str) -> str:
    return f"email:{email.strip().lower()}"


def find_by_email(store: Store, email: str) -> Entity | None:
    return store.get(CONTACT.name, _alias(email))


Activity = dict[str, tuple[str | None, str | None]]  # address -> (last sent, last engaged)


def activity(call: ApiRequest) -> Activity:
    """When each address was last sent to and last opened or clicked, in one pass."""
    seen: Activity = {}
    for email in call.backend.store.emails.values():
        engaged = max((e.at for e in email.events if e.type in ("opened", "clicked")), default=None)
        for address in email.recipients:
            key = parse_address(address, "to").address.lower()
            sent, last = seen.get(key, (None, None))
            sent = max(sent or email.created_at, email.created_at)
            if engaged is not None:
                last = max(last or engaged, engaged)
            seen[key] = (sent, last)
    return seen


def view(call: ApiRequest, contact: Entity, known: Activity | None = None) -> dict[str, Any]:
    """The Contact object, with its engagement worked out as of now."""
    known = activity(call) if known is None else known
    last_sent, last_engaged = known.get(contact.data["email"], (None, None))
    now = call.backend.now()
    engaged = parse_timestamp(last_engaged) if last_engaged else None
    sent = parse_timestamp(last_sent) if last_sent else None
    if engaged is not None and engaged >= now - timedelta(days=30):
        segment = "active"
    elif sent is None or sent < now - timedelta(days=90):
        segment = "dormant"
    else:
        segment = "at_risk"
    return {**contact.data, "engagementSegment": segment, "lastEngagedAt": last_engaged}


def _properties(fields: Fields, store: Store, *, creating: bool) -> dict[str, Any] | None:
    properties = fields.mapping("properties")
    if properties is not None or creating:
        check_properties(store, properties or {}, creating=creating, where=fields.where)
    return properties


def create_contact(
    call: ApiRequest,
    email: str,
    *,
    first_name: str | None = None,
    last_name: str | None = None,
    properties: dict[str, Any] | None = None,
    unsubscribed: bool = False,
) -> Entity:
    """Store a new contact (the email is checked and unique); fires its events."""
    backend = call.backend
    address = parse_address(email, "email").address.lower()
    if find_by_email(backend.store, address) is not None:
        raise conflict(f"A contact with email {address} already exists")
    contact = CONTACT.create(
        backend.store,
        {
            "email": address,
            "firstName": first_name,
            "lastName": last_name,
            "unsubscribed": unsubscribed,
            "properties": properties or {},
        },
        now=backend.now_iso(),
        aliases=(_alias(address),),
    )
    backend.emit("contact.created", {"id": contact.key, "email": address})
    from .workflows import enroll

    enroll(call, "contact.created", contact)
    return contact


def _find(call: ApiRequest) -> Entity:
    return CONTACT.find(call.backend.store, call.param("id"))


@routes.post("/contacts")
def create(call: ApiRequest) -> Reply:
    fields = call.body()
    email = fields.address("email", required=True)
    assert email is not None
    contact = create_contact(
        call,
        email.address,
        first_name=fields.text("first_name"),
        last_name=fields.text("last_name"),
        properties=_properties(fields, call.backend.store, creating=True),
        unsubscribed=bool(fields.flag("unsubscribed", False)),
    )
    return created({"contact": view(call, contact)})


@routes.get("/contacts/{id}")
def get(call: ApiRequest) -> Reply:
    return ok({"contact": view(call, _find(call))})


@routes.get("/contacts/by-email/{email}")
def get_by_email(call: ApiRequest) -> Reply:
    contact = find_by_email(call.backend.store, call.param("email"))
    if contact is None:
        raise not_found("Contact")
    return ok({"contact": view(call, contact)})


def _members(call: ApiRequest, segment_ref: str) -> set[str]:
    from .segments import SEGMENT, members

    segment = SEGMENT.find(call.backend.store, segment_ref)
    return {c.key for c in members(call, segment)}


@routes.get("/contacts")
def list_(call: ApiRequest) -> Reply:
    query = call.query
    search = (query.get("search") or "").lower()
    unsubscribed = query_flag(query, "unsubscribed")
    wanted_engagement = query.get("engagement_segment") or None
    in_segment = _members(call, query["segment_id"]) if query.get("segment_id") else None
    known = activity(call)
    items: list[dict[str, Any]] = []
    for contact in reversed(CONTACT.all(call.backend.store)):
        data = contact.data
        haystack = " ".join(
            str(data.get(k) or "") for k in ("email", "firstName", "lastName")
        ).lower()
        if search and search not in haystack:
            continue
        if unsubscribed is not None and data["unsubscribed"] != unsubscribed:
            continue
        if in_segment is not None and contact.key not in in_segment:
            continue
        shown = view(call, contact, known)
        if wanted_engagement and shown["engagementSegment"] != wanted_engagement:
            continue
        items.append(shown)
    return ok(snake_page("contacts", items, query))


@routes.patch("/contacts/{id}")
def update(call: ApiRequest) -> Reply:
    contact = _find(call)
    fields = call.body()
    store = call.backend.store
    changes: dict[str, Any] = {}
    aliases = None
    if fields.has("email"):
        address = fields.address("email", required=True)
        assert address is not None
        new = address.address.lower()
        other = find_by_email(store, new)
        if other is not None and other.key != contact.key:
            raise conflict(f"A contact with email {new} already exists")
        changes["email"] = new
        aliases = (contact.aliases[0], _alias(new))
    for key, api_key in (("first_name", "firstName"), ("last_name", "lastName")):
        if fields.has(key):
            changes[api_key] = fields.text(key)
    if fields.has("unsubscribed"):
        changes["unsubscribed"] = bool(fields.flag("unsubscribed"))
    properties = _properties(fields, store, creating=False)
    if properties is not None:
        changes["properties"] = {**obj(contact.data.get("properties")), **properties}
    contact = CONTACT.update(store, contact, changes, now=call.backend.now_iso(), aliases=aliases)
    call.backend.emit("contact.updated", {"id": contact.key, "email": contact.data["email"]})
    return ok({"contact": view(call, contact)})


@routes.delete("/contacts/{id}")
def delete(call: ApiRequest) -> Reply:
    contact = _find(call)
    CONTACT.remove(call.backend.store, contact)
    call.backend.emit("contact.deleted", {"id": contact.key, "email": contact.data["email"]})
    return success()


@routes.post("/contacts/{id}/unsubscribe")
def unsubscribe(call: ApiRequest) -> Reply:
    contact = CONTACT.update(
        call.backend.store, _find(call), {"unsubscribed": True}, now=call.backend.now_iso()
    )
    call.backend.emit("contact.unsubscribed", {"id": contact.key, "email": contact.data["email"]})
    return ok({"contact": view(call, contact)})


@routes.post("/contacts/import")
def import_(call: ApiRequest) -> Reply:
    rows = call.body().objects("contacts", required=True, max_items=MAX_IMPORT)
    assert rows is not None
    imported = skipped = 0
    errors: list[str] = []
    store = call.backend.store
    for index, row in enumerate(rows):
        fields = Fields(row)
        raw = row.get("email")
        label = raw if isinstance(raw, str) and raw else f"row {index}"
        try:
            email = fields.address("email", required=True)
            assert email is not None
            if find_by_email(store, email.address) is not None:
                skipped += 1
                continue
            create_contact(
                call,
                email.address,
                first_name=fields.text("first_name"),
                last_name=fields.text("last_name"),
                properties=_properties(fields, store, creating=True),
            )
            imported += 1
        except ApiError as exc:  # one bad row never stops the others
            errors.append(f"{label}: {exc.message}")
    return ok({"imported": imported, "skipped": skipped, "errors": errors})


@routes.get("/contacts/export")
def export_csv(call: ApiRequest) -> Reply:
    segment = call.query.get("segment_id")
    members = _members(call, segment) if segment is not None else None
    contacts = [c for c in CONTACT.all(call.backend.store) if members is None or c.key in members]
    extra = sorted({key for c in contacts for key in obj(c.data.get("properties"))})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["email", "first_name", "last_name", "unsubscribed", "created_at", *extra])
    for contact in contacts:
        data = contact.data
        properties = obj(data.get("properties"))
        writer.writerow(
            [
                data["email"],
                data.get("firstName") or "",
                data.get("lastName") or "",
                "true" if data["unsubscribed"] else "false",
                data["createdAt"],
                *(_cell(properties.get(key)) for key in extra),
            ]
        )
    headers = (("content-disposition", 'attachment; filename="contacts.csv"'),)
    return Reply(200, out.getvalue().encode("utf-8"), headers, "text/csv; charset=utf-8")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)

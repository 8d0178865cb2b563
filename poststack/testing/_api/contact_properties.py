"""``contact_properties``: the typed custom fields contacts carry in ``properties``.

A defined property is checked wherever a contact's ``properties`` are written
(create, update, import, signup forms): a ``number`` must be a number, a
``boolean`` a boolean, a ``date`` an ISO 8601 date, a ``select`` one of its
options, and a ``required`` one must be there when a contact is created.
Keys without a definition are free-form, as the API allows.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from .._http import Reply
from .._routing import ApiRequest, Routes, created, ok, success
from .._store import Entity, Store
from .._validation import Fields, conflict, parse_timestamp, unprocessable
from ._common import Kind, obj, seq

__all__ = ["PROPERTY", "check_properties", "routes"]

routes = Routes()
PROPERTY = Kind("contact_property", "Contact property")
TYPES = ("text", "number", "boolean", "date", "select")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def _definitions(store: Store) -> dict[str, dict[str, Any]]:
    return {p.data["name"]: p.data for p in PROPERTY.all(store)}


def _fits(definition: dict[str, Any], value: object) -> bool:
    kind = definition["type"]
    if value is None:
        return True
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "date":
        return isinstance(value, str) and parse_timestamp(value) is not None
    if kind == "select":
        return isinstance(value, str) and value in (definition.get("options") or [])
    return isinstance(value, str)


def check_properties(
    store: Store, properties: dict[str, Any], *, creating: bool, where: str = ""
) -> None:
    """Check ``properties`` against the defined ones (a 422 names the first problem)."""
    definitions = _definitions(store)
    for name, value in properties.items():
        definition = definitions.get(name)
        if definition is not None and not _fits(definition, value):
            expected = definition["type"]
            if expected == "select":
                expected = f"one of {', '.join(definition.get('options') or [])}"
            raise unprocessable(f"{where}Property '{name}' must be {expected}, got {value!r}")
    if creating:
        for name, definition in definitions.items():
            if definition["required"] and properties.get(name) is None:
                raise unprocessable(f"{where}Missing required property: {name}")


def _options(fields: Fields, kind: str) -> list[str] | None:
    options = fields.strings("options")
    if kind == "select" and not options:
        raise unprocessable("A select property needs at least one option")
    if kind != "select" and options:
        raise unprocessable("Only select properties have options")
    return options if kind == "select" else None


def _find(call: ApiRequest) -> Entity:
    return PROPERTY.find(call.backend.store, call.param("id"))


@routes.post("/contact-properties")
def create(call: ApiRequest) -> Reply:
    fields = call.body()
    name = fields.required_text("name")
    if not _NAME.match(name):
        raise unprocessable(
            f"Invalid property name {name!r}: lower-case letters, digits and _, from a letter"
        )
    label = fields.required_text("label")
    kind = fields.required_choice("type", TYPES)
    if name in _definitions(call.backend.store):
        raise conflict(f"A contact property named {name!r} already exists")
    prop = PROPERTY.create(
        call.backend.store,
        {
            "name": name,
            "label": label,
            "type": kind,
            "options": _options(fields, kind),
            "required": fields.flag("required", False),
        },
        now=call.backend.now_iso(),
    )
    return created({"property": prop.data})


@routes.get("/contact-properties")
def list_(call: ApiRequest) -> Reply:
    return ok({"properties": [p.data for p in PROPERTY.all(call.backend.store)]})


@routes.patch("/contact-properties/{id}")
def update(call: ApiRequest) -> Reply:
    prop = _find(call)
    fields = call.body()
    changes: dict[str, Any] = {}
    if fields.has("label"):
        changes["label"] = fields.required_text("label")
    if fields.has("options"):
        changes["options"] = _options(fields, prop.data["type"])
    if fields.has("required"):
        changes["required"] = bool(fields.flag("required"))
    if fields.has("type") and fields.data["type"] != prop.data["type"]:
        raise unprocessable("A property's type cannot change; create a new property")
    prop = PROPERTY.update(call.backend.store, prop, changes, now=call.backend.now_iso())
    return ok({"property": prop.data})


@routes.delete("/contact-properties/{id}")
def delete(call: ApiRequest) -> Reply:
    PROPERTY.remove(call.backend.store, _find(call))
    return success()


@routes.get("/contact-properties/{id}/option-usage")
def option_usage(call: ApiRequest) -> Reply:
    from .contacts import CONTACT

    prop = _find(call).data
    if prop["type"] != "select":
        raise unprocessable("Only select properties have options")
    counts: Counter[object] = Counter(
        obj(c.data.get("properties")).get(prop["name"]) for c in CONTACT.all(call.backend.store)
    )
    return ok({"usage": {str(option): counts[option] for option in seq(prop["options"])}})

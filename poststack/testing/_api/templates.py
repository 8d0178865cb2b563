"""``templates``: stored subjects and bodies with ``{{name}}`` placeholders, and presets.

Rendering fills each ``{{ name }}`` from the variables: HTML-escaped in the
HTML body, as is in the subject and the text body; a placeholder without a
value renders empty and is listed in ``missing_variables``. Any change to the
content bumps ``version``. ``emails.send`` with a ``template_id`` needs a
published template and sends its rendered content.
"""

from __future__ import annotations

import html as html_lib
import re
from typing import Any

from .._http import Reply
from .._routing import ApiRequest, Routes, created, ok, success
from .._store import Entity
from .._validation import Fields, as_list, as_object, not_found, unprocessable
from ._common import Kind, snake_page

__all__ = ["PRESETS", "TEMPLATE", "render", "routes"]

routes = Routes()
TEMPLATE = Kind("template", "Template", prefix="tpl", updated_at=True)

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}")

PRESETS: tuple[dict[str, Any], ...] = (
    {
        "id": "welcome",
        "name": "Welcome",
        "description": "Greets a new user and points to the first step.",
        "thumbnail": None,
        "subject": "Welcome to {{product}}, {{name}}!",
        "html": "<h1>Welcome, {{name}}!</h1><p>Thanks for joining {{product}}.</p>"
        '<p><a href="{{action_url}}">Get started</a></p>',
        "text": "Welcome, {{name}}!\n\nThanks for joining {{product}}.\n"
        "Get started: {{action_url}}",
    },
    {
        "id": "password-reset",
        "name": "Password reset",
        "description": "A one-time link to choose a new password.",
        "thumbnail": None,
        "subject": "Reset your {{product}} password",
        "html": '<p>Hi {{name}},</p><p><a href="{{reset_url}}">Choose a new password</a>. '
        "The link expires in {{expires_in}}.</p>",
        "text": "Hi {{name}},\n\nChoose a new password: {{reset_url}}\n"
        "The link expires in {{expires_in}}.",
    },
    {
        "id": "receipt",
        "name": "Receipt",
        "description": "Confirms a payment.",
        "thumbnail": None,
        "subject": "Your receipt for order {{order_id}}",
        "html": "<p>Thanks for your order {{order_id}}.</p><p>Total: {{total}}</p>",
        "text": "Thanks for your order {{order_id}}.\nTotal: {{total}}",
    },
)


def placeholders(*parts: str | None) -> list[str]:
    """The placeholder names used in ``parts``, in first-use order."""
    found: dict[str, None] = {}
    for part in parts:
        for name in _PLACEHOLDER.findall(part or ""):
            found.setdefault(name, None)
    return list(found)


def render(template: Entity, variables: dict[str, Any]) -> dict[str, Any]:
    """The template's subject and bodies with ``variables`` filled in."""
    data = template.data
    missing: dict[str, None] = {}

    def fill(text: str | None, escape: bool) -> str | None:
        if text is None:
            return None

        def value(match: re.Match[str]) -> str:
            name = match[1]
            if name not in variables or variables[name] is None:
                missing.setdefault(name, None)
                return ""
            raw = str(variables[name])
            return html_lib.escape(raw) if escape else raw

        return _PLACEHOLDER.sub(value, text)

    parts = {
        "subject": fill(data.get("subject"), False),
        "html": fill(data.get("htmlBody"), True),
        "text": fill(data.get("textBody"), False),
    }
    # A part the template does not have is left out, not null.
    return {**{k: v for k, v in parts.items() if v is not None}, "missing_variables": list(missing)}


_BLOCK_TAGS = {"heading": "h1", "text": "p", "paragraph": "p"}


def _blocks_html(blocks: dict[str, Any]) -> str:
    """A visual template's blocks as HTML (heading, text, button, image, divider)."""
    out: list[str] = []
    for item in as_list(blocks.get("blocks")) or []:
        block = as_object(item)
        if block is None:
            continue
        kind = block.get("type")
        content = html_lib.escape(str(block.get("content", "")))
        if kind in _BLOCK_TAGS:
            out.append(f"<{_BLOCK_TAGS[kind]}>{content}</{_BLOCK_TAGS[kind]}>")
        elif kind == "button":
            url = html_lib.escape(str(block.get("url", "#")), quote=True)
            out.append(f'<p><a href="{url}">{content}</a></p>')
        elif kind == "image":
            src = html_lib.escape(str(block.get("src", "")), quote=True)
            alt = html_lib.escape(str(block.get("alt", "")), quote=True)
            out.append(f'<img src="{src}" alt="{alt}">')
        elif kind == "divider":
            out.append("<hr>")
    return "".join(out)


def _content(fields: Fields, base: dict[str, Any]) -> dict[str, Any]:
    """The content keys of the Template object from create/update input."""
    changes: dict[str, Any] = {}
    if fields.has("name"):
        changes["name"] = fields.required_text("name")
    if fields.has("subject"):
        changes["subject"] = fields.text("subject") or ""
    if fields.has("html"):
        changes["htmlBody"] = fields.text("html")
    if fields.has("text"):
        changes["textBody"] = fields.text("text")
    if fields.has("builder_type"):
        changes["builderType"] = fields.choice("builder_type", ("visual", "code"))
    if fields.has("builder_blocks"):
        blocks = fields.mapping("builder_blocks")
        changes["builderBlocks"] = blocks
        if blocks is not None and not fields.has("html"):
            changes["htmlBody"] = _blocks_html(blocks)
    merged = {**base, **changes}
    if fields.has("variables"):
        changes["variables"] = fields.strings("variables")
    elif any(k in changes for k in ("subject", "htmlBody", "textBody")):
        changes["variables"] = placeholders(
            merged.get("subject"), merged.get("htmlBody"), merged.get("textBody")
        )
    return changes


def _find(call: ApiRequest) -> Entity:
    return TEMPLATE.find(call.backend.store, call.param("id"))


def _create(call: ApiRequest, content: dict[str, Any]) -> Entity:
    defaults: dict[str, Any] = {
        "name": "",
        "subject": "",
        "htmlBody": None,
        "textBody": None,
        "variables": [],
        "published": False,
        "version": 1,
    }
    return TEMPLATE.create(call.backend.store, {**defaults, **content}, now=call.backend.now_iso())


@routes.post("/templates")
def create(call: ApiRequest) -> Reply:
    fields = call.body()
    fields.required_text("name")
    return created({"template": _create(call, _content(fields, {})).data})


@routes.get("/templates")
def list_(call: ApiRequest) -> Reply:
    search = (call.query.get("search") or "").lower()
    items = [
        t.data
        for t in reversed(TEMPLATE.all(call.backend.store))
        if search in t.data["name"].lower() or search in (t.data["subject"] or "").lower()
    ]
    return ok(snake_page("templates", items, call.query))


@routes.get("/templates/presets")
def get_presets(call: ApiRequest) -> Reply:
    return ok({"data": [dict(preset) for preset in PRESETS]})


@routes.post("/templates/presets/{preset_id}/use")
def use_preset(call: ApiRequest) -> Reply:
    preset = next((p for p in PRESETS if p["id"] == call.param("preset_id")), None)
    if preset is None:
        raise not_found("Preset")
    content = {
        "name": preset["name"],
        "subject": preset["subject"],
        "htmlBody": preset["html"],
        "textBody": preset["text"],
        "variables": placeholders(preset["subject"], preset["html"], preset["text"]),
    }
    return created({"template": _create(call, content).data})


@routes.get("/templates/{id}")
def get(call: ApiRequest) -> Reply:
    return ok({"template": _find(call).data})


@routes.patch("/templates/{id}")
def update(call: ApiRequest) -> Reply:
    template = _find(call)
    changes = _content(call.body(), template.data)
    if changes:
        changes["version"] = template.data["version"] + 1
    template = TEMPLATE.update(call.backend.store, template, changes, now=call.backend.now_iso())
    return ok({"template": template.data})


@routes.delete("/templates/{id}")
def delete(call: ApiRequest) -> Reply:
    TEMPLATE.remove(call.backend.store, _find(call))
    return success()


def _set_published(call: ApiRequest, published: bool) -> Reply:
    template = _find(call)
    if published and not (template.data.get("htmlBody") or template.data.get("textBody")):
        raise unprocessable("A template needs an HTML or text body to be published")
    template = TEMPLATE.update(
        call.backend.store, template, {"published": published}, now=call.backend.now_iso()
    )
    return ok({"template": template.data})


@routes.post("/templates/{id}/publish")
def publish(call: ApiRequest) -> Reply:
    return _set_published(call, True)


@routes.post("/templates/{id}/unpublish")
def unpublish(call: ApiRequest) -> Reply:
    return _set_published(call, False)


@routes.post("/templates/{id}/duplicate")
def duplicate(call: ApiRequest) -> Reply:
    original = _find(call).data
    copied = ("subject", "htmlBody", "textBody", "variables", "builderType", "builderBlocks")
    content: dict[str, Any] = {key: original[key] for key in copied if key in original}
    content["name"] = f"Copy of {original['name']}"
    return created({"template": _create(call, content).data})


@routes.post("/templates/{id}/render")
def render_(call: ApiRequest) -> Reply:
    template = _find(call)
    variables = call.optional_body().mapping("variables") or {}
    return ok(render(template, variables))

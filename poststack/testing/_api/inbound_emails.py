"""``inbound_emails``: mail received on the account's domains, and replies to it.

The sandbox receives no SMTP. Mail arrives through ``sb.receive(...)`` or
``POST /_sandbox/inbound`` (``{"from", "to", "subject", "text", "html", "cc",
"headers", "attachments"}``), which stores it, parses what the API shows
(``mailboxHash`` from ``to+hash@``, a spam score, the reply stripped of its
quote) and fires an ``inbound.received`` webhook. ``reply`` and ``forward`` send
real outbound emails through the normal path (they show up in the inbox and
run their lifecycle), threaded with ``In-Reply-To`` / ``References``.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import TYPE_CHECKING, Any

from .._http import Reply
from .._routing import ApiRequest, Routes, ok
from .._store import Entity
from .._validation import Fields, bad_request, not_found, parse_address
from . import _content, domains, emails
from ._common import Kind, snake_page

if TYPE_CHECKING:
    from .._backend import Backend

__all__ = ["receive", "routes"]

routes = Routes()
INBOUND = Kind("inbound_email", "Inbound email")
ATTACHMENT = Kind("inbound_attachment", "Attachment")
MAX_FORWARD = 50
_SALUTATIONS = {"formal": "Dear {name},", "friendly": "Hi {name},", "casual": "Hey {name},"}


def _stripped_reply(text: str | None) -> str | None:
    """The new part of a reply: the text above the first quoted line."""
    if text is None:
        return None
    kept: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith(">") or (stripped.startswith("On ") and stripped.endswith("wrote:")):
            break
        kept.append(line)
    return "\n".join(kept).strip()


def receive(backend: Backend, fields: Fields) -> dict[str, Any]:
    """Store one inbound email (the sandbox's stand-in for SMTP); its API object."""
    sender = fields.address("from", required=True)
    assert sender is not None
    to = fields.addresses("to", required=True)
    cc = fields.addresses("cc")
    subject = fields.text("subject")
    text = fields.text("text")
    html = fields.text("html")
    headers = fields.string_map("headers") or {}
    attachments = fields.objects("attachments") or []
    first = parse_address(to[0], "to")
    local = first.local_part
    domain = domains.sending_domain(backend.store, first.domain)
    score = _content.spam_report(subject, html, text)
    message_id = headers.get("Message-ID") or f"<{secrets.token_hex(12)}@sandbox.poststack.dev>"
    decoded: list[tuple[dict[str, Any], bytes]] = []
    for index, item in enumerate(attachments):
        content = item.get("content")
        filename = item.get("filename")
        if not isinstance(filename, str) or not isinstance(content, str):
            raise bad_request(f"attachments[{index}] needs a filename and base64 content")
        try:
            decoded.append((item, base64.b64decode("".join(content.split()), validate=True)))
        except (binascii.Error, ValueError):
            raise bad_request(f"attachments[{index}]: content is not base64") from None
    now = backend.now_iso()
    inbound = INBOUND.create(
        backend.store,
        {
            "domainId": domain.data["id"] if domain is not None else None,
            "fromAddress": sender.address,
            "fromName": sender.name,
            "toAddress": first.address,
            "toAddresses": [_named(a) for a in to],
            "ccAddresses": [_named(a) for a in cc],
            "messageId": message_id,
            "subject": subject,
            "htmlBody": html,
            "textBody": text,
            "headers": headers,
            "mailboxHash": local.split("+", 1)[1] if "+" in local else None,
            "spamScore": score["score"],
            "spamVerdict": score["verdict"],
            "strippedReply": _stripped_reply(text),
        },
        now=now,
    )
    for item, content in decoded:
        ATTACHMENT.create(
            backend.store,
            {
                "filename": item["filename"],
                "contentType": emails.attachment_type(item),
                "size": len(content),
            },
            now=now,
            private={
                "inbound_id": inbound.data["id"],
                "content": base64.b64encode(content).decode(),
            },
        )
    # The event carries the inbound email as the API shows it (and the attachments'
    # descriptions), so a receiver needs no request to read it.
    attachments_data = [
        a.data
        for a in ATTACHMENT.all(backend.store)
        if a.private["inbound_id"] == inbound.data["id"]
    ]
    backend.emit(
        "inbound.received",
        {
            **inbound.data,
            "from": sender.address,
            "to": first.address,
            "attachments": attachments_data,
        },
    )
    return inbound.data


def _named(raw: str) -> dict[str, Any]:
    address = parse_address(raw, "to")
    return {"address": address.address, "name": address.name}


def _find(call: ApiRequest) -> Entity:
    return INBOUND.find(call.backend.store, call.param("id"))


def _attachments_of(call: ApiRequest, inbound: Entity) -> list[Entity]:
    inbound_id = inbound.data["id"]
    return [a for a in ATTACHMENT.all(call.backend.store) if a.private["inbound_id"] == inbound_id]


@routes.get("/inbound")
def list_(call: ApiRequest) -> Reply:
    domain_name = (call.query.get("domain") or "").lower()
    domain = (
        call.backend.store.get(domains.DOMAIN.name, f"name:{domain_name}") if domain_name else None
    )
    if domain_name and domain is None:
        return ok(snake_page("emails", [], call.query))
    items = [
        e.data
        for e in reversed(INBOUND.all(call.backend.store))
        if domain is None or e.data["domainId"] == domain.data["id"]
    ]
    return ok(snake_page("emails", items, call.query))


@routes.get("/inbound/{id}")
def get(call: ApiRequest) -> Reply:
    return ok({"inboundEmail": _find(call).data})


@routes.get("/inbound/{id}/attachments")
def list_attachments(call: ApiRequest) -> Reply:
    inbound = _find(call)
    return ok({"attachments": [a.data for a in _attachments_of(call, inbound)]})


@routes.get("/inbound/{id}/attachments/{attachment_id}")
def download_attachment(call: ApiRequest) -> Reply:
    inbound = _find(call)
    raw = call.param("attachment_id")
    match = next((a for a in _attachments_of(call, inbound) if str(a.data["id"]) == raw), None)
    if match is None:
        raise not_found("Attachment")
    content = base64.b64decode(match.private["content"])
    filename = str(match.data["filename"]).replace('"', "_").replace("\r", "").replace("\n", "")
    headers = (("content-disposition", f'attachment; filename="{filename}"'),)
    return Reply(200, content, headers, match.data["contentType"])


def _threading(inbound: Entity) -> dict[str, str]:
    message_id = inbound.data["messageId"]
    return {"In-Reply-To": message_id, "References": message_id}


def _quoted_text(inbound: Entity) -> str:
    data = inbound.data
    lines = (data.get("textBody") or "").splitlines()
    return f"On {data['createdAt']}, {data['fromAddress']} wrote:\n" + "\n".join(
        f"> {line}" for line in lines
    )


def _quoted_html(inbound: Entity) -> str:
    data = inbound.data
    body = data.get("htmlBody") or (data.get("textBody") or "").replace("\n", "<br>")
    return f"<blockquote>{body}</blockquote>"


def _prefixed(prefix: str, subject: str | None) -> str:
    subject = subject or ""
    return subject if subject.lower().startswith(prefix.lower()) else f"{prefix} {subject}".strip()


def _send(
    call: ApiRequest, payload: dict[str, Any], *, recipients: int = emails.MAX_RECIPIENTS
) -> Reply:
    (email,) = emails.accept(call, [emails.draft(call, payload, limit_recipients=recipients)])
    return ok({"id": email.id})


@routes.post("/inbound/{id}/reply")
def reply(call: ApiRequest) -> Reply:
    inbound = _find(call)
    fields = call.body()
    from_ = fields.required_text("from")
    html = fields.text("html")
    text = fields.text("text")
    if not html and not text:
        raise bad_request("Missing required field: html or text")
    payload: dict[str, Any] = {
        "from": from_,
        "to": [inbound.data["fromAddress"]],
        "subject": _prefixed("Re:", inbound.data["subject"]),
        "headers": _threading(inbound),
    }
    for key in ("html", "text", "cc", "bcc"):
        if fields.data.get(key) is not None:
            payload[key] = fields.data[key]
    return _send(call, payload)


@routes.post("/inbound/{id}/forward")
def forward(call: ApiRequest) -> Reply:
    inbound = _find(call)
    fields = call.body()
    from_ = fields.required_text("from")
    to = fields.addresses("to", required=True, max_items=MAX_FORWARD)
    cc = fields.addresses("cc", max_items=MAX_FORWARD)
    bcc = fields.addresses("bcc", max_items=MAX_FORWARD)
    note = fields.text("message") or ""
    data = inbound.data
    header = f"---------- Forwarded message ----------\nFrom: {data['fromAddress']}\n"
    header += f"Subject: {data.get('subject') or ''}\n\n"
    text = f"{note}\n\n{header}{data.get('textBody') or ''}".lstrip()
    payload: dict[str, Any] = {
        "from": from_,
        "to": list(to),
        "subject": _prefixed("Fwd:", data["subject"]),
        "text": text,
        "headers": _threading(inbound),
    }
    if data.get("htmlBody"):
        payload["html"] = f"<p>{note}</p><hr>{data['htmlBody']}" if note else data["htmlBody"]
    if cc:
        payload["cc"] = list(cc)
    if bcc:
        payload["bcc"] = list(bcc)
    attachments = [
        {
            "filename": a.data["filename"],
            "content": a.private["content"],
            "content_type": a.data["contentType"],
        }
        for a in _attachments_of(call, inbound)
    ]
    if attachments:
        payload["attachments"] = attachments
    return _send(call, payload, recipients=3 * MAX_FORWARD)  # to, cc and bcc: 50 each


@routes.post("/inbound/{id}/draft-reply")
def draft_reply(call: ApiRequest) -> Reply:
    inbound = _find(call)
    tone = call.optional_body().choice("tone", tuple(_SALUTATIONS), default="friendly")
    assert tone is not None
    data = inbound.data
    name = data.get("fromName") or data["fromAddress"].split("@", 1)[0]
    salutation = _SALUTATIONS[tone].format(name=name)
    placeholder = "Write your reply here."
    quoted_text = _quoted_text(inbound)
    quoted_html = _quoted_html(inbound)
    return ok(
        {
            "inbound": {"id": data["id"], "from": data["fromAddress"], "subject": data["subject"]},
            "suggested_from": data["toAddress"],
            "suggested_subject": _prefixed("Re:", data["subject"]),
            "salutation": salutation,
            "body_placeholder": placeholder,
            "quoted_html": quoted_html,
            "quoted_text": quoted_text,
            "threading": {"in_reply_to": data["messageId"], "references": [data["messageId"]]},
            "suggested_html": f"<p>{salutation}</p><p>{placeholder}</p>{quoted_html}",
            "suggested_text": f"{salutation}\n\n{placeholder}\n\n{quoted_text}",
            "signs_automatically": False,
        }
    )

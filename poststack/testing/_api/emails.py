"""``emails``: send, batch, read, list, schedule, cancel, preview and lint emails (API §7).

A payload becomes one :class:`~.._models.SandboxEmail` in :func:`draft`
(every check, nothing stored), then :func:`accept` gives it its ids, records
the request it came in, and hands it to the lifecycle. A batch drafts every
email before accepting any, so it is all or nothing.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
from dataclasses import replace
from datetime import timedelta
from typing import Any

from .._http import Reply
from .._models import RecordedRequest, SandboxEmail
from .._routing import ApiRequest, Principal, Routes, accepted, canonical, idempotent, ok, scope_for
from .._store import REQUEST, Entity
from .._validation import (
    Fields,
    as_list,
    as_object,
    bad_request,
    forbidden,
    isoformat,
    not_found,
    parse_timestamp,
    unprocessable,
)
from . import _content, domains, templates
from ._common import new_public_id, page_params

__all__ = ["accept", "draft", "routes"]

routes = Routes()

MAX_BATCH = 100
MAX_RECIPIENTS = 50
MAX_PREVIEW_RECIPIENTS = 5
EMAIL = "email"


def attachment_bytes(attachment: dict[str, Any]) -> bytes:
    """The decoded bytes of an attachment as sent (base64, line breaks allowed)."""
    return base64.b64decode("".join(str(attachment.get("content", "")).split()))


def attachment_type(attachment: dict[str, Any]) -> str:
    """The attachment's content type: as sent, else guessed from its file name."""
    given = attachment.get("content_type")
    if isinstance(given, str) and given.strip():
        return given.strip()
    guessed, _ = mimetypes.guess_type(str(attachment.get("filename", "")))
    return guessed or "application/octet-stream"


def _attachments(fields: Fields) -> tuple[dict[str, Any], ...]:
    items = fields.objects("attachments")
    if items is None:
        return ()
    where = fields.where
    for index, attachment in enumerate(items):
        filename = attachment.get("filename")
        content = attachment.get("content")
        if not isinstance(filename, str) or not filename:
            raise bad_request(f"{where}attachments[{index}]: missing filename")
        if not isinstance(content, str):
            raise bad_request(f"{where}attachments[{index}]: missing content")
        try:
            base64.b64decode("".join(content.split()), validate=True)
        except (binascii.Error, ValueError):
            raise bad_request(f"{where}attachments[{index}]: content is not base64") from None
        content_type = attachment.get("content_type")
        if content_type is not None and not isinstance(content_type, str):
            raise bad_request(f"{where}attachments[{index}]: content_type must be a string")
    return tuple(dict(item) for item in items)


def draft(
    call: ApiRequest, value: object, where: str = "", *, limit_recipients: int = MAX_RECIPIENTS
) -> SandboxEmail:
    """Check one email payload and build its record (no ids yet, nothing stored)."""
    payload = as_object(value)
    if payload is None:
        raise bad_request(f"{where}An email must be a JSON object")
    fields = Fields(payload, where)
    from_ = fields.required_text("from")
    sender = fields.address("from")
    assert sender is not None
    to = fields.addresses("to", required=True)
    cc = fields.addresses("cc")
    bcc = fields.addresses("bcc")
    if len(to) + len(cc) + len(bcc) > limit_recipients:
        raise unprocessable(
            f"{where}At most {limit_recipients} recipients (to + cc + bcc) per email"
        )
    reply_to = fields.addresses("reply_to")
    template_id = fields.text("template_id")
    subject = fields.text("subject")
    html = fields.text("html")
    text = fields.text("text")
    variables = fields.mapping("variables") or {}
    if template_id is None:
        if not subject:
            raise bad_request(f"{where}Missing required field: subject")
        if not html and not text:
            raise bad_request(f"{where}Missing required field: html or text")
    tags = fields.strings("tags") or []
    headers = fields.string_map("headers") or {}
    fields.string_map("metadata")  # checked here; kept in the payload, sent back in events
    attachments = _attachments(fields)
    scheduled = fields.timestamp("scheduled_at")
    fields.flag("unsubscribe")
    idempotency_key = fields.text("idempotency_key")

    if template_id is not None:
        template = templates.TEMPLATE.find(call.backend.store, template_id)
        if not template.data["published"]:
            raise unprocessable(f"{where}Template {template_id} is not published")
        rendered = templates.render(template, variables)
        subject = subject or rendered.get("subject")
        html = html if html is not None else rendered.get("html")
        text = text if text is not None else rendered.get("text")

    domain = domains.sending_domain(call.backend.store, sender.domain)
    if call.backend.settings.require_verified_domain and (
        domain is None or domain.data["status"] != "verified"
    ):
        raise unprocessable(f"{where}Domain not verified: {sender.domain}")
    _check_key_scope(call.principal, domain, sender.domain, where)
    return SandboxEmail(
        id="",
        numeric_id=0,
        from_=from_,
        from_address=sender.address,
        from_name=sender.name,
        to=to,
        cc=cc,
        bcc=bcc,
        reply_to=", ".join(reply_to) if reply_to else None,
        subject=subject,
        html=html,
        text=text,
        tags=tuple(tags),
        headers=dict(headers),
        attachments=attachments,
        scheduled_at=isoformat(scheduled) if scheduled is not None else None,
        status="queued",
        created_at="",
        template_id=template_id,
        variables=dict(variables),
        idempotency_key=idempotency_key,
        payload=payload,
        test_mode=call.principal.test_mode,
        domain_id=domain.data["id"] if domain is not None else None,
    )


def _check_key_scope(principal: Principal, domain: Entity | None, name: str, where: str) -> None:
    if principal.domain_id is None:
        return
    if domain is None or domain.data["id"] != principal.domain_id:
        raise forbidden(f"{where}This key may only send from its own domain, not {name}")


def _record_request(call: ApiRequest, request: RecordedRequest, key: str | None) -> None:
    """Keep the request an email came in (for the inbox), once per request."""
    store = call.backend.store
    if store.get(REQUEST, request.request_id) is not None:
        return
    headers = {k: v for k, v in request.headers.items() if k != "authorization"}
    data = {
        "method": request.method,
        "path": request.target,
        "headers": headers,
        "idempotency_key": key,
        "body": request.body.decode("utf-8", "replace"),
    }
    store.put(Entity(REQUEST, request.request_id, data))


def accept(
    call: ApiRequest, drafts: list[SandboxEmail], *, broadcast_id: str | None = None
) -> list[SandboxEmail]:
    """Give drafted emails their ids and start their lifecycles; the accepted emails."""
    backend = call.backend
    now = backend.now()
    if backend.quota is not None:
        backend.quota.reserve(len(drafts), now)
    request = call.request
    _record_request(call, request, request.idempotency_key)
    accepted_emails: list[SandboxEmail] = []
    for item in drafts:
        email = replace(
            item,
            id=new_public_id("em"),
            numeric_id=backend.store.next_id(EMAIL),
            created_at=isoformat(now),
            request_id=request.request_id,
            broadcast_id=broadcast_id,
        )
        accepted_emails.append(backend.lifecycle.accept(email))
    return accepted_emails


def find(call: ApiRequest, email_id: str) -> SandboxEmail:
    email = call.backend.store.emails.get(email_id)
    if email is None:
        raise not_found("Email")
    return email


# --- sending ----------------------------------------------------------------------------


@routes.post("/emails", sending=True)
def send(call: ApiRequest) -> Reply:
    body = call.body()
    email = draft(call, body.data)

    def run() -> Reply:
        (sent,) = accept(call, [email])
        return accepted({"id": sent.id})

    if email.idempotency_key:
        scope = scope_for(call, "/emails", email.idempotency_key)
        return idempotent(call.backend, scope, canonical(call.request.body), run)
    return run()


@routes.post("/emails/batch", sending=True)
def batch(call: ApiRequest) -> Reply:
    body = call.body()
    emails = as_list(body.data.get("emails"))
    if emails is None:
        raise bad_request("Missing required field: emails (a list)")
    if not emails:
        raise bad_request("'emails' must not be empty")
    if len(emails) > MAX_BATCH:
        raise unprocessable(f"A batch holds at most {MAX_BATCH} emails, got {len(emails)}")
    drafts = [draft(call, item, f"emails[{index}]: ") for index, item in enumerate(emails)]
    return accepted({"data": [{"id": email.id} for email in accept(call, drafts)]})


# --- reading ----------------------------------------------------------------------------


def detailed(email: SandboxEmail) -> dict[str, Any]:
    """The Email object plus what the sandbox can also show: the bodies and attachments."""
    data = email.to_api()
    data["html"] = email.html
    data["text"] = email.text
    data["attachments"] = [
        {
            "filename": item.get("filename"),
            "contentType": attachment_type(item),
            "size": len(attachment_bytes(item)),
        }
        for item in email.attachments
    ]
    return data


@routes.get("/emails/{id}", sending=True)
def get(call: ApiRequest) -> Reply:
    return ok({"email": detailed(find(call, call.param("id")))})


@routes.get("/emails/{id}/events", sending=True)
def get_events(call: ApiRequest) -> Reply:
    email = find(call, call.param("id"))
    return ok({"events": [event.to_api() for event in email.events]})


@routes.get("/emails/{id}/insights", sending=True)
def get_insights(call: ApiRequest) -> Reply:
    email = find(call, call.param("id"))
    domain = domains.sending_domain(call.backend.store, email.from_address.rsplit("@", 1)[1])
    return ok(_content.insights(email.subject, email.html, email.text, email, domain))


def _matches(email: SandboxEmail, query: dict[str, str]) -> bool:
    def contains(needle: str, haystack: str | None) -> bool:
        return haystack is not None and needle.lower() in haystack.lower()

    if (status := query.get("status")) and email.status != status:
        return False
    if (domain_id := query.get("domain_id")) and str(email.domain_id) != domain_id:
        return False
    if (to := query.get("to")) and not any(contains(to, a) for a in email.to):
        return False
    if (sender := query.get("from")) and not contains(sender, email.from_):
        return False
    if (subject := query.get("subject")) and not contains(subject, email.subject):
        return False
    if (tag := query.get("tag")) and tag not in email.tags:
        return False
    created = parse_timestamp(email.created_at)
    assert created is not None
    for name in ("date_from", "date_to"):
        raw = query.get(name)
        if not raw:
            continue
        moment = parse_timestamp(raw)
        if moment is None:
            raise bad_request(f"'{name}' must be an ISO 8601 date or timestamp")
        if name == "date_from" and created < moment:
            return False
        # A bare date means "to the end of that day".
        end = moment + timedelta(days=1) if len(raw.strip()) == 10 else moment
        if name == "date_to" and created > end:
            return False
    return True


@routes.get("/emails", sending=True)
def list_(call: ApiRequest) -> Reply:
    query = call.query
    page, size = page_params(query)
    emails = call.backend.store.emails.values()
    selected = [e for e in reversed(list(emails)) if _matches(e, query)]
    total = len(selected)
    start = (page - 1) * size
    return ok(
        {
            "emails": [e.to_api() for e in selected[start : start + size]],
            "pagination": {
                "total": total,
                "page": page,
                "per_page": size,
                "total_pages": (total + size - 1) // size,
            },
        }
    )


# --- scheduling -------------------------------------------------------------------------


@routes.post("/emails/{id}/cancel")
def cancel(call: ApiRequest) -> Reply:
    email = call.backend.lifecycle.cancel(find(call, call.param("id")))
    return ok({"email": email.to_api()})


@routes.patch("/emails/{id}")
def reschedule(call: ApiRequest) -> Reply:
    email = find(call, call.param("id"))
    moment = call.body().timestamp("scheduled_at", required=True)
    assert moment is not None
    if email.status == "scheduled" and moment <= call.backend.now():
        raise unprocessable("'scheduled_at' must be in the future")
    email = call.backend.lifecycle.reschedule(email, moment)
    return ok({"email": email.to_api()})


# --- previews ---------------------------------------------------------------------------


@routes.post("/emails/preview", sending=True)
def preview(call: ApiRequest) -> Reply:
    email = draft(call, call.body().data, limit_recipients=MAX_PREVIEW_RECIPIENTS)
    if len(email.to) > MAX_PREVIEW_RECIPIENTS:
        raise unprocessable(f"A preview takes 1 to {MAX_PREVIEW_RECIPIENTS} 'to' addresses")
    domain = domains.sending_domain(call.backend.store, email.from_address.rsplit("@", 1)[1])
    report = _content.insights(email.subject, email.html, email.text, email, domain)
    return ok(
        {
            "from": email.from_,
            "to": list(email.to),
            "subject": email.subject,
            "html": email.html,
            "text": email.text,
            **report,
        }
    )


@routes.post("/emails/spam-preview", sending=True)
def spam_preview(call: ApiRequest) -> Reply:
    fields = call.body()
    return ok(
        _content.spam_report(fields.text("subject"), fields.text("html"), fields.text("text"))
    )

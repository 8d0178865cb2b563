"""Human-readable output: error lines, emails, tables, what a sandbox received."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from poststack import PostStackError
    from poststack.testing import EmailEvent, RecordedRequest, SandboxEmail

PREVIEW_CHARS = 60
SUBJECT_CHARS = 40

# Request headers worth showing in a sandbox summary, in this order.
SHOWN_REQUEST_HEADERS = ("authorization", "idempotency-key", "content-type", "user-agent")
_HEADER_NAMES = {
    "authorization": "Authorization",
    "idempotency-key": "Idempotency-Key",
    "content-type": "Content-Type",
    "user-agent": "User-Agent",
}


def error_line(exc: PostStackError) -> str:
    """``error: 422 unprocessable_entity: Domain not verified (request id req_1)``."""
    from poststack import PostStackConnectionError

    parts = [f"error: {exc.status_code}"]
    if exc.code:
        parts.append(f" {exc.code}")
    parts.append(f": {exc.error}")
    notes: list[str] = []
    if isinstance(exc, PostStackConnectionError):
        notes.append("no HTTP response from the server")
    elif exc.request_id:
        notes.append(f"request id {exc.request_id}")
    else:
        notes.append("no request id")
    if exc.retry_after is not None:
        notes.append(f"retry after {exc.retry_after:g} s")
    parts.append(f" ({'; '.join(notes)})")
    return "".join(parts)


def redact_authorization(value: str) -> str:
    """``Bearer sk_test_…``: enough to see which kind of key went out, never the key."""
    scheme, _, token = value.partition(" ")
    if not token:
        return "…"
    prefix = token[: token.index("_", 3) + 1] if token.count("_") >= 2 else token[:3]
    return f"{scheme} {prefix}…"


def shorten(text: str, limit: int) -> str:
    """One line of at most ``limit`` characters, whitespace collapsed."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def body_line(text: str | None) -> str:
    if text is None:
        return "(none)"
    size = len(text.encode("utf-8"))
    return f"{size} bytes  {shorten(text, PREVIEW_CHARS)}"


def attachment_size(attachment: Mapping[str, Any]) -> int | None:
    content = attachment.get("content")
    if not isinstance(content, str):
        return None
    try:
        return len(base64.b64decode("".join(content.split()), validate=True))
    except (binascii.Error, ValueError):
        return None


def attachment_line(attachment: Mapping[str, Any]) -> str:
    name = attachment.get("filename", "?")
    kind = attachment.get("content_type") or "no content type"
    size = attachment_size(attachment)
    where = f"{size} bytes" if size is not None else "undecodable content"
    return f"{name} ({kind}, {where})"


def fields(rows: Iterable[tuple[str, str]], indent: str = "") -> list[str]:
    """Aligned ``name:  value`` lines."""
    pairs = list(rows)
    if not pairs:
        return []
    width = max(len(name) for name, _ in pairs) + 1
    return [f"{indent}{name + ':':<{width}}  {value}" for name, value in pairs]


def joined(values: Sequence[str] | None) -> str:
    return ", ".join(values) if values else ""


def sandbox_summary(
    base_url: str, email: SandboxEmail, request: RecordedRequest | None
) -> list[str]:
    """What ``send --sandbox`` prints after the id."""
    lines = [
        f"Accepted by the local PostStack sandbox at {base_url}",
        "(the sandbox has stopped; nothing was sent to a real mailbox).",
        "",
    ]
    if request is not None:
        lines.append(
            f"Request: {request.method} {request.target}  (request id {request.request_id})"
        )
        shown: list[tuple[str, str]] = []
        for name in SHOWN_REQUEST_HEADERS:
            value = request.headers.get(name)
            if value is None:
                continue
            if name == "authorization":
                value = redact_authorization(value)
            shown.append((_HEADER_NAMES[name], value))
        lines += fields(shown, "  ")
        lines.append("")
    lines.append("Email:")
    rows: list[tuple[str, str]] = [
        ("id", email.id),
        ("status", email.status),
        ("from", email.from_),
        ("to", joined(email.to)),
    ]
    if email.cc:
        rows.append(("cc", joined(email.cc)))
    if email.bcc:
        rows.append(("bcc", joined(email.bcc)))
    if email.reply_to:
        rows.append(("reply-to", email.reply_to))
    rows.append(("subject", email.subject if email.subject is not None else "(none)"))
    if email.template_id:
        rows.append(("template", email.template_id))
    if email.html is not None or email.text is None:
        rows.append(("html", body_line(email.html)))
    if email.text is not None:
        rows.append(("text", body_line(email.text)))
    if email.tags:
        rows.append(("tags", joined(email.tags)))
    for name, value in email.headers.items():
        rows.append((f"header {name}", value))
    for attachment in email.attachments:
        rows.append(("attachment", attachment_line(attachment)))
    if email.scheduled_at:
        rows.append(("scheduled at", email.scheduled_at))
    if email.idempotency_key:
        rows.append(("idempotency_key", email.idempotency_key))
    lines += fields(rows, "  ")
    return lines


def sandbox_email_line(email: SandboxEmail) -> str:
    """One line per accepted email, for ``poststack sandbox``."""
    recipients = joined(email.to)
    extra = len(email.cc) + len(email.bcc)
    if extra:
        recipients += f" (+{extra} cc/bcc)"
    bodies = [
        f"{kind} {len(value.encode('utf-8'))} B"
        for kind, value in (("html", email.html), ("text", email.text))
        if value is not None
    ]
    if email.attachments:
        bodies.append(f"{len(email.attachments)} attachment(s)")
    subject = shorten(email.subject or "", SUBJECT_CHARS)
    status = email.status + (f" for {email.scheduled_at}" if email.scheduled_at else "")
    return (
        f"{email.created_at}  {email.id}  {status}  {email.from_} -> {recipients}  "
        f"{subject!r}  [{', '.join(bodies) or 'template'}]"
    )


def sandbox_step_line(email: SandboxEmail, event: EmailEvent) -> str:
    """One line per later step of an email (sent, delivered, bounced, ...)."""
    detail = event.detail.get("recipient") or event.detail.get("reason") or ""
    return f"{event.at}  {email.id}  {event.type}" + (f"  ({detail})" if detail else "")


def email_details(email: Mapping[str, Any]) -> list[str]:
    """``poststack emails get``: the Email object of API §8, one field a line."""
    sender = email.get("fromAddress", "")
    if email.get("fromName"):
        sender = f"{email['fromName']} <{sender}>"
    rows: list[tuple[str, str]] = [
        ("id", str(email.get("publicId", email.get("id", "")))),
        ("status", str(email.get("status", ""))),
        ("from", str(sender)),
        ("to", joined(email.get("toAddresses"))),
    ]
    for label, key in (
        ("cc", "ccAddresses"),
        ("bcc", "bccAddresses"),
        ("tags", "tags"),
    ):
        if email.get(key):
            rows.append((label, joined(email[key])))
    if email.get("replyTo"):
        rows.append(("reply-to", str(email["replyTo"])))
    rows.append(("subject", str(email.get("subject") or "")))
    for label, key in (
        ("created", "createdAt"),
        ("scheduled", "scheduledAt"),
        ("sent", "sentAt"),
    ):
        if email.get(key):
            rows.append((label, str(email[key])))
    if "testMode" in email:
        rows.append(("test mode", "yes" if email["testMode"] else "no"))
    lines = fields(rows)
    events: list[dict[str, Any]] = email.get("events") or []
    if events:
        lines.append("events:")
        lines += [f"  {event.get('timestamp', '')}  {event.get('type', '')}" for event in events]
    return lines


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [len(title) for title in header]
    for row in rows:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]
    out: list[str] = []
    for row in (header, *rows):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        out.append("  ".join(cells).rstrip())
    return out


def email_table(emails: Sequence[Mapping[str, Any]]) -> list[str]:
    """``poststack emails list``: id, status, created, recipients, subject."""
    rows = [
        [
            str(email.get("publicId", email.get("id", ""))),
            str(email.get("status", "")),
            str(email.get("createdAt", "")),
            shorten(joined(email.get("toAddresses")), SUBJECT_CHARS),
            shorten(str(email.get("subject") or ""), SUBJECT_CHARS),
        ]
        for email in emails
    ]
    return table(["ID", "STATUS", "CREATED", "TO", "SUBJECT"], rows)


def pagination_line(count: int, pagination: Mapping[str, Any] | None) -> str:
    if not pagination:
        return f"{count} email{'s' if count != 1 else ''}"
    if pagination.get("total") == 0:
        return "no emails"
    page = pagination.get("page", "?")
    pages = pagination.get("total_pages", pagination.get("totalPages", "?"))
    total = pagination.get("total", "?")
    return f"page {page} of {pages} ({total} email{'s' if total != 1 else ''} in all)"

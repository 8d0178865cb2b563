"""``emails``: send, batch, read and manage transactional emails."""

from __future__ import annotations

import base64
import binascii
import builtins
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._narrow import as_list, as_mapping
from .._operation import Operation, Plan, check_idempotency_key, mapping_body, query_pairs, segment
from ._build import op

if TYPE_CHECKING:
    from ..types.emails import (
        BatchEmailParams,
        BatchEmailResponse,
        BatchEmailResult,
        EmailEventsResponse,
        EmailInsightsResponse,
        GetEmailResponse,
        ListEmailsParams,
        ListEmailsResponse,
        PreviewEmailParams,
        SendEmailParams,
        SendEmailResponse,
    )

BATCH_LIMIT = 100


def _check_attachments(email: Mapping[str, Any], where: str) -> None:
    if email.get("attachments") is None:
        return
    attachments = as_list(email["attachments"])
    if attachments is None:
        raise TypeError(f"{where}attachments must be a list of {{filename, content}} dicts")
    for i, item in enumerate(attachments):
        attachment = as_mapping(item)
        if attachment is None:
            raise TypeError(f"{where}attachments[{i}] must be a dict")
        content: object = attachment.get("content")
        if content is None:
            continue
        if not isinstance(content, str):
            raise TypeError(
                f"{where}attachments[{i}].content must be base64 text (str), got "
                f"{type(content).__name__}; encode bytes with base64.b64encode(data).decode()"
            )
        try:
            # Line breaks are common in MIME-style base64 and harmless; anything else is not.
            base64.b64decode("".join(content.split()), validate=True)
        except (ValueError, binascii.Error):
            raise ValueError(f"{where}attachments[{i}].content is not valid base64") from None


def _check_email(item: object, where: str) -> None:
    email = as_mapping(item)
    if email is None:
        raise TypeError(f"{where} must be a dict (an email payload), got {type(item).__name__}")
    _check_attachments(email, f"{where}.")


def send(
    input: SendEmailParams,
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[SendEmailResponse]:
    """Send one email (``POST /emails``, 202). The payload goes out as given."""
    body = mapping_body(input, "input")
    _check_attachments(body, "")
    return op("POST", "/emails", body=body, timeout=timeout, idempotency_key=idempotency_key)


def batch(
    input: BatchEmailParams,
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[BatchEmailResponse]:
    """Send up to 100 emails in one request (``POST /emails/batch``)."""
    body = mapping_body(input, "input")
    emails = as_list(body.get("emails"))
    if emails is None:
        raise TypeError('emails.batch takes {"emails": [...]}, a list of email payloads')
    if len(emails) > BATCH_LIMIT:
        raise ValueError(
            f"emails.batch takes at most {BATCH_LIMIT} emails, got {len(emails)}; "
            "use emails.send_many() to send any number in batches"
        )
    for i, item in enumerate(emails):
        _check_email(item, f"emails[{i}]")
    return op("POST", "/emails/batch", body=body, timeout=timeout, idempotency_key=idempotency_key)


def _batch_results(responses: Sequence[Any]) -> builtins.list[BatchEmailResult]:
    results: builtins.list[BatchEmailResult] = []
    for response in responses:
        page = as_mapping(response)
        data = as_list(page.get("data")) if page is not None else None
        results.extend(data or [])
    return results


def send_many(
    emails: Sequence[SendEmailParams],
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Plan[builtins.list[BatchEmailResult]]:
    """Send any number of emails, in batches of 100; one result per email, in order.

    Each result is ``{"id": "em_…"}`` or ``{"error": "…"}``, as ``emails.batch``
    answers. Every email is checked before the first request goes out. Each
    batch is one POST with its own Idempotency-Key; pass ``idempotency_key="k"``
    and batch ``n`` uses ``"k-n"``, so running the same call again after a
    failure does not send the batches that were already accepted twice. If a
    batch fails, its error is raised and the batches before it stay sent.
    """
    if isinstance(emails, (str, bytes)) or not isinstance(emails, Sequence):
        raise TypeError(f"emails must be a list of email payloads, got {type(emails).__name__}")
    for i, item in enumerate(emails):
        _check_email(item, f"emails[{i}]")
    key = check_idempotency_key(idempotency_key)
    operations = tuple(
        op(
            "POST",
            "/emails/batch",
            body={"emails": builtins.list(emails[start : start + BATCH_LIMIT])},
            timeout=timeout,
            idempotency_key=None if key is None else f"{key}-{n}",
        )
        for n, start in enumerate(range(0, len(emails), BATCH_LIMIT))
    )
    return Plan(operations, _batch_results)


def get(id: str, *, timeout: float | None = None) -> Operation[GetEmailResponse]:
    """One email by its public id (``em_…``), wrapped as ``{"email": {...}}``."""
    return op("GET", f"/emails/{segment(id, 'id')}", timeout=timeout)


def list(
    params: ListEmailsParams | None = None, *, timeout: float | None = None
) -> Operation[ListEmailsResponse]:
    """A page of emails; ``params`` filter and paginate (``page``, ``per_page`` …)."""
    return op("GET", "/emails", query=query_pairs(params), timeout=timeout)


def cancel(
    id: str, *, timeout: float | None = None, idempotency_key: str | None = None
) -> Operation[dict[str, Any]]:
    """Cancel a scheduled email."""
    return op(
        "POST",
        f"/emails/{segment(id, 'id')}/cancel",
        timeout=timeout,
        idempotency_key=idempotency_key,
    )


def reschedule(
    id: str, scheduled_at: str, *, timeout: float | None = None
) -> Operation[dict[str, Any]]:
    """Move a scheduled email to ``scheduled_at`` (ISO 8601)."""
    if not isinstance(scheduled_at, str):
        raise TypeError("scheduled_at must be an ISO 8601 str, e.g. '2026-12-01T09:00:00Z'")
    return op(
        "PATCH",
        f"/emails/{segment(id, 'id')}",
        body={"scheduled_at": scheduled_at},
        timeout=timeout,
    )


def get_events(id: str, *, timeout: float | None = None) -> Operation[EmailEventsResponse]:
    return op("GET", f"/emails/{segment(id, 'id')}/events", timeout=timeout)


def get_insights(id: str, *, timeout: float | None = None) -> Operation[EmailInsightsResponse]:
    return op("GET", f"/emails/{segment(id, 'id')}/insights", timeout=timeout)


def preview(
    input: PreviewEmailParams,
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[dict[str, Any]]:
    """Render and lint a draft without sending it."""
    return op(
        "POST",
        "/emails/preview",
        body=mapping_body(input, "input"),
        timeout=timeout,
        idempotency_key=idempotency_key,
    )


def spam_preview(
    input: PreviewEmailParams,
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[dict[str, Any]]:
    """Score a draft for spam without sending it."""
    return op(
        "POST",
        "/emails/spam-preview",
        body=mapping_body(input, "input"),
        timeout=timeout,
        idempotency_key=idempotency_key,
    )

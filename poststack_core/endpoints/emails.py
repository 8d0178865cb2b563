"""``emails``: send, batch, read and manage transactional emails."""

from __future__ import annotations

import base64
import binascii
import builtins
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from .._errors import PostStackError, SendManyError
from .._narrow import as_list, as_mapping
from .._operation import Operation, Plan, check_idempotency_key, mapping_body, query_pairs, segment
from .._resource import Mode, Resource, endpoint, pages, planned
from ._build import op

if TYPE_CHECKING:
    from ..types.emails import (
        BatchEmailError,
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
        # The batch operations' check made sure each answer has one entry per email.
        results.extend(response["data"])
    return results


def _expects_results(count: int) -> Callable[[Any], str | None]:
    """A check that a batch answered one ``data`` entry per email it was sent."""

    def check(answer: Mapping[str, Any]) -> str | None:
        # ``answer`` is a JSON object already: the Call parsed it before asking.
        data = as_list(answer.get("data"))
        if data is None:
            return f"no data list, where {count} results were promised"
        if len(data) != count or not all(as_mapping(entry) is not None for entry in data):
            return f"{len(data)} results for {count} emails"
        return None

    return check


def _send_many_failed(
    total: int,
) -> Callable[[Sequence[Any], PostStackError], PostStackError]:
    def failed(responses: Sequence[Any], error: PostStackError) -> PostStackError:
        done = _batch_results(responses)
        not_sent: BatchEmailError = {"error": f"not sent: {error}", "code": SendManyError.NOT_SENT}
        return SendManyError(
            error.status_code,
            error.error,
            error.code,
            error.request_id,
            error.headers,
            error.retry_after,
            retryable=error.retryable,
            is_quota=error.is_quota,
            results=[*done, *(dict(not_sent) for _ in range(total - len(done)))],
        )

    return failed


def send_many(
    emails: Sequence[SendEmailParams],
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Plan[builtins.list[BatchEmailResult]]:
    """Send any number of emails, in batches of 100; one result per email, in order.

    Each result is ``{"id": "em_…"}`` or ``{"error": "…"}``, as ``emails.batch``
    answers (an answer without one entry per email is ``invalid_response``).
    Every email is checked before the first request goes out. Each batch is
    one POST with its own Idempotency-Key; pass ``idempotency_key="k"`` and
    batch ``n`` uses ``"k-n"``, so running the same call again after a failure
    does not send the batches that were already accepted twice.

    A batch that fails (after its retries) stops the call: the batches after it
    are not sent, and :class:`~poststack.SendManyError` is raised with the
    failed batch's status and code, and ``results`` for every email: the ids
    of those already accepted, ``"code": "not_sent"`` for the rest.
    """
    if isinstance(emails, (str, bytes)) or not isinstance(emails, Sequence):
        raise TypeError(f"emails must be a list of email payloads, got {type(emails).__name__}")
    for i, item in enumerate(emails):
        _check_email(item, f"emails[{i}]")
    key = check_idempotency_key(idempotency_key)
    last = f"-{max(len(emails) - 1, 0) // BATCH_LIMIT}"
    if key is not None and len(key) + len(last) > 255:
        raise ValueError(
            f"idempotency_key is too long for send_many, which sends batch n as "
            f"'<key>-n': at most {255 - len(last)} characters for {len(emails)} emails"
        )
    operations = tuple(
        op(
            "POST",
            "/emails/batch",
            body={"emails": builtins.list(batch)},
            timeout=timeout,
            idempotency_key=None if key is None else f"{key}-{n}",
            check=_expects_results(len(batch)),
        )
        for n, batch in enumerate(
            emails[start : start + BATCH_LIMIT] for start in range(0, len(emails), BATCH_LIMIT)
        )
    )
    return Plan(operations, _batch_results, _send_many_failed(len(emails)))


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
    """The delivery timeline of an email: queued, sent, delivered, opened and so on.

    ``GET /emails/{id}/events``
    """
    return op("GET", f"/emails/{segment(id, 'id')}/events", timeout=timeout)


def get_insights(id: str, *, timeout: float | None = None) -> Operation[EmailInsightsResponse]:
    """Deliverability warnings about an email (``GET /emails/{id}/insights``)."""
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


class Emails(Resource[Mode]):
    """``ps.emails``: send, batch, read and manage transactional emails."""

    send: Final = endpoint(send)
    batch: Final = endpoint(batch)
    send_many: Final = planned(send_many)
    get: Final = endpoint(get)
    list: Final = endpoint(list)
    list_all: Final = pages(list, lambda page: page.get("emails"))
    cancel: Final = endpoint(cancel)
    reschedule: Final = endpoint(reschedule)
    get_events: Final = endpoint(get_events)
    get_insights: Final = endpoint(get_insights)
    preview: Final = endpoint(preview)
    spam_preview: Final = endpoint(spam_preview)

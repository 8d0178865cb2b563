"""``emails``: send, batch, read and manage transactional emails."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final

from .._bulk_plan import BATCH_LIMIT, Chunk
from .._bulk_run import (
    DEFAULT_CONCURRENCY,
    CancelFlag,
    SendMany,
    send_chunk_job,
    send_many_job,
)
from .._email_checks import check_attachments, check_email
from .._narrow import as_list
from .._operation import Operation, mapping_body, query_pairs, segment
from .._resource import Mode, Resource, bulk, endpoint, pages
from ._build import op

if TYPE_CHECKING:
    from _typeshed import StrPath

    from .._bulk_results import Progress
    from ..types.emails import (
        BatchEmailParams,
        BatchEmailResponse,
        EmailEventsResponse,
        EmailInsightsResponse,
        GetEmailResponse,
        ListEmailsParams,
        ListEmailsResponse,
        PreviewEmailParams,
        SendEmailParams,
        SendEmailResponse,
    )


def send(
    input: SendEmailParams,
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[SendEmailResponse]:
    """Send one email (``POST /emails``, 202). The payload goes out as given."""
    body = mapping_body(input, "input")
    check_attachments(body, "")
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
        check_email(item, f"emails[{i}]")
    return op("POST", "/emails/batch", body=body, timeout=timeout, idempotency_key=idempotency_key)


def send_many(
    emails: Sequence[SendEmailParams],
    *,
    run_id: str | None = None,
    batch_size: int = BATCH_LIMIT,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_progress: Callable[[Progress], object] | None = None,
    cancel: CancelFlag | None = None,
    journal: StrPath | None = None,
    detect_changes: bool = True,
    timeout: float | None = None,
) -> SendMany:
    """Send any number of emails: paced, concurrent, resumable, never twice.

    Returns a :class:`~poststack.SendManyResult`: one result per email in
    input order (its id, or the ``PostStackError`` for that email or its
    batch) and the counts ``sent``, ``failed`` and ``skipped``. A failure
    never loses another email's id; ``result.raise_for_failures()`` raises
    :class:`~poststack.SendManyError` if any email was not sent.

    - ``batch_size`` emails per ``POST /emails/batch`` (at most 100); 1 sends
      each email with ``POST /emails``. A batch the API refuses as a whole
      for a reason that may be one email's (400, 403, 404, 413, 422) is split
      in halves, down to that email.
    - ``concurrency`` chunks in flight at once: threads on ``PostStack``,
      tasks on ``AsyncPostStack``. Every request goes through the client's
      pacing (``PostStack(pacing=...)``), else through a pacer of the run's
      own that follows ``x-ratelimit-*`` and ``Retry-After`` and slows down
      on 429s. A throttled chunk is sent again later; a quota 429 or a 401
      stops the run, and the emails not sent are ``skipped``.
    - ``run_id`` makes every request's Idempotency-Key deterministic
      (``{run_id}-{chunk}-{hash of its emails}``): run the same input with
      the same ``run_id`` again after a crash, a kill or a deploy, and only
      the emails not sent before are sent. The run registers its plan with
      the API first (one request that sends nothing; ``detect_changes=False``
      skips it), so the same ``run_id`` with a different input raises
      :class:`~poststack.RunChangedError` before anything is sent. Without
      one, a fresh id is used: ``result.run_id`` is the one to finish with.
    - ``journal``, a file path (needs ``run_id``): the run appends each
      accepted chunk to it; a rerun skips those chunks without a request and
      detects a changed input on its own.
    - ``on_progress(progress)`` is called before the first chunk and after
      each (never concurrently) with a :class:`~poststack.Progress`: sent,
      failed, skipped, total, rate and ETA. An exception in it is logged and
      the run goes on.
    - ``cancel``, e.g. a ``threading.Event``: once set, no chunk starts; those
      in flight finish, the rest is ``skipped`` and the call returns.

    Every email and argument is checked before the first request goes out.
    """
    return send_many_job(
        emails,
        run_id=run_id,
        batch_size=batch_size,
        concurrency=concurrency,
        timeout=timeout,
        on_progress=on_progress,
        cancel=cancel,
        journal=journal,
        detect_changes=detect_changes,
    )


def send_chunk(chunk: Chunk, *, timeout: float | None = None) -> SendMany:
    """Send one chunk of a plan made with ``plan_send_many`` (a job queue's chunk job).

    The chunk's own Idempotency-Key makes a redelivered job safe: a chunk the
    API accepted is answered from its idempotency store, not sent again. A
    batch refused as a whole is split as ``send_many`` does. Returns a
    :class:`~poststack.SendManyResult` of the chunk's emails (each
    ``EmailResult.index`` is the email's position in the whole input).
    """
    return send_chunk_job(chunk, timeout=timeout)


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
    send_many: Final = bulk(send_many)
    send_chunk: Final = bulk(send_chunk)
    get: Final = endpoint(get)
    list: Final = endpoint(list)
    list_all: Final = pages(list, lambda page: page.get("emails"))
    cancel: Final = endpoint(cancel)
    reschedule: Final = endpoint(reschedule)
    get_events: Final = endpoint(get_events)
    get_insights: Final = endpoint(get_insights)
    preview: Final = endpoint(preview)
    spam_preview: Final = endpoint(spam_preview)

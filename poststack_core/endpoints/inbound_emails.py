"""``inbound_emails``: mail received on your domains (numeric ids, under ``/inbound``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from .._operation import Operation, mapping_body, numeric, query_pairs
from .._resource import Mode, Resource, endpoint, pages
from ._build import op, optional_body

if TYPE_CHECKING:
    from ..types.inbound_emails import (
        DraftReplyParams,
        ForwardInboundParams,
        InboundAttachmentsResponse,
        InboundEmailResponse,
        InboundReplyDraft,
        InboundSendResponse,
        ListInboundEmailsParams,
        ListInboundEmailsResponse,
        ReplyInboundParams,
    )


def _path(id: int, action: str = "") -> str:
    return f"/inbound/{numeric(id, 'id')}{action}"


def list(
    params: ListInboundEmailsParams | None = None, *, timeout: float | None = None
) -> Operation[ListInboundEmailsResponse]:
    """The inbound emails (``GET /inbound``); ``params`` filter and paginate, sent as given."""
    return op("GET", "/inbound", query=query_pairs(params), timeout=timeout)


def get(id: int, *, timeout: float | None = None) -> Operation[InboundEmailResponse]:
    """One inbound email by its numeric id (``GET /inbound/{id}``)."""
    return op("GET", _path(id), timeout=timeout)


def list_attachments(
    id: int, *, timeout: float | None = None
) -> Operation[InboundAttachmentsResponse]:
    """The attachments of an inbound email (``GET /inbound/{id}/attachments``)."""
    return op("GET", _path(id, "/attachments"), timeout=timeout)


def download_attachment(
    id: int, attachment_id: int, *, timeout: float | None = None
) -> Operation[bytes]:
    """One attachment's raw bytes."""
    path = _path(id, f"/attachments/{numeric(attachment_id, 'attachment_id')}")
    return op("GET", path, response="bytes", timeout=timeout)


def draft_reply(
    id: int,
    input: DraftReplyParams | None = None,
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[InboundReplyDraft]:
    """A reply skeleton (sender, subject, threading, quoted original); sends ``{}`` by default."""
    body = optional_body(input, "input", omitted={})
    path = _path(id, "/draft-reply")
    return op("POST", path, body=body, timeout=timeout, idempotency_key=idempotency_key)


def reply(
    id: int,
    input: ReplyInboundParams,
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[InboundSendResponse]:
    """Reply in the same thread (In-Reply-To is set for you)."""
    body = mapping_body(input, "input")
    path = _path(id, "/reply")
    return op("POST", path, body=body, timeout=timeout, idempotency_key=idempotency_key)


def forward(
    id: int,
    input: ForwardInboundParams,
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[InboundSendResponse]:
    """Forward the message, attachments included, to new recipients."""
    body = mapping_body(input, "input")
    path = _path(id, "/forward")
    return op("POST", path, body=body, timeout=timeout, idempotency_key=idempotency_key)


class InboundEmails(Resource[Mode]):
    """``ps.inbound_emails``: mail received on your domains."""

    list: Final = endpoint(list)
    list_all: Final = pages(list, lambda page: page.get("emails"))
    get: Final = endpoint(get)
    list_attachments: Final = endpoint(list_attachments)
    download_attachment: Final = endpoint(download_attachment)
    draft_reply: Final = endpoint(draft_reply)
    reply: Final = endpoint(reply)
    forward: Final = endpoint(forward)

"""Types of the ``inbound_emails`` resource (numeric ids, served under ``/inbound``)."""

from typing import Any, Literal, TypedDict

from .common import ListParams, Pagination

__all__ = [
    "DraftReplyParams",
    "ForwardInboundParams",
    "InboundAddress",
    "InboundAttachment",
    "InboundAttachmentsResponse",
    "InboundEmail",
    "InboundEmailResponse",
    "InboundReplyDraft",
    "InboundSendResponse",
    "ListInboundEmailsParams",
    "ListInboundEmailsResponse",
    "ReplyInboundParams",
]


class InboundAddress(TypedDict):
    """An address on inbound mail, with the display name that came with it."""

    address: str
    name: str | None


class _InboundEmailRequired(TypedDict):
    id: int
    fromAddress: str
    toAddress: str
    createdAt: str


class InboundEmail(_InboundEmailRequired, total=False):
    """An email received on one of your domains (``inbound_emails.list_all`` yields them)."""

    domainId: int | None
    fromName: str | None
    toAddresses: list[InboundAddress] | None
    ccAddresses: list[InboundAddress] | None
    messageId: str | None
    subject: str | None
    htmlBody: str | None
    textBody: str | None
    headers: dict[str, str] | None
    mailboxHash: str | None
    spamScore: float | None
    spamVerdict: Literal["spam", "clean"] | None
    strippedReply: str | None


class InboundAttachment(TypedDict, total=False):
    """A file attached to an inbound email (download it with ``download_attachment``)."""

    id: int
    filename: str
    contentType: str
    size: int
    createdAt: str


class ListInboundEmailsParams(ListParams, total=False):
    """The query parameters of ``inbound_emails.list``."""

    domain: str
    """Only mail received on this domain (by name)."""


class ListInboundEmailsResponse(TypedDict, total=False):
    """What ``inbound_emails.list`` answers."""

    emails: list[InboundEmail]
    pagination: Pagination
    data: list[InboundEmail]
    meta: Pagination


class InboundEmailResponse(TypedDict):
    """What ``inbound_emails.get`` answers."""

    inboundEmail: InboundEmail


class InboundAttachmentsResponse(TypedDict):
    """What ``inbound_emails.list_attachments`` answers."""

    attachments: list[InboundAttachment]


class DraftReplyParams(TypedDict, total=False):
    """The payload of ``inbound_emails.draft_reply``."""

    tone: Literal["formal", "friendly", "casual"]


class InboundReplyDraft(TypedDict, total=False):
    """What ``inbound_emails.draft_reply`` answers."""

    inbound: dict[str, Any]
    suggested_from: str
    suggested_subject: str
    salutation: str
    body_placeholder: str
    quoted_html: str
    quoted_text: str
    threading: dict[str, Any]
    suggested_html: str
    suggested_text: str
    signs_automatically: bool


_ReplyRequired = TypedDict("_ReplyRequired", {"from": str})


class ReplyInboundParams(_ReplyRequired, total=False):
    """``from`` is a verified sender, e.g. ``"Support <support@yourdomain.com>"``."""

    html: str
    text: str
    cc: list[str]
    bcc: list[str]


_ForwardRequired = TypedDict("_ForwardRequired", {"from": str, "to": list[str]})


class ForwardInboundParams(_ForwardRequired, total=False):
    """``to`` takes 1-50 addresses, ``cc`` and ``bcc`` up to 50 each."""

    cc: list[str]
    bcc: list[str]
    message: str


class InboundSendResponse(TypedDict):
    """What ``inbound_emails.reply``, ``inbound_emails.forward`` answer."""

    id: str
    """The new outbound email's ``em_…`` id."""

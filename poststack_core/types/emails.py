"""Types of the ``emails`` resource (API spec sections 7 and 8)."""

from typing import Any, Literal, TypedDict

from .common import Pagination

__all__ = [
    "Attachment",
    "BatchEmailError",
    "BatchEmailItem",
    "BatchEmailParams",
    "BatchEmailResponse",
    "BatchEmailResult",
    "Email",
    "EmailEvent",
    "EmailEventsResponse",
    "EmailInsightsResponse",
    "EmailStatus",
    "GetEmailResponse",
    "InsightWarning",
    "ListEmailsParams",
    "ListEmailsResponse",
    "PreviewEmailParams",
    "SendEmailParams",
    "SendEmailResponse",
]


EmailStatus = Literal[
    "queued", "scheduled", "sending", "sent", "deferred", "delivered", "bounced",
    "complained", "failed", "cancelled",
]  # fmt: skip


class Attachment(TypedDict, total=False):
    """A file sent with an email: ``filename``, base64 ``content`` and ``content_type``."""

    filename: str
    content: str
    """Base64 of the file's bytes."""
    content_type: str


# "from" is a Python keyword, so the keys that need it use the functional form,
# and the rest inherit from it with class syntax.
_SendRequired = TypedDict("_SendRequired", {"from": str, "to": list[str]})


class SendEmailParams(_SendRequired, total=False):
    """``emails.send`` payload. ``from`` and ``to`` are required."""

    cc: list[str]
    bcc: list[str]
    reply_to: str
    subject: str
    html: str
    text: str
    headers: dict[str, str]
    tags: list[str]
    metadata: dict[str, str]
    """Your own data about the email; the webhook events about it carry it back."""
    attachments: list[Attachment]
    idempotency_key: str
    scheduled_at: str
    template_id: str
    variables: dict[str, str]
    unsubscribe: bool


BatchEmailItem = SendEmailParams


class BatchEmailParams(TypedDict):
    """The payload of ``emails.batch``."""

    emails: list[SendEmailParams]
    """At most 100 emails per call; ``emails.send_many`` splits larger lists."""


class _SendEmailResponseRequired(TypedDict):
    id: str
    """The new email's public id, ``em_…``."""


class SendEmailResponse(_SendEmailResponseRequired, total=False):
    """What ``emails.send`` answers."""

    replayed: bool
    """True when the body's ``idempotency_key`` matched an earlier send: nothing was sent."""
    test_mode: bool
    """True when the key is a test key: recorded, never handed to a mail server."""


class _BatchEmailErrorRequired(TypedDict):
    error: str
    """Why this one email of the batch was rejected (the others are unaffected)."""


class BatchEmailError(_BatchEmailErrorRequired, total=False):
    """The entry of an email that ``emails.batch`` (or ``send_many``) did not queue."""

    code: str
    """``"not_sent"`` in ``SendManyError.results`` for an email a failed batch left unsent."""


BatchEmailResult = SendEmailResponse | BatchEmailError
"""One entry of a batch's ``data``: ``{"id"}`` if queued, ``{"error"}`` if not."""


class BatchEmailResponse(TypedDict):
    """What ``emails.batch`` answers."""

    data: list[BatchEmailResult]
    """One entry per email, in the order sent."""


class PreviewEmailParams(_SendRequired, total=False):
    """The payload of ``emails.preview``, ``emails.spam_preview``."""

    subject: str
    html: str
    text: str
    template_id: str
    variables: dict[str, str]


class EmailEvent(TypedDict, total=False):
    """One step of an email's timeline: its type and when it happened."""

    type: str
    timestamp: str


class _EmailRequired(TypedDict):
    id: int
    """The numeric internal id; methods take ``publicId``."""
    publicId: str
    """``em_…``: what ``emails.get`` and the other email methods take."""
    fromAddress: str
    toAddresses: list[str]
    subject: str
    status: str
    """One of :data:`EmailStatus` (typed ``str``: the API may add states)."""
    testMode: bool
    createdAt: str


class Email(_EmailRequired, total=False):
    """An email as the API shows it: ids, addresses, subject, status and times.

    ``emails.get`` wraps one as ``{"email": ...}``; ``emails.list_all`` yields them.
    """

    fromName: str | None
    ccAddresses: list[str] | None
    bccAddresses: list[str] | None
    tags: list[str] | None
    scheduledAt: str | None
    sentAt: str | None
    events: list[EmailEvent]


class GetEmailResponse(TypedDict):
    """What ``emails.get`` answers."""

    email: Email


_ListEmailsFrom = TypedDict("_ListEmailsFrom", {"from": str}, total=False)


class ListEmailsParams(_ListEmailsFrom, total=False):
    """The query parameters of ``emails.list``."""

    page: int
    per_page: int
    status: Literal["queued", "sending", "deferred", "delivered", "bounced", "complained", "failed"]
    domain_id: int | str
    to: str
    subject: str
    tag: str
    date_from: str
    date_to: str
    provider: str
    country: str
    device: str


class ListEmailsResponse(TypedDict, total=False):
    """What ``emails.list`` answers."""

    emails: list[Email]
    pagination: Pagination
    data: list[Email]
    meta: Pagination


class EmailEventsResponse(TypedDict, total=False):
    """What ``emails.get_events`` answers."""

    events: list[EmailEvent]


class InsightWarning(TypedDict, total=False):
    """A deliverability warning about an email: its code, message and severity."""

    code: str
    message: str
    severity: Literal["warning", "info"]


class EmailInsightsResponse(TypedDict, total=False):
    """What ``emails.get_insights`` answers."""

    warnings: list[InsightWarning]
    insights: dict[str, Any]

"""Types of the ``emails`` resource (API spec sections 7 and 8)."""

from __future__ import annotations

from typing import Any, Literal, TypedDict

EmailStatus = Literal[
    "queued", "scheduled", "sending", "sent", "deferred", "delivered", "bounced",
    "complained", "failed", "cancelled",
]  # fmt: skip


class Attachment(TypedDict, total=False):
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
    attachments: list[Attachment]
    idempotency_key: str
    scheduled_at: str
    template_id: str
    variables: dict[str, str]
    unsubscribe: bool


BatchEmailItem = SendEmailParams


class BatchEmailParams(TypedDict):
    emails: list[SendEmailParams]
    """At most 100 emails per call; ``emails.send_many`` splits larger lists."""


class SendEmailResponse(TypedDict):
    id: str
    """The new email's public id, ``em_…``."""


class BatchEmailResponse(TypedDict):
    data: list[SendEmailResponse]


class PreviewEmailParams(_SendRequired, total=False):
    subject: str
    html: str
    text: str
    template_id: str
    variables: dict[str, str]


class EmailEvent(TypedDict, total=False):
    type: str
    timestamp: str


class Email(TypedDict, total=False):
    id: int
    publicId: str
    fromAddress: str
    fromName: str | None
    toAddresses: list[str]
    ccAddresses: list[str] | None
    bccAddresses: list[str] | None
    subject: str
    status: str
    tags: list[str] | None
    testMode: bool
    scheduledAt: str | None
    createdAt: str
    sentAt: str | None
    events: list[EmailEvent]


class GetEmailResponse(TypedDict):
    email: Email


class Pagination(TypedDict, total=False):
    total: int
    page: int
    per_page: int
    total_pages: int


_ListEmailsFrom = TypedDict("_ListEmailsFrom", {"from": str}, total=False)


class ListEmailsParams(_ListEmailsFrom, total=False):
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
    emails: list[Email]
    pagination: Pagination


class EmailEventsResponse(TypedDict, total=False):
    events: list[EmailEvent]


class InsightWarning(TypedDict, total=False):
    code: str
    message: str
    severity: Literal["warning", "info"]


class EmailInsightsResponse(TypedDict, total=False):
    warnings: list[InsightWarning]
    insights: dict[str, Any]

"""TypedDicts for request payloads and responses, with the API's own key spellings.

Responses are plain dicts at run time: keys a newer API adds still come
through, they are just not in the type.
"""

from .emails import (
    Attachment,
    BatchEmailItem,
    BatchEmailParams,
    BatchEmailResponse,
    Email,
    EmailEvent,
    EmailEventsResponse,
    EmailInsightsResponse,
    GetEmailResponse,
    InsightWarning,
    ListEmailsParams,
    ListEmailsResponse,
    Pagination,
    PreviewEmailParams,
    SendEmailParams,
    SendEmailResponse,
)

__all__ = [
    "Attachment",
    "BatchEmailItem",
    "BatchEmailParams",
    "BatchEmailResponse",
    "Email",
    "EmailEvent",
    "EmailEventsResponse",
    "EmailInsightsResponse",
    "GetEmailResponse",
    "InsightWarning",
    "ListEmailsParams",
    "ListEmailsResponse",
    "Pagination",
    "PreviewEmailParams",
    "SendEmailParams",
    "SendEmailResponse",
]

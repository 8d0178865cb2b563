"""Types of the ``contacts`` resource."""

from typing import Any, Literal, TypedDict

from .common import ListParams, Pagination

__all__ = [
    "Contact",
    "ContactResponse",
    "CreateContactParams",
    "EngagementSegment",
    "ImportContact",
    "ImportContactsParams",
    "ImportContactsResponse",
    "ListContactsParams",
    "ListContactsResponse",
    "UpdateContactParams",
]


EngagementSegment = Literal["active", "at_risk", "dormant"]


class _ContactRequired(TypedDict):
    id: int
    """The internal id; every contact method takes ``publicId``."""
    publicId: str
    """``con_…``."""
    email: str
    unsubscribed: bool
    createdAt: str


class Contact(_ContactRequired, total=False):
    firstName: str | None
    lastName: str | None
    properties: dict[str, Any] | None
    engagementSegment: EngagementSegment
    lastEngagedAt: str | None
    updatedAt: str


class _CreateContactRequired(TypedDict):
    email: str


class CreateContactParams(_CreateContactRequired, total=False):
    first_name: str
    last_name: str
    properties: dict[str, Any]
    unsubscribed: bool


class UpdateContactParams(TypedDict, total=False):
    email: str
    first_name: str
    last_name: str
    properties: dict[str, Any]
    unsubscribed: bool


class _ImportContactRequired(TypedDict):
    email: str


class ImportContact(_ImportContactRequired, total=False):
    first_name: str
    last_name: str
    properties: dict[str, str]


class ImportContactsParams(TypedDict):
    contacts: list[ImportContact]
    """Up to 10,000 rows; emails that already exist are skipped, not updated."""


class ImportContactsResponse(TypedDict):
    imported: int
    skipped: int
    errors: list[str]
    """``"<email>: <reason>"`` for each row that failed."""


class ListContactsParams(ListParams, total=False):
    search: str
    segment_id: str
    engagement_segment: EngagementSegment
    unsubscribed: bool


class ListContactsResponse(TypedDict, total=False):
    contacts: list[Contact]
    pagination: Pagination
    data: list[Contact]
    meta: Pagination


class ContactResponse(TypedDict):
    contact: Contact

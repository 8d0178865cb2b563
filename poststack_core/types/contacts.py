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
    """A contact as the API shows it (``contacts.list_all``, ``segments.members_all``)."""

    firstName: str | None
    lastName: str | None
    properties: dict[str, Any] | None
    engagementSegment: EngagementSegment
    lastEngagedAt: str | None
    updatedAt: str


class _CreateContactRequired(TypedDict):
    email: str


class CreateContactParams(_CreateContactRequired, total=False):
    """The payload of ``contacts.create``."""

    first_name: str
    last_name: str
    properties: dict[str, Any]
    unsubscribed: bool


class UpdateContactParams(TypedDict, total=False):
    """The payload of ``contacts.update``."""

    email: str
    first_name: str
    last_name: str
    properties: dict[str, Any]
    unsubscribed: bool


class _ImportContactRequired(TypedDict):
    email: str


class ImportContact(_ImportContactRequired, total=False):
    """One contact of ``contacts.import_``: its email and optional names and properties."""

    first_name: str
    last_name: str
    properties: dict[str, str]


class ImportContactsParams(TypedDict):
    """The payload of ``contacts.import_``."""

    contacts: list[ImportContact]
    """Up to 10,000 rows; emails that already exist are skipped, not updated."""


class ImportContactsResponse(TypedDict):
    """What ``contacts.import_`` answers."""

    imported: int
    skipped: int
    errors: list[str]
    """``"<email>: <reason>"`` for each row that failed."""


class ListContactsParams(ListParams, total=False):
    """The query parameters of ``contacts.list``."""

    search: str
    segment_id: str
    engagement_segment: EngagementSegment
    unsubscribed: bool


class ListContactsResponse(TypedDict, total=False):
    """What ``contacts.list`` answers."""

    contacts: list[Contact]
    pagination: Pagination
    data: list[Contact]
    meta: Pagination


class ContactResponse(TypedDict):
    """What ``contacts.create``, ``contacts.get``, ``contacts.get_by_email``, ``contacts.update``,
    ``contacts.unsubscribe`` answer.
    """

    contact: Contact

"""Types of the ``segments`` resource."""

from typing import Any, Literal, TypedDict

from .common import ListParams, Pagination
from .contacts import Contact

__all__ = [
    "AddContactsParams",
    "AddContactsResponse",
    "Comparator",
    "CreateSegmentParams",
    "ListSegmentsResponse",
    "PreviewRulesResponse",
    "Segment",
    "SegmentBroadcastsResponse",
    "SegmentCondition",
    "SegmentMembersParams",
    "SegmentMembersResponse",
    "SegmentResponse",
    "SegmentRules",
    "UpdateSegmentParams",
]


Comparator = Literal[
    "equals", "not_equals", "contains", "starts_with", "ends_with", "greater_than",
    "less_than", "greater_than_or_equal", "less_than_or_equal", "before", "after",
    "in_last_days", "is_set", "is_not_set",
]  # fmt: skip


class _ConditionRequired(TypedDict):
    field: str
    comparator: Comparator


class SegmentCondition(_ConditionRequired, total=False):
    """One condition of a segment's rules: a field, a comparator and a value."""

    value: Any
    windowDays: int


class SegmentRules(TypedDict):
    """A segment's rules: conditions joined by ``and`` or ``or``."""

    operator: Literal["and", "or"]
    conditions: list[SegmentCondition]


class _SegmentRequired(TypedDict):
    id: int
    publicId: str
    """``seg_…``: what the segment methods take."""
    name: str
    contactCount: int
    createdAt: str


class Segment(_SegmentRequired, total=False):
    """A group of contacts, by rules or by hand, and how many it holds."""

    description: str | None
    rules: SegmentRules | None


class _CreateSegmentRequired(TypedDict):
    name: str


class CreateSegmentParams(_CreateSegmentRequired, total=False):
    """The payload of ``segments.create``."""

    description: str
    rules: SegmentRules
    """Leave out for a manual segment (filled with ``add_contacts``)."""


class UpdateSegmentParams(TypedDict, total=False):
    """The payload of ``segments.update``."""

    name: str
    description: str
    rules: SegmentRules


class AddContactsParams(TypedDict):
    """The payload of ``segments.add_contacts``."""

    contact_ids: list[str]
    """Up to 1,000 ``con_…`` ids."""


class AddContactsResponse(TypedDict):
    """What ``segments.add_contacts`` answers."""

    added: int


class PreviewRulesResponse(TypedDict):
    """What ``segments.preview_rules`` answers."""

    count: int


class SegmentResponse(TypedDict):
    """What ``segments.create``, ``segments.get``, ``segments.update`` answer."""

    segment: Segment


class ListSegmentsResponse(TypedDict):
    """What ``segments.list`` answers."""

    segments: list[Segment]


class SegmentMembersResponse(TypedDict, total=False):
    """What ``segments.members`` answers."""

    contacts: list[Contact]
    pagination: Pagination
    data: list[Contact]
    meta: Pagination


class SegmentBroadcastsResponse(TypedDict):
    """What ``segments.broadcasts`` answers."""

    broadcasts: list[dict[str, Any]]


SegmentMembersParams = ListParams

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
    value: Any
    windowDays: int


class SegmentRules(TypedDict):
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
    description: str | None
    rules: SegmentRules | None


class _CreateSegmentRequired(TypedDict):
    name: str


class CreateSegmentParams(_CreateSegmentRequired, total=False):
    description: str
    rules: SegmentRules
    """Leave out for a manual segment (filled with ``add_contacts``)."""


class UpdateSegmentParams(TypedDict, total=False):
    name: str
    description: str
    rules: SegmentRules


class AddContactsParams(TypedDict):
    contact_ids: list[str]
    """Up to 1,000 ``con_…`` ids."""


class AddContactsResponse(TypedDict):
    added: int


class PreviewRulesResponse(TypedDict):
    count: int


class SegmentResponse(TypedDict):
    segment: Segment


class ListSegmentsResponse(TypedDict):
    segments: list[Segment]


class SegmentMembersResponse(TypedDict, total=False):
    contacts: list[Contact]
    pagination: Pagination
    data: list[Contact]
    meta: Pagination


class SegmentBroadcastsResponse(TypedDict):
    broadcasts: list[dict[str, Any]]


SegmentMembersParams = ListParams

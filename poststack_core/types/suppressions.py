"""Types of the ``suppressions`` resource."""

from typing import Literal, TypedDict

from .common import ListParams, Pagination

__all__ = [
    "AddSuppressionParams",
    "AddSuppressionResponse",
    "ListSuppressionsParams",
    "ListSuppressionsResponse",
    "Suppression",
    "SuppressionReason",
]


SuppressionReason = Literal["hard_bounce", "complaint", "manual", "unsubscribe"]


class Suppression(TypedDict):
    """An address PostStack will not send to, and why (``suppressions.list_all`` yields them)."""

    id: int
    email: str
    reason: SuppressionReason
    createdAt: str


class _AddSuppressionRequired(TypedDict):
    email: str


class AddSuppressionParams(_AddSuppressionRequired, total=False):
    """The payload of ``suppressions.add``."""

    reason: SuppressionReason


class AddSuppressionResponse(TypedDict, total=False):
    """What ``suppressions.add`` answers."""

    success: bool
    suppression: Suppression


class ListSuppressionsParams(ListParams, total=False):
    """The query parameters of ``suppressions.list``."""

    reason: SuppressionReason
    search: str


class ListSuppressionsResponse(TypedDict, total=False):
    """What ``suppressions.list`` answers."""

    suppressions: list[Suppression]
    pagination: Pagination
    data: list[Suppression]
    meta: Pagination

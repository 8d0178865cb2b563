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
    id: int
    email: str
    reason: SuppressionReason
    createdAt: str


class _AddSuppressionRequired(TypedDict):
    email: str


class AddSuppressionParams(_AddSuppressionRequired, total=False):
    reason: SuppressionReason


class AddSuppressionResponse(TypedDict, total=False):
    success: bool
    suppression: Suppression


class ListSuppressionsParams(ListParams, total=False):
    reason: SuppressionReason
    search: str


class ListSuppressionsResponse(TypedDict, total=False):
    suppressions: list[Suppression]
    pagination: Pagination
    data: list[Suppression]
    meta: Pagination

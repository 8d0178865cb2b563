"""Shapes several resources share: page metadata, list parameters, ``{"success": true}``."""

from typing import TypedDict

__all__ = [
    "ListParams",
    "Pagination",
    "SuccessResponse",
]


class Pagination(TypedDict, total=False):
    """Page metadata. Most lists spell it snake_case (``per_page``, ``total_pages``);
    webhook deliveries, DMARC reports and ``meta`` blocks use camelCase
    (``perPage``, ``totalPages``). Both spellings are listed: read the one you get.
    """

    total: int
    page: int
    per_page: int
    total_pages: int
    perPage: int
    totalPages: int


class ListParams(TypedDict, total=False):
    """``page`` (from 1) and ``per_page`` for a page-numbered list."""

    page: int
    per_page: int


class SuccessResponse(TypedDict):
    """What deletes and most actions answer."""

    success: bool

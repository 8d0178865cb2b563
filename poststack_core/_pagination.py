"""Walking page-numbered lists: which page comes next, for each shape the API uses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._narrow import as_list, as_mapping


def page_items(page: object, items: str) -> list[Any]:
    """The items of one page: under ``items`` (``"emails"`` …) or ``"data"``."""
    mapping = as_mapping(page)
    if mapping is None:
        return []
    found = mapping.get(items)
    if found is None:
        found = mapping.get("data")
    return as_list(found) or []


def _int(meta: Mapping[str, Any], *names: str) -> int | None:
    for name in names:
        value = meta.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def next_page(page: object, items: str, current: int) -> int | None:
    """The number of the page after ``current``, or None when ``page`` was the last.

    Understands ``pagination: {page, total_pages}`` (snake_case),
    ``pagination: {page, totalPages}`` and ``meta: {page, totalPages}``. A page
    with no items, or no pagination block at all, is the last: never loop on a
    server that ignores ``page``.
    """
    mapping = as_mapping(page)
    if mapping is None or not page_items(mapping, items):
        return None
    meta = as_mapping(mapping.get("pagination")) or as_mapping(mapping.get("meta"))
    if meta is None:
        return None
    number = _int(meta, "page")
    number = current if number is None else number
    total_pages = _int(meta, "total_pages", "totalPages")
    if total_pages is None or number >= total_pages:
        return None
    # A server answering page 1 again must not make this loop forever.
    return number + 1 if number >= current else None


class PageWalk:
    """The state of iterating every item of a list endpoint, page after page.

    A driver asks :meth:`params` for the next request's query, runs it, and
    hands the parsed page to :meth:`take`, until :attr:`done`.
    """

    __slots__ = ("_current", "_items", "_params", "done")

    def __init__(self, params: Mapping[str, Any] | None, items: str) -> None:
        if params is not None and not isinstance(params, Mapping):
            raise TypeError(f"params must be a mapping, got {type(params).__name__}")
        self._params = dict(params or {})
        start = self._params.get("page", 1)
        if isinstance(start, bool) or not isinstance(start, int) or start < 1:
            raise ValueError(f"params['page'] must be an int >= 1, got {start!r}")
        self._current = start
        self._items = items
        self.done = False

    def params(self) -> dict[str, Any]:
        return {**self._params, "page": self._current}

    def take(self, page: object) -> list[Any]:
        following = next_page(page, self._items, self._current)
        if following is None:
            self.done = True
        else:
            self._current = following
        return page_items(page, self._items)

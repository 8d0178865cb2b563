"""Walking page-numbered lists: which page comes next, for each shape the API uses."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from ._narrow import as_list, as_mapping
from ._operation import Operation

Items = Callable[[Any], object]
"""Picks the list of one page (``lambda page: page.get("emails")``)."""


def page_items(page: object, items: Items) -> list[Any]:
    """The items of one page: what ``items`` picks, else ``"data"``, else the page's only
    list (the API names its lists per endpoint and has changed them).
    """
    mapping = as_mapping(page)
    if mapping is None:
        return []
    found = as_list(items(mapping))
    if found is None:  # this page names its list otherwise
        found = as_list(mapping.get("data"))
    if found is None:
        lists = [found for found in map(as_list, mapping.values()) if found is not None]
        found = lists[0] if len(lists) == 1 else []
    return found


def _int(meta: Mapping[str, Any], *names: str) -> int | None:
    for name in names:
        value = meta.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _meta(page: object) -> Mapping[str, Any] | None:
    mapping = as_mapping(page)
    if mapping is None:
        return None
    return as_mapping(mapping.get("pagination")) or as_mapping(mapping.get("meta"))


def _total_pages(meta: Mapping[str, Any]) -> int | None:
    total_pages = _int(meta, "total_pages", "totalPages")
    if total_pages is None:
        total, per_page = _int(meta, "total"), _int(meta, "per_page", "perPage")
        if total is not None and per_page:
            total_pages = -(-total // per_page)
    return total_pages


def next_page(page: object, items: Items, current: int) -> int | None:
    """The number of the page after ``current``, or None when ``page`` was the last.

    Understands ``pagination: {page, total_pages}`` (snake_case),
    ``pagination: {page, totalPages}`` and ``meta: {page, totalPages}`` (and
    counts the pages from ``total`` and ``per_page`` when only those came). A
    page with no items, or no pagination block at all, is the last: never loop
    on a server that ignores ``page``.
    """
    meta = _meta(page)
    if meta is None or not page_items(page, items):
        return None
    number = _int(meta, "page")
    number = current if number is None else number
    total_pages = _total_pages(meta)
    if total_pages is None or number >= total_pages:
        return None
    # A server answering page 1 again must not make this loop forever.
    return number + 1 if number >= current else None


class PageWalk:
    """The state of iterating every item of a list endpoint, page after page.

    A driver asks :meth:`params` for the next request's query, runs it, and
    hands the parsed page to :meth:`take`, until :attr:`done`.
    """

    __slots__ = ("_current", "_fetched", "_items", "_params", "done")

    def __init__(self, params: Mapping[str, Any] | None, items: Items) -> None:
        if params is not None and not isinstance(params, Mapping):
            raise TypeError(f"params must be a mapping, got {type(params).__name__}")
        self._params = dict(params or {})
        start = self._params.get("page", 1)
        if isinstance(start, bool) or not isinstance(start, int) or start < 1:
            raise ValueError(f"params['page'] must be an int >= 1, got {start!r}")
        self._current = start
        self._items = items
        self._fetched = False
        self.done = False

    def params(self) -> dict[str, Any]:
        return {**self._params, "page": self._current}

    def take(self, page: object) -> list[Any]:
        """The items of ``page`` that were not seen before; decides whether to go on."""
        meta = _meta(page)
        reported = None if meta is None else _int(meta, "page")
        if self._fetched and reported is not None and reported < self._current:
            # Asked for page n, got an earlier one again: its items were already taken.
            self.done = True
            return []
        self._fetched = True
        following = next_page(page, self._items, self._current)
        if following is None:
            self.done = True
        else:
            self._current = following
        return page_items(page, self._items)


class PagedCall:
    """One list endpoint called page after page: the next Operation, then its items.

    ``build`` is the endpoint function and ``args``/``kwargs`` the caller's
    arguments to it; only ``params["page"]`` changes from one request to the
    next. The first Operation is built here, so a bad argument fails at the
    call, before anything is sent.
    """

    __slots__ = ("_build", "_call", "_next", "_walk")

    def __init__(
        self,
        build: Callable[..., Operation[Any]],
        items: Items,
        args: tuple[Any, ...],
        kwargs: Mapping[str, Any],
    ) -> None:
        self._build = build
        self._call = inspect.signature(build).bind(*args, **kwargs)
        self._walk = PageWalk(self._call.arguments.get("params"), items)
        self._next = self._operation()

    def _operation(self) -> Operation[Any]:
        self._call.arguments["params"] = self._walk.params()
        return self._build(*self._call.args, **self._call.kwargs)

    @property
    def done(self) -> bool:
        return self._walk.done

    def operation(self) -> Operation[Any]:
        """The request for the next page (call only while not :attr:`done`)."""
        return self._next

    def take(self, page: object) -> list[Any]:
        """The items of the page ``operation()`` fetched; moves on to the next page."""
        items = self._walk.take(page)
        if not self._walk.done:
            self._next = self._operation()
        return items

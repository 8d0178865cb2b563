"""How sync and async resource methods are derived from one endpoint definition.

A resource class lists its endpoints once, as ``send = endpoint(emails.send)``
over the core's pure function. ``Resource[Sync]`` (on ``PostStack``) turns each
into a blocking method and ``Resource[Async]`` (on ``AsyncPostStack``) into a
coroutine function, with the same parameters, checked by the type checker
through ``ParamSpec``: there is no second copy of any signature to drift.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar, overload

from poststack_core import Operation

if TYPE_CHECKING:
    from ._client import AsyncPostStack, PostStack

P = ParamSpec("P")
R = TypeVar("R")
Item = TypeVar("Item")


class Sync:
    """Marker: the resource belongs to a blocking :class:`~poststack.PostStack`."""


class Async:
    """Marker: the resource belongs to an :class:`~poststack.AsyncPostStack`."""


Mode = TypeVar("Mode", Sync, Async)


class Resource(Generic[Mode]):
    """A group of endpoints bound to one client."""

    def __init__(self, client: PostStack | AsyncPostStack) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._client!r}>"


class endpoint(Generic[P, R]):
    """A method derived from a core endpoint function ``build(...) -> Operation[R]``."""

    def __init__(self, build: Callable[P, Operation[R]]) -> None:
        self._build = build
        self._name = build.__name__

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, obj: None, owner: type) -> endpoint[P, R]: ...
    @overload
    def __get__(self, obj: Resource[Sync], owner: type) -> Callable[P, R]: ...
    @overload
    def __get__(self, obj: Resource[Async], owner: type) -> Callable[P, Coroutine[Any, Any, R]]: ...
    def __get__(self, obj: Resource[Any] | None, owner: type) -> object:
        if obj is None:
            return self
        bound = obj._client._bind(self._build)  # pyright: ignore[reportPrivateUsage]
        # Cache on the instance: the next lookup skips this descriptor entirely.
        obj.__dict__[self._name] = bound
        return bound


def wraps_build(build: Callable[..., object], method: Callable[..., object]) -> None:
    """Give a derived method the endpoint's name, docstring and signature (for help())."""
    functools.update_wrapper(method, build)


class pages(Generic[P, Item]):
    """``list_all``: iterate every item of a page-numbered list endpoint.

    ``items`` names the list in each page (``"emails"``). Pages are fetched
    lazily, one request each; iteration stops on the last page whichever of the
    API's pagination shapes the response uses.
    """

    def __init__(self, build: Callable[P, Operation[Any]], items: str, item: type[Item]) -> None:
        self._build = build
        self._items = items
        self._name = f"{build.__name__}_all"

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, obj: None, owner: type) -> pages[P, Item]: ...
    @overload
    def __get__(self, obj: Resource[Sync], owner: type) -> Callable[P, Iterator[Item]]: ...
    @overload
    def __get__(self, obj: Resource[Async], owner: type) -> Callable[P, AsyncIterator[Item]]: ...
    def __get__(self, obj: Resource[Any] | None, owner: type) -> object:
        if obj is None:
            return self
        bound = obj._client._bind_pages(self._build, self._items)  # pyright: ignore[reportPrivateUsage]
        obj.__dict__[self._name] = bound
        return bound

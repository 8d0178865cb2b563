"""How sync and async resource methods are derived from one endpoint definition.

A resource class lists its endpoints once, as ``send = endpoint(emails.send)``
over the core's pure function. ``Resource[Sync]`` (on ``PostStack``) turns each
into a blocking method and ``Resource[Async]`` (on ``AsyncPostStack``) into a
coroutine function, with the same parameters, checked by the type checker
through ``ParamSpec``: there is no second copy of any signature to drift.

Four descriptors cover every shape of call:

* :class:`endpoint` - one core function, one request: ``ps.domains.get(1)``;
* :class:`pages` - walk a page-numbered list: ``for c in ps.contacts.list_all()``;
* :class:`planned` - a :class:`~poststack_core.Plan` of several requests whose
  results combine into one value;
* :class:`bulk` - a :class:`~poststack_core.SendMany` run, chunks sent
  concurrently: ``ps.emails.send_many(emails)``.

Each asks the client (the ``_bind*`` methods, the only places that know about
blocking or awaiting) for the bound callable, and caches it on the instance.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any, Generic, ParamSpec, Protocol, TypeVar, overload

from poststack_core import Operation, Plan, SendMany, SendManyResult

P = ParamSpec("P")
R = TypeVar("R")
Item = TypeVar("Item")


class Sync:
    """Marker: the resource belongs to a blocking :class:`~poststack.PostStack`."""


class Async:
    """Marker: the resource belongs to an :class:`~poststack.AsyncPostStack`."""


Mode = TypeVar("Mode", Sync, Async)


class Binder(Protocol):
    """What a resource needs from its client: turning core definitions into callables."""

    def _bind(self, build: Callable[..., Operation[Any]]) -> Callable[..., Any]: ...

    def _bind_pages(
        self, build: Callable[..., Operation[Any]], items: str
    ) -> Callable[..., Any]: ...

    def _bind_plan(self, build: Callable[..., Plan[Any]]) -> Callable[..., Any]: ...

    def _bind_bulk(self, build: Callable[..., SendMany]) -> Callable[..., Any]: ...


class Resource(Generic[Mode]):
    """A group of endpoints bound to one client."""

    def __init__(self, client: Binder) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._client!r}>"


def wraps_build(build: Callable[..., object], method: Callable[..., object], name: str) -> None:
    """Give a derived method the definition's docstring and parameters (for help()), and its name.

    The return annotation is left out: the definition returns an Operation or a
    Plan, the method what running it gives (the type checker knows which).
    """
    functools.update_wrapper(method, build)
    method.__name__ = name
    method.__qualname__ = name
    signature = inspect.signature(build).replace(return_annotation=inspect.Signature.empty)
    method.__signature__ = signature  # type: ignore[attr-defined]


class _Derived:
    """What the three descriptors share: naming, binding through the client, caching."""

    _build: Callable[..., Any]
    _name: str

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    def _bind(self, client: Binder) -> Callable[..., Any]:
        raise NotImplementedError

    def _derive(self, obj: Resource[Any] | None) -> object:
        if obj is None:
            return self
        bound = self._bind(obj._client)  # pyright: ignore[reportPrivateUsage]
        wraps_build(self._build, bound, self._name)
        # Cache on the instance: the next lookup skips the descriptor entirely.
        obj.__dict__[self._name] = bound
        return bound


class pages(_Derived, Generic[P, Item]):
    """``list_all``: iterate every item of a page-numbered list endpoint.

    ``items`` names the list in each page (``"emails"``). Pages are fetched
    lazily, one request each; iteration stops on the last page whichever of the
    API's pagination shapes the response uses. The endpoint's own arguments
    (``params`` included) are taken as they are; ``page`` is set per request.
    """

    def __init__(self, build: Callable[P, Operation[Any]], items: str, item: type[Item]) -> None:
        self._build = build
        self._items = items
        self._name = f"{build.__name__}_all"

    def _bind(self, client: Binder) -> Callable[..., Any]:
        return client._bind_pages(self._build, self._items)  # pyright: ignore[reportPrivateUsage]

    @overload
    def __get__(self, obj: None, owner: type) -> pages[P, Item]: ...
    @overload
    def __get__(self, obj: Resource[Sync], owner: type) -> Callable[P, Iterator[Item]]: ...
    @overload
    def __get__(self, obj: Resource[Async], owner: type) -> Callable[P, AsyncIterator[Item]]: ...
    def __get__(self, obj: Resource[Any] | None, owner: type) -> object:
        return self._derive(obj)


class planned(_Derived, Generic[P, R]):
    """A method derived from ``build(...) -> Plan[R]``: several requests, one result."""

    def __init__(self, build: Callable[P, Plan[R]]) -> None:
        self._build = build
        self._name = build.__name__

    def _bind(self, client: Binder) -> Callable[..., Any]:
        return client._bind_plan(self._build)  # pyright: ignore[reportPrivateUsage]

    @overload
    def __get__(self, obj: None, owner: type) -> planned[P, R]: ...
    @overload
    def __get__(self, obj: Resource[Sync], owner: type) -> Callable[P, R]: ...
    @overload
    def __get__(self, obj: Resource[Async], owner: type) -> Callable[P, Coroutine[Any, Any, R]]: ...
    def __get__(self, obj: Resource[Any] | None, owner: type) -> object:
        return self._derive(obj)


class endpoint(planned[P, R]):
    """A method derived from a core endpoint function ``build(...) -> Operation[R]``.

    The same method as a :class:`planned` one of a single request, typed the same way.
    """

    def __init__(self, build: Callable[P, Operation[R]]) -> None:
        self._build = build
        self._name = build.__name__

    def _bind(self, client: Binder) -> Callable[..., Any]:
        return client._bind(self._build)  # pyright: ignore[reportPrivateUsage]


class bulk(_Derived, Generic[P]):
    """A method derived from ``build(...) -> SendMany``: a bulk run, whose result it returns."""

    def __init__(self, build: Callable[P, SendMany]) -> None:
        self._build = build
        self._name = build.__name__

    def _bind(self, client: Binder) -> Callable[..., Any]:
        return client._bind_bulk(self._build)  # pyright: ignore[reportPrivateUsage]

    @overload
    def __get__(self, obj: None, owner: type) -> bulk[P]: ...
    @overload
    def __get__(self, obj: Resource[Sync], owner: type) -> Callable[P, SendManyResult]: ...
    @overload
    def __get__(
        self, obj: Resource[Async], owner: type
    ) -> Callable[P, Coroutine[Any, Any, SendManyResult]]: ...
    def __get__(self, obj: Resource[Any] | None, owner: type) -> object:
        return self._derive(obj)

"""Resources: each endpoint module's definitions, grouped as ``client.emails`` for both clients.

Theory of operation
-------------------
An endpoint module defines one pure function per endpoint (the single
definition: ``send(input, *, timeout=None, ...) -> Operation[...]``) and, at
its end, one :class:`Resource` class that names them::

    class Emails(Resource[Mode]):
        send: Final = endpoint(send)
        list_all: Final = pages(list, lambda page: page.get("emails"))

A client builds each resource with a :class:`Binder`, its way of running
definitions. Through a ``PostStack`` (``Resource[Sync]``) every attribute is
a blocking method; through an ``AsyncPostStack`` (``Resource[Async]``) a
coroutine function; the parameters are the definition's own, checked by the
type checker through ``ParamSpec``: there is no second copy of a signature.

Four descriptors cover every shape of call:

* :class:`endpoint` - one definition, one request: ``ps.domains.get(1)``;
* :class:`pages` - walk a page-numbered list: ``for c in ps.contacts.list_all()``;
* :class:`planned` - a :class:`~poststack_core.Plan` of several requests whose
  results combine into one value;
* :class:`bulk` - a bulk run (:class:`~poststack_core.SendMany`), its chunks
  sent concurrently, paced: ``ps.emails.send_many(emails)``.

Every client also has a raw view, ``client.with_raw_response``: the same
resources built with a binder in raw mode (``Resource[RawSync]``,
``Resource[RawAsync]``), where each :class:`endpoint` returns a
:class:`~poststack_core.RawResponse` of its value, typed through the same
overloads. Walkers and bulk runs make many requests for one result, so
they have no raw form.

Calls are named after their definition (:func:`operation_name`:
``emails.send``), in attempt records, logs and traces: the name comes from
the module and the function, so there is no list of names to keep.

``Final`` declares each attribute's type as the descriptor's own, so type
checkers (and ``pyright --verifytypes``) read it as declared, not guessed.
On the class, an attribute is the definition itself: ``Emails.send(payload)``
returns the Operation, which is what sans-IO callers want.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any, Generic, ParamSpec, Protocol, TypeVar, overload

from ._attempt import RawResponse
from ._bulk_results import SendManyResult
from ._bulk_run import SendMany
from ._operation import Operation, Plan

P = ParamSpec("P")
R = TypeVar("R")
Item = TypeVar("Item")
Page = TypeVar("Page")
Build = TypeVar("Build", bound=Callable[..., Any])
Method = TypeVar("Method", bound="_Method[Any, ..., Any]")


class Sync:
    """Marker: the resource belongs to a blocking client (``PostStack``)."""


class Async:
    """Marker: the resource belongs to an async client (``AsyncPostStack``)."""


class RawSync:
    """Marker: the resource belongs to ``PostStack.with_raw_response`` (RawResponse values)."""


class RawAsync:
    """Marker: the resource belongs to ``AsyncPostStack.with_raw_response``."""


Mode = TypeVar("Mode", Sync, Async, RawSync, RawAsync)


def operation_name(definition: Callable[..., object]) -> str:
    """The name calls of an endpoint definition go by: ``"emails.send"``, ``"api_keys.create"``.

    It is the definition's resource module and its own name (the spec's
    ``resource.method``), so adding an endpoint names it too.
    """
    return f"{definition.__module__.rpartition('.')[2]}.{definition.__name__}"


class Binder(Protocol):
    """How a client runs definitions: what its resources ask it for, once per method.

    Each method returns the callable a resource attribute becomes: blocking
    for a ``PostStack``, coroutine functions and async iterators for an
    ``AsyncPostStack``; a binder in raw mode (``with_raw_response``) binds
    only ``bind``, to methods that return a RawResponse, and raises
    AttributeError for the other shapes. ``repr`` of a binder names its
    client; ``path`` is where its methods live, the start of their qualified
    names (``"AsyncPostStack"``: ``AsyncPostStack.emails.send``, the name
    Python's "coroutine ... was never awaited" warning shows).
    """

    @property
    def path(self) -> str:
        """Where the bound methods live: the start of their qualified names."""
        ...

    def bind(self, build: Callable[..., Operation[Any]]) -> Callable[..., Any]:
        """A method that builds the Operation and runs it: its parsed result."""
        ...

    def bind_plan(self, build: Callable[..., Plan[Any]]) -> Callable[..., Any]:
        """A method that builds the Plan and runs its operations in order."""
        ...

    def bind_pages(
        self, build: Callable[..., Operation[Any]], items: Callable[[Any], object]
    ) -> Callable[..., Any]:
        """A method that iterates every item of the list ``build`` fetches page by page.

        ``items`` picks a page's list (``page.get("emails")``).
        """
        ...

    def bind_bulk(self, build: Callable[..., SendMany]) -> Callable[..., Any]:
        """A method that builds the bulk run and carries it out: its SendManyResult."""
        ...


class Resource(Generic[Mode]):
    """A group of endpoints bound to one client (``ps.emails``, ``ps.domains`` ...)."""

    def __init__(self, binder: Binder) -> None:
        self._binder = binder

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._binder!r}>"


class _Derived(Generic[Build]):
    """What the three descriptors share: their name, binding through the client, caching."""

    _build: Build
    _name: str
    __name__: str
    __qualname__: str

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = self.__name__ = name
        self.__qualname__ = f"{owner.__qualname__}.{name}"

    @property
    def definition(self) -> Build:
        """The core definition this attribute is derived from."""
        return self._build

    def _bind(self, binder: Binder) -> Callable[..., Any]:
        raise NotImplementedError

    def _doc(self) -> str | None:
        return self._build.__doc__

    def _derive(self, resource: Resource[Any] | None) -> object:
        if resource is None:
            return self
        bound = self._bind(resource._binder)  # pyright: ignore[reportPrivateUsage]
        # help() shows the definition's parameters and a docstring that fits.
        functools.update_wrapper(bound, self._build)
        bound.__name__ = self._name
        resource_name = operation_name(self._build).partition(".")[0]
        bound.__qualname__ = f"{resource._binder.path}.{resource_name}.{self._name}"  # pyright: ignore[reportPrivateUsage]
        bound.__doc__ = self._doc()
        signature = inspect.signature(self._build)
        bound.__signature__ = signature.replace(  # type: ignore[attr-defined]
            return_annotation=inspect.Signature.empty
        )
        # Cached on the instance: the next lookup skips the descriptor entirely.
        resource.__dict__[self._name] = bound
        return bound


class _Method(_Derived[Build], Generic[Build, P, R]):
    """What endpoint and planned share: run on a client, the method's value is an ``R``."""

    @overload
    def __get__(self: Method, resource: None, owner: type) -> Method: ...
    @overload
    def __get__(self, resource: Resource[Sync], owner: type) -> Callable[P, R]: ...
    @overload
    def __get__(
        self, resource: Resource[Async], owner: type
    ) -> Callable[P, Coroutine[Any, Any, R]]: ...
    def __get__(self, resource: Resource[Any] | None, owner: type) -> object:
        return self._derive(resource)


class endpoint(_Method[Callable[P, Operation[R]], P, R]):
    """A method derived from an endpoint definition ``build(...) -> Operation[R]``.

    Through a raw view (``client.with_raw_response``) the method returns a
    ``RawResponse[R]`` instead of the ``R``.
    """

    @overload
    def __get__(self, resource: None, owner: type) -> endpoint[P, R]: ...
    @overload
    def __get__(self, resource: Resource[Sync], owner: type) -> Callable[P, R]: ...
    @overload
    def __get__(
        self, resource: Resource[Async], owner: type
    ) -> Callable[P, Coroutine[Any, Any, R]]: ...
    @overload
    def __get__(self, resource: Resource[RawSync], owner: type) -> Callable[P, RawResponse[R]]: ...
    @overload
    def __get__(
        self, resource: Resource[RawAsync], owner: type
    ) -> Callable[P, Coroutine[Any, Any, RawResponse[R]]]: ...
    def __get__(self, resource: Resource[Any] | None, owner: type) -> object:
        return self._derive(resource)

    def __init__(self, build: Callable[P, Operation[R]]) -> None:
        self._build = build
        self._name = build.__name__
        functools.update_wrapper(self, build)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Operation[R]:
        """The Operation itself, built from the arguments (no I/O)."""
        return self._build(*args, **kwargs)

    def _bind(self, binder: Binder) -> Callable[..., Any]:
        return binder.bind(self._build)


class planned(_Method[Callable[P, Plan[R]], P, R]):
    """A method derived from ``build(...) -> Plan[R]``: several requests, one result."""

    def __init__(self, build: Callable[P, Plan[R]]) -> None:
        self._build = build
        self._name = build.__name__
        functools.update_wrapper(self, build)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Plan[R]:
        """The Plan itself, built from the arguments (no I/O)."""
        return self._build(*args, **kwargs)

    def _bind(self, binder: Binder) -> Callable[..., Any]:
        return binder.bind_plan(self._build)


class bulk(_Method[Callable[P, SendMany], P, SendManyResult]):
    """A method derived from ``build(...) -> SendMany``: a whole bulk run, one result."""

    def __init__(self, build: Callable[P, SendMany]) -> None:
        self._build = build
        self._name = build.__name__
        functools.update_wrapper(self, build)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> SendMany:
        """The run, described and checked (no I/O)."""
        return self._build(*args, **kwargs)

    def _bind(self, binder: Binder) -> Callable[..., Any]:
        return binder.bind_bulk(self._build)


class pages(_Derived[Callable[P, Operation[Any]]], Generic[P, Item]):
    """A walker: every item of a page-numbered list endpoint, page after page.

    ``items`` picks the list out of one page (``lambda page: page.get("emails")``),
    which also tells the type checker what an item is. Pages are fetched
    lazily, one request each; iteration stops on the last page whichever of
    the API's pagination shapes the response uses, and a page that names its
    list otherwise (``data``) is still read. The endpoint's own arguments
    (``params`` included) are taken as they are; ``params["page"]`` is where
    the walk starts (default 1).
    """

    __signature__: inspect.Signature

    def __init__(
        self, build: Callable[P, Operation[Page]], items: Callable[[Page], list[Item] | None]
    ) -> None:
        self._build = build
        self._items = items
        self._name = f"{build.__name__}_all"
        self.__doc__ = self._doc()
        # help() on the class shows the list's parameters (it returns no Operation).
        self.__signature__ = inspect.signature(build).replace(
            return_annotation=inspect.Signature.empty
        )

    def _doc(self) -> str:
        list_name = self._build.__name__
        first_line = (inspect.getdoc(self._build) or "").partition("\n")[0]
        return (
            f"Every item of ``{list_name}``, page after page, fetched lazily.\n\n"
            f"Takes the arguments of ``{list_name}``; ``params['page']``, if given, is the\n"
            "first page. Iterate with ``for`` on a PostStack, ``async for`` on an\n"
            "AsyncPostStack. It ends after the last page, whichever pagination shape the\n"
            "API answers with, or at a page without items.\n\n"
            f"``{list_name}``: {first_line}"
        )

    def _bind(self, binder: Binder) -> Callable[..., Any]:
        return binder.bind_pages(self._build, self._items)

    @overload
    def __get__(self, resource: None, owner: type) -> pages[P, Item]: ...
    @overload
    def __get__(self, resource: Resource[Sync], owner: type) -> Callable[P, Iterator[Item]]: ...
    @overload
    def __get__(
        self, resource: Resource[Async], owner: type
    ) -> Callable[P, AsyncIterator[Item]]: ...
    def __get__(self, resource: Resource[Any] | None, owner: type) -> object:
        return self._derive(resource)

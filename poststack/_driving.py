"""The only loops in the SDK: carry out Calls, Plans and page walks, blocking or awaiting.

``drive_sync`` and ``drive_async`` carry out one Call's actions with a
transport and a sleep (``run_sync`` and ``run_async`` make the Call of an
Operation and drive it); ``_attempted`` holds what they share (feeding the
Call, and the pacer, what an attempt produced; logging). With a pacer, each
attempt first sleeps as long as the pacer says (see ``poststack_core.Pacer``).
When hooks or a tracer watch the call (``_observing.Watch``), each attempt's
record goes to them before and after it is sent; unwatched, the loops only
test that there is no Watch.

:class:`Blocking` and :class:`Awaiting` are the two clients' Binders: they
turn each core definition into the method a resource attribute becomes,
running its Operation, its Plan, its pages or its bulk run (``_bulk``). A
binder in raw mode (``with_raw_response``) binds endpoints to methods that
return a ``RawResponse``.
"""

from __future__ import annotations

import contextvars
import copy
import logging
import os
import random
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any, ParamSpec, Protocol, TypeVar

from poststack_core import (
    Action,
    Call,
    ClientConfig,
    ConnectionBroken,
    Done,
    Operation,
    Pacer,
    Pacing,
    PagedCall,
    Plan,
    PostStackError,
    RawResponse,
    Response,
    Send,
    SendMany,
    SendManyResult,
    TransportFailure,
    Wait,
    idempotency_key_from,
    operation_name,
)

from . import _bulk, _observing
from ._guard import check_not_in_event_loop
from ._hooks import Hooks, arun_hooks, run_hooks
from ._logging import log_ended, log_sending, logger
from ._observing import Watch
from .transports import AsyncTransport, Transport
from .transports._runtime import sleep as async_sleep

P = ParamSpec("P")
R = TypeVar("R")
BinderT = TypeVar("BinderT", bound="ClientBinder")
_DEBUG = logging.DEBUG
_INFO = logging.INFO

Outcome = Response | TransportFailure


class PacerLike(Protocol):
    """What the loops need of a pacer: a ``poststack_core.Pacer``, or one behind a lock."""

    def reserve(self, now: float) -> float: ...

    def observe(
        self, response: Response, now: float, wall: float, started: float | None = None
    ) -> None: ...


class LockedPacer:
    """A :class:`~poststack_core.Pacer` shared by the threads of a blocking client."""

    __slots__ = ("_lock", "pacer")

    def __init__(self, pacer: Pacer) -> None:
        self.pacer = pacer
        self._lock = threading.Lock()

    def reserve(self, now: float) -> float:
        with self._lock:
            return self.pacer.reserve(now)

    def observe(
        self, response: Response, now: float, wall: float, started: float | None = None
    ) -> None:
        with self._lock:
            self.pacer.observe(response, now, wall, started)


class CountingPacer:
    """A bulk run's view of its pacer: every answer goes on to it, and is counted."""

    __slots__ = ("_lock", "pacer", "requests", "throttled")

    def __init__(self, pacer: PacerLike) -> None:
        self.pacer = pacer
        self.requests = self.throttled = 0
        self._lock = threading.Lock()  # the threads of a blocking client count here together

    def reserve(self, now: float) -> float:
        return self.pacer.reserve(now)

    def observe(
        self, response: Response, now: float, wall: float, started: float | None = None
    ) -> None:
        with self._lock:
            self.requests += 1
            self.throttled += response.status == 429
        self.pacer.observe(response, now, wall, started)


def new_idempotency_key() -> str:
    """A fresh uuid4 Idempotency-Key: the Call asks for one when a POST has none of its own."""
    return idempotency_key_from(os.urandom(16))


def new_call(operation: Operation[R], config: ClientConfig, name: str = "") -> Call[R]:
    """The Call for ``operation``, with the OS's randomness for keys and jitter."""
    return Call(operation, config, new_key=new_idempotency_key, random=random.random, name=name)


def _unexpected(exc: Exception) -> TransportFailure:
    """What an exception a transport should not have raised means: a connection that broke.

    Whatever the library raised (a bug of its own, "Event loop is closed"), the
    request may have left, so it is judged as a broken connection: retried
    under the same Idempotency-Key, and at worst a PostStackConnectionError
    with the original exception as its cause. No other exception leaves a send.
    """
    failure = ConnectionBroken(str(exc) or type(exc).__name__)
    failure.__cause__ = exc
    return failure


def _attempted(
    call: Call[R],
    outcome: Outcome,
    clock: Callable[[], float],
    pacer: PacerLike | None,
    started: float,
) -> Action[R]:
    """Feed the Call (and the pacer) what one attempt produced; log it; the next action.

    ``started`` is when the attempt was sent (``time.monotonic()``): the
    pacer's, and the record's elapsed time.
    """
    ended = time.monotonic()
    if isinstance(outcome, TransportFailure):
        action = call.transport_failed(outcome, ended - started)
    else:
        now = clock()
        if pacer is not None:
            pacer.observe(outcome, ended, now, started)
        action = call.receive(outcome, now, ended - started)
    if isinstance(action, Wait) or logger.isEnabledFor(_INFO):
        log_ended(call.record())
    return action


def _watch(call: Call[Any], hooks: Hooks | None) -> Watch | None:
    """A Watch of ``call`` when hooks or a tracer watch it; unwatched, None (the common case)."""
    tracer = _observing.installed
    return None if hooks is None and tracer is None else Watch(call, hooks, tracer)


# The two loops below are deliberately tiny and differ only in blocking vs awaiting.
# A failed call raises its PostStackError out of them, into the caller. A Watch hears
# of every way out, cancellation included, so a trace never stays open.


def drive_sync(
    call: Call[R],
    transport: Transport,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    pacer: PacerLike | None = None,
    hooks: Hooks | None = None,
) -> R:
    """Carry ``call`` out with ``transport``: its value, or its error raised."""
    watch = None
    try:
        watch = _watch(call, hooks)
        action = call.start()
        while True:
            if isinstance(action, Send):
                if pacer is not None and (delay := pacer.reserve(time.monotonic())) > 0:
                    sleep(delay)
                request = action.request
                if watch is not None:
                    record = call.record()
                    run_hooks("request", watch.hooks.request, record)
                    request = watch.attempt_started(record, request)
                if logger.isEnabledFor(_DEBUG):
                    log_sending(call.record())
                started = time.monotonic()
                try:
                    outcome: Outcome = transport.send(request, action.timeout)
                except TransportFailure as failure:
                    outcome = failure
                except PostStackError:
                    raise
                except Exception as exc:
                    outcome = _unexpected(exc)
                action = _attempted(call, outcome, clock, pacer, started)
                if watch is not None:
                    record = call.record()
                    for event, event_hooks in watch.attempt_ended(record):
                        run_hooks(event, event_hooks, record)
            elif isinstance(action, Done):
                if watch is not None:
                    watch.ended(None)
                return action.value
            elif isinstance(action, Wait):
                sleep(action.seconds)
                action = call.resume()
            else:
                raise action.error
    except BaseException as exc:
        if watch is not None:
            watch.ended(exc)
        raise


async def drive_async(
    call: Call[R],
    transport: AsyncTransport,
    clock: Callable[[], float] = time.time,
    pacer: PacerLike | None = None,
    hooks: Hooks | None = None,
) -> R:
    """Carry ``call`` out with ``transport``, awaiting: its value, or its error raised."""
    watch = None
    try:
        watch = _watch(call, hooks)
        action = call.start()
        while True:
            if isinstance(action, Wait):
                await async_sleep(action.seconds)
                action = call.resume()
            elif isinstance(action, Send):
                if pacer is not None and (delay := pacer.reserve(time.monotonic())) > 0:
                    await async_sleep(delay)
                request = action.request
                if watch is not None:
                    record = call.record()
                    await arun_hooks("request", watch.hooks.request, record)
                    request = watch.attempt_started(record, request)
                if logger.isEnabledFor(_DEBUG):
                    log_sending(call.record())
                started = time.monotonic()
                try:
                    outcome: Outcome = await transport.send(request, action.timeout)
                except TransportFailure as failure:
                    outcome = failure
                except PostStackError:
                    raise
                except Exception as exc:
                    outcome = _unexpected(exc)
                action = _attempted(call, outcome, clock, pacer, started)
                if watch is not None:
                    record = call.record()
                    for event, event_hooks in watch.attempt_ended(record):
                        await arun_hooks(event, event_hooks, record)
            elif isinstance(action, Done):
                if watch is not None:
                    watch.ended(None)
                return action.value
            else:
                raise action.error
    except BaseException as exc:
        if watch is not None:
            watch.ended(exc)
        raise


def run_sync(
    operation: Operation[R],
    config: ClientConfig,
    transport: Transport,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    pacer: PacerLike | None = None,
    *,
    name: str = "",
    hooks: Hooks | None = None,
) -> R:
    """Run ``operation`` (called ``name`` in records) with ``transport``: its value."""
    return drive_sync(new_call(operation, config, name), transport, clock, sleep, pacer, hooks)


async def run_async(
    operation: Operation[R],
    config: ClientConfig,
    transport: AsyncTransport,
    clock: Callable[[], float] = time.time,
    pacer: PacerLike | None = None,
    *,
    name: str = "",
    hooks: Hooks | None = None,
) -> R:
    """Run ``operation`` (called ``name`` in records) with ``transport``, awaiting: its value."""
    return await drive_async(new_call(operation, config, name), transport, clock, pacer, hooks)


def _no_raw_form(shape: str) -> AttributeError:
    return AttributeError(
        f"{shape} have no raw form: they make many requests for one result. "
        "with_raw_response has the endpoints that make one request; event_hooks see "
        "every response of any call"
    )


class ClientBinder:
    """What both binders share: the client's pieces, and deriving views of them.

    ``with_hooks`` and ``raw`` return copies that share the client's
    configuration, transport and pacer: ``with_options`` and
    ``with_raw_response`` are views of one client, not new clients.
    """

    _hooks: Hooks | None
    _raw: bool
    _owner: object
    _transport: Callable[[], Any]

    def __repr__(self) -> str:
        return repr(self._owner)

    def transport(self) -> Any:
        """The transport the calls bound here go through."""
        return self._transport()

    def with_hooks(
        self: BinderT, hooks: Hooks | None, owner: object, transport: Callable[[], Any]
    ) -> BinderT:
        """This binder, with ``hooks`` run after its own, for the view ``owner``.

        ``transport`` is how the view gets its client's transport.
        """
        derived = copy.copy(self)
        if hooks is not None:
            derived._hooks = hooks if self._hooks is None else self._hooks + hooks
        derived._owner = owner
        derived._transport = transport
        return derived

    def raw(self: BinderT) -> BinderT:
        """This binder in raw mode: endpoints return a RawResponse."""
        derived = copy.copy(self)
        derived._raw = True
        return derived

    @property
    def path(self) -> str:
        """Where the bound methods live: ``PostStack``, ``PostStack.with_raw_response`` ..."""
        client = type(self._owner).__name__
        return f"{client}.with_raw_response" if self._raw else client


class Blocking(ClientBinder):
    """PostStack's Binder: every definition becomes a blocking method.

    ``pacing``, when given, paces every request of the client through one
    pacer, shared by its threads; ``hooks`` are the client's event hooks.
    """

    def __init__(
        self,
        config: ClientConfig,
        transport: Callable[[], Transport],
        owner: object,
        pacing: Pacing | None = None,
        hooks: Hooks | None = None,
    ):
        self._config = config
        self._transport = transport
        self._owner = owner
        self._pacer = None if pacing is None else LockedPacer(Pacer(pacing, config.retry))
        self._hooks = hooks
        self._raw = False

    def run(self, operation: Operation[R], name: str = "") -> R:
        """Run one Operation with the client's transport: its parsed result."""
        check_not_in_event_loop(name or operation.method)
        call = new_call(operation, self._config, name)
        return drive_sync(call, self._transport(), pacer=self._pacer, hooks=self._hooks)

    def run_raw(self, operation: Operation[R], name: str = "") -> RawResponse[R]:
        """Run one Operation: its parsed result with the response it came from."""
        check_not_in_event_loop(name or operation.method)
        call = new_call(operation, self._config, name)
        drive_sync(call, self._transport(), pacer=self._pacer, hooks=self._hooks)
        return call.raw_response()

    def bind_bulk(self, build: Callable[P, SendMany]) -> Callable[P, SendManyResult]:
        """A method that builds the bulk run and carries it out with a pool of threads."""
        if self._raw:
            raise _no_raw_form("bulk sends")
        config, hooks = self._config, self._hooks
        name = operation_name(build)

        def method(*args: P.args, **kwargs: P.kwargs) -> SendManyResult:
            job = build(*args, **kwargs)
            check_not_in_event_loop(name)
            transport = self._transport()
            # The client's pacer; without one, a pacer of the run's own.
            pacer = CountingPacer(self._pacer or LockedPacer(Pacer(Pacing(), config.retry)))
            # The workers are threads of a pool, which start with an empty context: each
            # request runs in a copy of the caller's, so its trace nests under the caller's.
            caller = contextvars.copy_context()

            def send(operation: Operation[Any]) -> Any:
                return caller.copy().run(
                    run_sync, operation, config, transport, pacer=pacer, name=name, hooks=hooks
                )

            return _bulk.run_sync(job, send, pacer, new_idempotency_key())

        return method

    def bind(self, build: Callable[P, Operation[R]]) -> Callable[P, Any]:
        """A method that builds the Operation and runs it (in raw mode: ``run_raw``)."""
        name = operation_name(build)
        run = self.run_raw if self._raw else self.run

        def method(*args: P.args, **kwargs: P.kwargs) -> Any:
            return run(build(*args, **kwargs), name)

        return method

    def bind_plan(self, build: Callable[P, Plan[R]]) -> Callable[P, R]:
        """A method that builds the Plan and runs its operations, in order."""
        if self._raw:
            raise _no_raw_form("planned calls")
        run = self.run
        name = operation_name(build)

        def method(*args: P.args, **kwargs: P.kwargs) -> R:
            plan = build(*args, **kwargs)
            results: list[Any] = []
            try:
                for operation in plan.operations:
                    results.append(run(operation, name))
            except PostStackError as error:
                failure = plan.failure(results, error)
                if failure is error:
                    raise
                raise failure from error
            return plan.combine(results)

        return method

    def bind_pages(
        self, build: Callable[..., Operation[Any]], items: Callable[[Any], object]
    ) -> Callable[..., Iterator[Any]]:
        """A method that yields every item of the list, fetching page after page."""
        if self._raw:
            raise _no_raw_form("walkers (..._all)")
        run = self.run
        name = operation_name(build)

        def method(*args: Any, **kwargs: Any) -> Iterator[Any]:
            # Built here, not in the generator: a bad argument fails at the call.
            pages = PagedCall(build, items, args, kwargs)
            return _walk(pages, run, name)

        return method


def _walk(pages: PagedCall, run: Callable[[Operation[Any], str], Any], name: str) -> Iterator[Any]:
    while not pages.done:
        yield from pages.take(run(pages.operation(), name))


class Awaiting(ClientBinder):
    """AsyncPostStack's Binder: every definition becomes a coroutine function.

    ``pacing``, when given, paces every request of the client through one
    pacer, shared by its tasks (which never interleave inside a pacer's call:
    no lock); ``hooks`` are the client's event hooks, which may be async.
    """

    def __init__(
        self,
        config: ClientConfig,
        transport: Callable[[], AsyncTransport],
        owner: object,
        pacing: Pacing | None = None,
        hooks: Hooks | None = None,
    ):
        self._config = config
        self._transport = transport
        self._owner = owner
        self._pacer = None if pacing is None else Pacer(pacing, config.retry)
        self._hooks = hooks
        self._raw = False

    async def run(self, operation: Operation[R], name: str = "") -> R:
        """Run one Operation with the client's transport: its parsed result."""
        call = new_call(operation, self._config, name)
        return await drive_async(call, self._transport(), pacer=self._pacer, hooks=self._hooks)

    async def run_raw(self, operation: Operation[R], name: str = "") -> RawResponse[R]:
        """Run one Operation: its parsed result with the response it came from."""
        call = new_call(operation, self._config, name)
        await drive_async(call, self._transport(), pacer=self._pacer, hooks=self._hooks)
        return call.raw_response()

    def bind_bulk(
        self, build: Callable[P, SendMany]
    ) -> Callable[P, Coroutine[Any, Any, SendManyResult]]:
        """A coroutine function that builds the bulk run and carries it out with tasks."""
        if self._raw:
            raise _no_raw_form("bulk sends")
        config, hooks = self._config, self._hooks
        name = operation_name(build)

        async def method(*args: P.args, **kwargs: P.kwargs) -> SendManyResult:
            job = build(*args, **kwargs)
            transport = self._transport()
            pacer = CountingPacer(self._pacer or Pacer(Pacing(), config.retry))

            async def send(operation: Operation[Any]) -> Any:
                return await run_async(
                    operation, config, transport, pacer=pacer, name=name, hooks=hooks
                )

            return await _bulk.run_async(job, send, pacer, new_idempotency_key())

        return method

    def bind(self, build: Callable[P, Operation[R]]) -> Callable[P, Coroutine[Any, Any, Any]]:
        """A coroutine function that builds the Operation and runs it (raw mode: ``run_raw``)."""
        name = operation_name(build)
        run = self.run_raw if self._raw else self.run

        async def method(*args: P.args, **kwargs: P.kwargs) -> Any:
            return await run(build(*args, **kwargs), name)

        return method

    def bind_plan(self, build: Callable[P, Plan[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
        """A coroutine function that builds the Plan and runs its operations, in order."""
        if self._raw:
            raise _no_raw_form("planned calls")
        run = self.run
        name = operation_name(build)

        async def method(*args: P.args, **kwargs: P.kwargs) -> R:
            plan = build(*args, **kwargs)
            results: list[Any] = []
            try:
                for operation in plan.operations:
                    results.append(await run(operation, name))
            except PostStackError as error:
                failure = plan.failure(results, error)
                if failure is error:
                    raise
                raise failure from error
            return plan.combine(results)

        return method

    def bind_pages(
        self, build: Callable[..., Operation[Any]], items: Callable[[Any], object]
    ) -> Callable[..., AsyncIterator[Any]]:
        """A method that returns an async iterator over every item, page after page."""
        if self._raw:
            raise _no_raw_form("walkers (..._all)")
        run = self.run
        name = operation_name(build)

        def method(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            # Built here, not in the generator: a bad argument fails at the call.
            pages = PagedCall(build, items, args, kwargs)
            return _async_walk(pages, run, name)

        return method


async def _async_walk(
    pages: PagedCall, run: Callable[[Operation[Any], str], Coroutine[Any, Any, Any]], name: str
) -> AsyncIterator[Any]:
    while not pages.done:
        for item in pages.take(await run(pages.operation(), name)):
            yield item

"""The only loops in the SDK: carry out Calls, Plans and page walks, blocking or awaiting.

``run_sync`` and ``run_async`` carry out one Call's actions with a transport
and a sleep; ``_attempted`` holds what they share (feeding the Call, and the
pacer, what an attempt produced; logging). With a pacer, each attempt first
sleeps as long as the pacer says (see ``poststack_core.Pacer``).
:class:`Blocking` and :class:`Awaiting` are the two clients' Binders: they
turn each core definition into the method a resource attribute becomes,
running its Operation, its Plan, its pages or its bulk run (``_bulk``).
"""

from __future__ import annotations

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
    Response,
    Send,
    SendMany,
    SendManyResult,
    TransportFailure,
    Wait,
    idempotency_key_from,
)

from . import _bulk
from .transports import AsyncTransport, Transport
from .transports._runtime import sleep as async_sleep

P = ParamSpec("P")
R = TypeVar("R")
logger = logging.getLogger("poststack")
_DEBUG = logging.DEBUG

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


def new_call(operation: Operation[R], config: ClientConfig) -> Call[R]:
    """The Call for ``operation``, with the OS's randomness for keys and jitter."""
    return Call(operation, config, new_key=new_idempotency_key, random=random.random)


def _log_attempt(send: Send, outcome: Outcome, action: object) -> None:
    request = send.request
    path = request.target.partition("?")[0]
    if isinstance(outcome, Response):
        result = str(outcome.status)
        request_id = outcome.header("x-request-id")
    else:
        result = f"{type(outcome).__name__}: {outcome}"
        request_id = None
    where = f"attempt {send.attempt}"
    if request_id is not None:
        where += f", request id {request_id}"
    if isinstance(action, Wait):
        logger.warning(
            "%s %s failed with %s (%s); retrying in %.3f s",
            request.method,
            path,
            result,
            where,
            action.seconds,
        )
    elif logger.isEnabledFor(logging.DEBUG):
        logger.debug("%s %s -> %s (%s)", request.method, path, result, where)


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
    send: Send,
    outcome: Outcome,
    clock: Callable[[], float],
    pacer: PacerLike | None,
    started: float,
) -> Action[R]:
    """Feed the Call (and the pacer) what one attempt produced; log it; the next action.

    ``started`` is when the attempt was sent (``time.monotonic()``), for the pacer.
    """
    if isinstance(outcome, TransportFailure):
        action = call.transport_failed(outcome)
    else:
        now = clock()
        if pacer is not None:
            pacer.observe(outcome, time.monotonic(), now, started)
        action = call.receive(outcome, now)
    if isinstance(action, Wait) or logger.isEnabledFor(_DEBUG):
        _log_attempt(send, outcome, action)
    return action


# The two loops below are deliberately tiny and differ only in blocking vs awaiting.
# A failed call raises its PostStackError out of them, into the caller.


def run_sync(
    operation: Operation[R],
    config: ClientConfig,
    transport: Transport,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    pacer: PacerLike | None = None,
) -> R:
    call = new_call(operation, config)
    action = call.start()
    while True:
        if isinstance(action, Send):
            if pacer is not None and (delay := pacer.reserve(time.monotonic())) > 0:
                sleep(delay)
            started = time.monotonic()
            try:
                outcome: Outcome = transport.send(action.request, action.timeout)
            except TransportFailure as failure:
                outcome = failure
            except PostStackError:
                raise
            except Exception as exc:
                outcome = _unexpected(exc)
            action = _attempted(call, action, outcome, clock, pacer, started)
        elif isinstance(action, Done):
            return action.value
        elif isinstance(action, Wait):
            sleep(action.seconds)
            action = call.resume()
        else:
            raise action.error


async def run_async(
    operation: Operation[R],
    config: ClientConfig,
    transport: AsyncTransport,
    clock: Callable[[], float] = time.time,
    pacer: PacerLike | None = None,
) -> R:
    call = new_call(operation, config)
    action = call.start()
    while True:
        if isinstance(action, Wait):
            await async_sleep(action.seconds)
            action = call.resume()
        elif isinstance(action, Send):
            if pacer is not None and (delay := pacer.reserve(time.monotonic())) > 0:
                await async_sleep(delay)
            started = time.monotonic()
            try:
                outcome: Outcome = await transport.send(action.request, action.timeout)
            except TransportFailure as failure:
                outcome = failure
            except PostStackError:
                raise
            except Exception as exc:
                outcome = _unexpected(exc)
            action = _attempted(call, action, outcome, clock, pacer, started)
        elif isinstance(action, Done):
            return action.value
        else:
            raise action.error


class Blocking:
    """PostStack's Binder: every definition becomes a blocking method.

    ``pacing``, when given, paces every request of the client through one
    pacer, shared by its threads.
    """

    def __init__(
        self,
        config: ClientConfig,
        transport: Callable[[], Transport],
        owner: object,
        pacing: Pacing | None = None,
    ):
        self._config = config
        self._transport = transport
        self._owner = owner
        self._pacer = None if pacing is None else LockedPacer(Pacer(pacing, config.retry))

    def __repr__(self) -> str:
        return repr(self._owner)

    def run(self, operation: Operation[R]) -> R:
        """Run one Operation with the client's transport: its parsed result."""
        return run_sync(operation, self._config, self._transport(), pacer=self._pacer)

    def bind_bulk(self, build: Callable[P, SendMany]) -> Callable[P, SendManyResult]:
        """A method that builds the bulk run and carries it out with a pool of threads."""
        config = self._config

        def method(*args: P.args, **kwargs: P.kwargs) -> SendManyResult:
            job = build(*args, **kwargs)
            transport = self._transport()
            # The client's pacer; without one, a pacer of the run's own.
            pacer = CountingPacer(self._pacer or LockedPacer(Pacer(Pacing(), config.retry)))

            def send(operation: Operation[Any]) -> Any:
                return run_sync(operation, config, transport, pacer=pacer)

            return _bulk.run_sync(job, send, pacer, new_idempotency_key())

        return method

    def bind(self, build: Callable[P, Operation[R]]) -> Callable[P, R]:
        """A method that builds the Operation and runs it."""
        run = self.run

        def method(*args: P.args, **kwargs: P.kwargs) -> R:
            return run(build(*args, **kwargs))

        return method

    def bind_plan(self, build: Callable[P, Plan[R]]) -> Callable[P, R]:
        """A method that builds the Plan and runs its operations, in order."""
        run = self.run

        def method(*args: P.args, **kwargs: P.kwargs) -> R:
            plan = build(*args, **kwargs)
            results: list[Any] = []
            try:
                for operation in plan.operations:
                    results.append(run(operation))
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
        run = self.run

        def method(*args: Any, **kwargs: Any) -> Iterator[Any]:
            # Built here, not in the generator: a bad argument fails at the call.
            pages = PagedCall(build, items, args, kwargs)
            return _walk(pages, run)

        return method


def _walk(pages: PagedCall, run: Callable[[Operation[Any]], Any]) -> Iterator[Any]:
    while not pages.done:
        yield from pages.take(run(pages.operation()))


class Awaiting:
    """AsyncPostStack's Binder: every definition becomes a coroutine function.

    ``pacing``, when given, paces every request of the client through one
    pacer, shared by its tasks (which never interleave inside a pacer's call:
    no lock).
    """

    def __init__(
        self,
        config: ClientConfig,
        transport: Callable[[], AsyncTransport],
        owner: object,
        pacing: Pacing | None = None,
    ):
        self._config = config
        self._transport = transport
        self._owner = owner
        self._pacer = None if pacing is None else Pacer(pacing, config.retry)

    def __repr__(self) -> str:
        return repr(self._owner)

    async def run(self, operation: Operation[R]) -> R:
        """Run one Operation with the client's transport: its parsed result."""
        return await run_async(operation, self._config, self._transport(), pacer=self._pacer)

    def bind_bulk(
        self, build: Callable[P, SendMany]
    ) -> Callable[P, Coroutine[Any, Any, SendManyResult]]:
        """A coroutine function that builds the bulk run and carries it out with tasks."""
        config = self._config

        async def method(*args: P.args, **kwargs: P.kwargs) -> SendManyResult:
            job = build(*args, **kwargs)
            transport = self._transport()
            pacer = CountingPacer(self._pacer or Pacer(Pacing(), config.retry))

            async def send(operation: Operation[Any]) -> Any:
                return await run_async(operation, config, transport, pacer=pacer)

            return await _bulk.run_async(job, send, pacer, new_idempotency_key())

        return method

    def bind(self, build: Callable[P, Operation[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
        """A coroutine function that builds the Operation and runs it."""
        run = self.run

        async def method(*args: P.args, **kwargs: P.kwargs) -> R:
            return await run(build(*args, **kwargs))

        return method

    def bind_plan(self, build: Callable[P, Plan[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
        """A coroutine function that builds the Plan and runs its operations, in order."""
        run = self.run

        async def method(*args: P.args, **kwargs: P.kwargs) -> R:
            plan = build(*args, **kwargs)
            results: list[Any] = []
            try:
                for operation in plan.operations:
                    results.append(await run(operation))
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
        run = self.run

        def method(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            # Built here, not in the generator: a bad argument fails at the call.
            pages = PagedCall(build, items, args, kwargs)
            return _async_walk(pages, run)

        return method


async def _async_walk(
    pages: PagedCall, run: Callable[[Operation[Any]], Coroutine[Any, Any, Any]]
) -> AsyncIterator[Any]:
    while not pages.done:
        for item in pages.take(await run(pages.operation())):
            yield item

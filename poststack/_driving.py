"""The only loops in the SDK: carry out Calls, Plans and page walks, blocking or awaiting.

``run_sync`` and ``run_async`` carry out one Call's actions with a transport
and a sleep; ``_attempted`` holds what they share (feeding the Call what an
attempt produced, logging). :class:`Blocking` and :class:`Awaiting` are the
two clients' Binders: they turn each core definition into the method a
resource attribute becomes, running its Operation, its Plan or its pages.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any, ParamSpec, TypeVar

from poststack_core import (
    Action,
    Call,
    ClientConfig,
    ConnectionBroken,
    Done,
    Operation,
    PagedCall,
    Plan,
    PostStackError,
    Response,
    Send,
    TransportFailure,
    Wait,
    idempotency_key_from,
)

from .transports import AsyncTransport, Transport
from .transports._runtime import sleep as async_sleep

P = ParamSpec("P")
R = TypeVar("R")
logger = logging.getLogger("poststack")
_DEBUG = logging.DEBUG

Outcome = Response | TransportFailure


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
    call: Call[R], send: Send, outcome: Outcome, clock: Callable[[], float]
) -> Action[R]:
    """Feed the Call what one attempt produced; log it; return the Call's next action."""
    if isinstance(outcome, TransportFailure):
        action = call.transport_failed(outcome)
    else:
        action = call.receive(outcome, clock())
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
) -> R:
    call = new_call(operation, config)
    action = call.start()
    while True:
        if isinstance(action, Send):
            try:
                outcome: Outcome = transport.send(action.request, action.timeout)
            except TransportFailure as failure:
                outcome = failure
            except PostStackError:
                raise
            except Exception as exc:
                outcome = _unexpected(exc)
            action = _attempted(call, action, outcome, clock)
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
) -> R:
    call = new_call(operation, config)
    action = call.start()
    while True:
        if isinstance(action, Wait):
            await async_sleep(action.seconds)
            action = call.resume()
        elif isinstance(action, Send):
            try:
                outcome: Outcome = await transport.send(action.request, action.timeout)
            except TransportFailure as failure:
                outcome = failure
            except PostStackError:
                raise
            except Exception as exc:
                outcome = _unexpected(exc)
            action = _attempted(call, action, outcome, clock)
        elif isinstance(action, Done):
            return action.value
        else:
            raise action.error


class Blocking:
    """PostStack's Binder: every definition becomes a blocking method."""

    def __init__(self, config: ClientConfig, transport: Callable[[], Transport], owner: object):
        self._config = config
        self._transport = transport
        self._owner = owner

    def __repr__(self) -> str:
        return repr(self._owner)

    def run(self, operation: Operation[R]) -> R:
        """Run one Operation with the client's transport: its parsed result."""
        return run_sync(operation, self._config, self._transport())

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
    """AsyncPostStack's Binder: every definition becomes a coroutine function."""

    def __init__(
        self, config: ClientConfig, transport: Callable[[], AsyncTransport], owner: object
    ):
        self._config = config
        self._transport = transport
        self._owner = owner

    def __repr__(self) -> str:
        return repr(self._owner)

    async def run(self, operation: Operation[R]) -> R:
        """Run one Operation with the client's transport: its parsed result."""
        return await run_async(operation, self._config, self._transport())

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

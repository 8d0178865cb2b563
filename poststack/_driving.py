"""The only loops in the SDK: carry out a Call's actions with a transport and a sleep.

``_attempted`` holds everything the two loops share (feeding the Call what an
attempt produced, telling the pacer, logging); ``run_sync`` and ``run_async``
only do the I/O each action asks for. With a pacer, each attempt first sleeps
as long as the pacer says (see ``poststack_core.Pacer``).
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable
from typing import Protocol, TypeVar

from poststack_core import (
    Call,
    ClientConfig,
    Done,
    Operation,
    Response,
    Send,
    TransportFailure,
    Wait,
    idempotency_key_from,
)
from poststack_core._call import Action

from .transports import AsyncTransport, Transport
from .transports._runtime import sleep as async_sleep

R = TypeVar("R")
logger = logging.getLogger("poststack")
_DEBUG = logging.DEBUG

Outcome = Response | TransportFailure


class Pacing(Protocol):
    """What the loops need of a pacer: a ``poststack_core.Pacer``, or one behind a lock."""

    def reserve(self, now: float) -> float: ...

    def observe(
        self, response: Response, now: float, wall: float, started: float | None = None
    ) -> None: ...


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


def _attempted(
    call: Call[R],
    send: Send,
    outcome: Outcome,
    clock: Callable[[], float],
    pacer: Pacing | None,
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
    pacer: Pacing | None = None,
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
    pacer: Pacing | None = None,
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
            action = _attempted(call, action, outcome, clock, pacer, started)
        elif isinstance(action, Done):
            return action.value
        else:
            raise action.error

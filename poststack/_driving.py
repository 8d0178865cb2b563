"""The only loops in the SDK: carry out a Call's actions with a transport and a sleep.

``_steps`` holds everything the two loops share (feeding the Call, logging);
``run_sync`` and ``run_async`` only do the I/O each step asks for.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable, Generator
from typing import TypeVar

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

from .transports import AsyncTransport, Transport
from .transports._runtime import sleep as async_sleep

R = TypeVar("R")
logger = logging.getLogger("poststack")

Step = Send | Wait | Done[R]
Outcome = Response | TransportFailure | None


def new_call(operation: Operation[R], config: ClientConfig) -> Call[R]:
    key = None
    if operation.needs_idempotency_key and operation.idempotency_key is None:
        key = idempotency_key_from(os.urandom(16))
    return Call(operation, config, key, random.random)


def _log_attempt(send: Send, outcome: Outcome, action: object) -> None:
    request = send.request
    path = request.target.partition("?")[0]
    if isinstance(outcome, Response):
        result = str(outcome.status)
        request_id = outcome.header("x-request-id")
    else:
        result = f"{type(outcome).__name__}: {outcome}"
        request_id = None
    if isinstance(action, Wait):
        logger.warning(
            "%s %s failed with %s (attempt %d); retrying in %.3f s (request id %s)",
            request.method,
            path,
            result,
            send.attempt,
            action.seconds,
            request_id,
        )
    elif logger.isEnabledFor(logging.DEBUG):
        logger.debug(
            "%s %s -> %s (attempt %d, request id %s)",
            request.method,
            path,
            result,
            send.attempt,
            request_id,
        )


def _steps(call: Call[R], clock: Callable[[], float]) -> Generator[Step[R], Outcome, None]:
    """Feed the Call what the driver reports; yield what it must do next, ending with Done.

    A failed call raises its PostStackError out of ``send()``, into the driver's caller.
    """
    action = call.start()
    while True:
        if isinstance(action, Send):
            send = action
            outcome = yield send
            if isinstance(outcome, TransportFailure):
                action = call.transport_failed(outcome)
            else:
                assert outcome is not None
                action = call.receive(outcome, clock())
            if isinstance(action, Wait) or logger.isEnabledFor(logging.DEBUG):
                _log_attempt(send, outcome, action)
        elif isinstance(action, Wait):
            yield action
            action = call.resume()
        elif isinstance(action, Done):
            yield action
            return
        else:
            raise action.error


# The two loops below are deliberately tiny and differ only in blocking vs awaiting.


def run_sync(
    operation: Operation[R],
    config: ClientConfig,
    transport: Transport,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> R:
    steps = _steps(new_call(operation, config), clock)
    step = next(steps)
    while not isinstance(step, Done):
        if isinstance(step, Wait):
            sleep(step.seconds)
            step = next(steps)
            continue
        try:
            outcome: Outcome = transport.send(step.request, step.timeout)
        except TransportFailure as failure:
            outcome = failure
        step = steps.send(outcome)
    return step.value


async def run_async(
    operation: Operation[R],
    config: ClientConfig,
    transport: AsyncTransport,
    clock: Callable[[], float] = time.time,
) -> R:
    steps = _steps(new_call(operation, config), clock)
    step = next(steps)
    while not isinstance(step, Done):
        if isinstance(step, Wait):
            await async_sleep(step.seconds)
            step = next(steps)
            continue
        try:
            outcome: Outcome = await transport.send(step.request, step.timeout)
        except TransportFailure as failure:
            outcome = failure
        step = steps.send(outcome)
    return step.value

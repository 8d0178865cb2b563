"""What watches a call: its client's event hooks and the process's tracer.

The drivers make a :class:`Watch` for a call only when something watches
(hooks on the client or on ``with_options``, or a tracer installed by
``poststack.contrib.opentelemetry``); otherwise they run exactly as
unobserved. A Watch reads the Call's attempt records, hands them to the
tracer and says which hooks to run; the drivers run the hooks (blocking or
awaiting). Nothing here decides anything about the call, and no failure of
a tracer reaches it: a tracer that raises is logged, told nothing more about
that call's attempts, and still told of its end (to close what it opened).

A tracer is this module's :class:`Tracer` protocol. One tracer at most is
installed per process, with :func:`set_tracer`; it then sees the calls of
every client, those that exist already included.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from poststack_core import Attempt, Call, CallStateError, Request

from ._hooks import AnyHook, HookEvent, Hooks, after_attempt
from ._logging import logger


class CallTrace(Protocol):
    """A tracer's view of one call: told of each attempt's start and end, then of the end."""

    def attempt_started(self, record: Attempt) -> Sequence[tuple[str, str]]:
        """An attempt is about to be sent: the headers to add to it (``traceparent``), or none."""
        ...

    def attempt_ended(self, record: Attempt) -> None:
        """The attempt ended: ``record`` holds its outcome."""
        ...

    def ended(self, record: Attempt | None, error: BaseException | None) -> None:
        """The call ended: with the last attempt's ``record`` (None before any), and the
        exception that ended it (None when it succeeded)."""
        ...


class Tracer(Protocol):
    """What traces calls (``poststack.contrib.opentelemetry``): one CallTrace per call."""

    def start_call(self, call: Call[Any]) -> CallTrace:
        """A call is about to start (its first attempt is not sent yet)."""
        ...


installed: Tracer | None = None
"""The process's tracer, if one is installed (the drivers read it before each call)."""


def set_tracer(tracer: Tracer | None) -> None:
    """Install the process's tracer (None removes it); calls started from now on see it."""
    global installed
    installed = tracer


def current_tracer() -> Tracer | None:
    """The tracer :func:`set_tracer` installed, if any."""
    return installed


class Watch:
    """What watches one call: hooks to run and a trace to keep (see the module)."""

    __slots__ = ("_call", "_ended", "_failed", "_trace", "hooks")

    def __init__(self, call: Call[Any], hooks: Hooks | None, tracer: Tracer | None) -> None:
        self._call = call
        self.hooks = hooks or _NO_HOOKS
        self._ended = False
        self._failed = False  # the tracer raised: it hears of the call's end only
        self._trace: CallTrace | None = None
        if tracer is not None:
            try:
                self._trace = tracer.start_call(call)
            except Exception:
                logger.exception("the tracer failed to start a trace; the call goes on untraced")

    def attempt_started(self, record: Attempt, request: Request) -> Request:
        """The request to send for the attempt ``record`` describes (the tracer may add headers)."""
        trace = self._trace
        if trace is None or self._failed:
            return request
        try:
            extra = tuple(trace.attempt_started(record))
        except Exception:
            self._fail("an attempt's start")
            return request
        if not extra:
            return request
        return dataclasses.replace(request, headers=(*request.headers, *extra))

    def attempt_ended(self, record: Attempt) -> Iterator[tuple[HookEvent, tuple[AnyHook, ...]]]:
        """Tell the tracer; then the hooks to run, event by event (response, retry or error)."""
        trace = self._trace
        if trace is not None and not self._failed:
            try:
                trace.attempt_ended(record)
            except Exception:
                self._fail("an attempt's end")
        return after_attempt(self.hooks, record)

    def ended(self, error: BaseException | None) -> None:
        """The call ended (``error``: what it raised). Idempotent."""
        if self._ended:
            return
        self._ended = True
        trace = self._trace
        if trace is None:
            return
        try:
            record: Attempt | None = self._call.record()
        except CallStateError:  # not started, or broken by a driver's bug
            record = None
        try:
            trace.ended(record, error)
        except Exception:
            logger.exception("the tracer failed at the call's end")

    def _fail(self, what: str) -> None:
        logger.exception("the tracer failed at %s; the call goes on untraced", what)
        self._failed = True


_NO_HOOKS = Hooks()

"""Event hooks: functions a client calls with the record of each attempt.

``event_hooks={"request": [...], "response": [...], "retry": [...], "error": [...]}``
on a client (and on ``client.with_options(...)``) names, for each event, the
functions to call with a :class:`poststack_core.Attempt`:

- ``request``: before each attempt is sent;
- ``response``: after each attempt that got an HTTP response (status,
  headers, request id, rate limit, elapsed time);
- ``retry``: after each attempt that the call retries (``wait``, ``error``);
- ``error``: after the attempt that made the call fail (``error``).

Hooks observe, they do not decide: the call's next step is settled before
they run, and a hook that raises is logged (``poststack`` logger, ERROR) and
skipped, so it never stops, changes or repeats a send. They run in the
caller's thread or task, one after the other, so they should be quick.
``PostStack`` calls plain functions; ``AsyncPostStack`` also awaits what a
hook returns, so its hooks may be coroutine functions.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypedDict, cast

from poststack_core import Attempt

from ._logging import log_fields, logger

HookEvent = Literal["request", "response", "retry", "error"]
"""The events a hook can be set for."""

EVENTS: tuple[HookEvent, ...] = ("request", "response", "retry", "error")

Hook = Callable[[Attempt], None]
"""A hook of a :class:`~poststack.PostStack`: called with each attempt's record."""

# Quoted: on Python 3.10 a collections.abc alias cannot be joined with | at run time.
AsyncHook = Callable[[Attempt], "Awaitable[None] | None"]
"""A hook of an :class:`~poststack.AsyncPostStack`: a function, or a coroutine function."""


class EventHooks(TypedDict, total=False):
    """``event_hooks=`` of a :class:`~poststack.PostStack`: the hooks of each event, in order."""

    request: Sequence[Hook]
    response: Sequence[Hook]
    retry: Sequence[Hook]
    error: Sequence[Hook]


class AsyncEventHooks(TypedDict, total=False):
    """``event_hooks=`` of an :class:`~poststack.AsyncPostStack`: may be coroutine functions."""

    request: Sequence[AsyncHook]
    response: Sequence[AsyncHook]
    retry: Sequence[AsyncHook]
    error: Sequence[AsyncHook]


AnyHook = Callable[[Attempt], Any]


@dataclass(frozen=True, slots=True)
class Hooks:
    """A client's hooks, checked: one tuple per event, run in order."""

    request: tuple[AnyHook, ...] = ()
    response: tuple[AnyHook, ...] = ()
    retry: tuple[AnyHook, ...] = ()
    error: tuple[AnyHook, ...] = ()

    @classmethod
    def of(cls, event_hooks: object, *, awaits: bool) -> Hooks | None:
        """The hooks ``event_hooks`` names (None when it names none), or a clear error.

        ``awaits`` is whether the client awaits what hooks return (AsyncPostStack).
        """
        if event_hooks is None:
            return None
        if not isinstance(event_hooks, Mapping):
            raise TypeError(
                'event_hooks must be a dict of event -> list of functions, such as {"response": '
                f"[log_response]}}, got {type(event_hooks).__name__}"
            )
        found: dict[str, tuple[AnyHook, ...]] = {}
        for event, hooks in cast("Mapping[object, object]", event_hooks).items():
            if not isinstance(event, str) or event not in EVENTS:
                raise ValueError(
                    f"event_hooks has no event {event!r}: the events are {', '.join(EVENTS)}"
                )
            found[event] = _checked(event, hooks, awaits=awaits)
        merged = cls(**found)
        return merged if any(merged.of_event(event) for event in EVENTS) else None

    def of_event(self, event: HookEvent) -> tuple[AnyHook, ...]:
        """The hooks of one event."""
        hooks: tuple[AnyHook, ...] = getattr(self, event)
        return hooks

    def __add__(self, more: Hooks) -> Hooks:
        """These hooks, then ``more``'s, event by event (a client's, then a call's)."""
        return Hooks(*(self.of_event(event) + more.of_event(event) for event in EVENTS))


def _checked(event: str, hooks: object, *, awaits: bool) -> tuple[AnyHook, ...]:
    where = f"event_hooks[{event!r}]"
    if callable(hooks):
        raise TypeError(f"{where} must be a list of functions: wrap a single one as [{event}_hook]")
    if isinstance(hooks, (str, bytes)) or not isinstance(hooks, Sequence):
        raise TypeError(f"{where} must be a list of functions, got {type(hooks).__name__}")
    checked: list[AnyHook] = []
    for index, hook in enumerate(cast("Sequence[object]", hooks)):
        if not callable(hook):
            raise TypeError(f"{where}[{index}] is not callable: {hook!r}")
        if not awaits and _is_async(hook):
            raise TypeError(
                f"{where}[{index}] is a coroutine function, which PostStack cannot await: "
                "give it a plain function, or use AsyncPostStack"
            )
        checked.append(cast("AnyHook", hook))
    return tuple(checked)


def _is_async(hook: object) -> bool:
    call = getattr(hook, "__call__", None)  # noqa: B004 - an object whose __call__ is async
    return inspect.iscoroutinefunction(hook) or inspect.iscoroutinefunction(call)


def after_attempt(hooks: Hooks, record: Attempt) -> Iterator[tuple[HookEvent, tuple[AnyHook, ...]]]:
    """The events an ended attempt fires, in order: response, then retry or error."""
    if record.status is not None and hooks.response:
        yield "response", hooks.response
    if record.wait is not None:
        if hooks.retry:
            yield "retry", hooks.retry
    elif record.error is not None and hooks.error:
        yield "error", hooks.error


def run_hooks(event: HookEvent, hooks: tuple[AnyHook, ...], record: Attempt) -> None:
    """Call each hook with ``record``; one that raises is logged and the others still run."""
    for hook in hooks:
        try:
            result = hook(record)
        except Exception:
            _log_failure(event, hook, record)
            continue
        if inspect.isawaitable(result):
            # A function that returned a coroutine after all (a lambda around one): close
            # it, so that Python does not also warn that it was never awaited.
            close = getattr(result, "close", None)
            if callable(close):
                close()
            logger.error(
                "event hook %s for %r returned an awaitable, which PostStack does not await; "
                "use AsyncPostStack for async hooks",
                _hook_name(hook),
                event,
                extra=log_fields(record),
            )


async def arun_hooks(event: HookEvent, hooks: tuple[AnyHook, ...], record: Attempt) -> None:
    """As :func:`run_hooks`, awaiting what a hook returns when it is awaitable."""
    for hook in hooks:
        try:
            result = hook(record)
            if inspect.isawaitable(result):
                await result
        except Exception:
            # Only Exception: a cancellation (asyncio's or trio's) goes on up, as it must.
            _log_failure(event, hook, record)


def _hook_name(hook: object) -> str:
    return getattr(hook, "__qualname__", None) or repr(hook)


def _log_failure(event: str, hook: object, record: Attempt) -> None:
    logger.exception(
        "event hook %s for %r raised; the call goes on as if it had not run",
        _hook_name(hook),
        event,
        extra=log_fields(record),
    )

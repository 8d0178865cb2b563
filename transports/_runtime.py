"""The running attempt's deadline, which event loop is running, and waiting in it.

The one place that tells asyncio from trio. Nothing here imports an event
loop library that the program has not already loaded: trio is used only when
``trio.run`` is running, asyncio otherwise.
"""

from __future__ import annotations

import sys
import time
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import socket


deadline: ContextVar[float] = ContextVar("poststack_attempt_deadline", default=float("inf"))
"""When the attempt under way must be over (``time.monotonic()``); infinite outside one.

A transport sets it for the length of each attempt; the network layers below
(``_deadline``, ``_sockets``, the requests adapter) give each socket
operation only what is left of it. A ContextVar: each thread and each task
sees its own.
"""


class IdleCheck:
    """Whether an idle connection's socket has anything to say: data, a hang-up, an error.

    Any of them means the connection must not carry another request (the
    server closed it, reset it, or sent something unasked), and so does a
    socket closed on our side. One ``poll()`` with no timeout on a poll object
    registered once per connection, where ``select.poll`` exists: no failing
    system call and no exception for a healthy connection. Elsewhere
    (Windows) one ``select()`` with no timeout, which reports the same three.
    """

    __slots__ = ("_poll", "_sock")

    def __init__(self, sock: socket.socket) -> None:
        import select

        self._sock = sock
        self._poll = None
        if hasattr(select, "poll"):
            self._poll = select.poll()
            self._poll.register(sock, select.POLLIN)

    def stale(self) -> bool:
        """True when the socket is closed, readable, hung up or in error."""
        sock = self._sock
        if sock.fileno() < 0:
            return True
        if self._poll is not None:
            return bool(self._poll.poll(0))
        import select

        readable, _, failed = select.select([sock], [], [sock], 0)
        return bool(readable or failed)


def imported(module: str, attribute: str) -> Any:
    """``module.attribute`` when ``module`` is imported and has it, else None; never imports.

    A module is in ``sys.modules`` from the moment its import begins, so while
    another thread still runs its body, its attributes may not exist yet. Nothing
    of a module half imported can be running in this thread: None is right then.
    """
    return getattr(sys.modules.get(module), attribute, None)


def running_under_trio() -> bool:
    """True inside ``trio.run``; False under asyncio (or with trio not even imported)."""
    lowlevel = imported("trio", "lowlevel")
    if lowlevel is None:
        return False
    try:
        lowlevel.current_task()
    except RuntimeError:
        return False
    return True


def current_loop() -> object:
    """An object that stands for the running event loop, compared with ``is``.

    The asyncio loop itself, or trio's token for the current ``trio.run``.
    Connections made under one must never be used under another: they may be
    bound to it (asyncio transports) or it may be gone.
    """
    if running_under_trio():
        import trio

        return trio.lowlevel.current_trio_token()
    import asyncio

    return asyncio.get_running_loop()


async def sleep(seconds: float) -> None:
    """Sleep in whichever loop runs this: trio's sleep under trio, asyncio's otherwise."""
    if running_under_trio():
        import trio

        await trio.sleep(seconds)
    else:
        import asyncio

        await asyncio.sleep(seconds)


def has_readiness_waits() -> bool:
    """Whether the running loop can wait for a plain socket to become readable or writable.

    trio can, and so can asyncio's selector loops (and uvloop); the proactor
    loop of asyncio on Windows cannot.
    """
    if running_under_trio():
        return True
    import asyncio

    loop = asyncio.get_running_loop()
    return type(loop).add_reader is not asyncio.BaseEventLoop.add_reader


async def wait_readable(sock: socket.socket, deadline: float) -> None:
    """Wait until ``sock`` is readable; TimeoutError once ``deadline`` (monotonic) passes."""
    await _wait(sock, deadline, writable=False)


async def wait_writable(sock: socket.socket, deadline: float) -> None:
    """Wait until ``sock`` is writable; TimeoutError once ``deadline`` (monotonic) passes."""
    await _wait(sock, deadline, writable=True)


async def _wait(sock: socket.socket, deadline: float, *, writable: bool) -> None:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    if running_under_trio():
        import trio

        wait = trio.lowlevel.wait_writable if writable else trio.lowlevel.wait_readable
        with trio.move_on_after(left) as scope:
            await wait(sock)
        if scope.cancelled_caught:
            raise TimeoutError
        return
    await _asyncio_wait(sock, left, writable)


async def _asyncio_wait(sock: socket.socket, left: float, writable: bool) -> None:
    import asyncio

    loop = asyncio.get_running_loop()
    ready: asyncio.Future[bool] = loop.create_future()
    fd = sock.fileno()

    def settle(outcome: bool) -> None:
        if not ready.done():
            ready.set_result(outcome)

    add: Any = loop.add_writer if writable else loop.add_reader
    remove: Any = loop.remove_writer if writable else loop.remove_reader
    add(fd, settle, True)
    timer = loop.call_later(left, settle, False)
    try:
        if not await ready:
            raise TimeoutError
    finally:
        remove(fd)
        timer.cancel()


async def getaddrinfo(host: str, port: int, deadline: float) -> list[Any]:
    """The stream addresses of ``host``; TimeoutError once ``deadline`` (monotonic) passes.

    A numeric address needs no lookup; a name is looked up in a worker thread,
    as both loops do.
    """
    import socket

    try:
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    except socket.gaierror:
        pass
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    if running_under_trio():
        import trio

        with trio.move_on_after(left):
            return list(await trio.socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        raise TimeoutError
    import asyncio

    loop = asyncio.get_running_loop()
    lookup = loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    try:
        return list(await asyncio.wait_for(lookup, left))
    except asyncio.TimeoutError:  # not the built-in TimeoutError before Python 3.11
        raise TimeoutError from None

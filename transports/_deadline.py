"""The attempt-wide deadline, enforced at every socket operation of an httpcore pool.

httpcore and httpx time each read on its own, so a server that drips one
byte every 0.2 s, or keeps sending, holds a 0.5 s "timeout" open for ever.
The transports set ``_runtime.deadline`` (a ContextVar, so each thread and
each task sees its own) for the length of one attempt, and the network
backends here give every connect, TLS handshake, read and write only what is
left of it, checking it before each one.

:class:`DeadlineBackend` (blocking) and :class:`AsyncDeadlineBackend` wrap
another backend: httpcore's own in the default blocking pool, and whatever
backend a user's httpx or httpx2 client was built with (``errors`` is then
``httpcore2``). Their streams also refuse to be used by any process, or
event loop, other than the one that opened them, raising the library's read
or write error without touching the socket. A connection inherited by a
forked child, or left over from an ended event loop, can therefore never
carry a request: it reports itself readable (so the pool retires it when it
next looks) and is closed without I/O.
"""

from __future__ import annotations

import os
import time
from types import ModuleType
from typing import Any

import httpcore

from ._runtime import current_loop, deadline


def _left(timeout: float | None, error: type[Exception]) -> float | None:
    remaining = deadline.get() - time.monotonic()
    if remaining <= 0:
        raise error("the attempt's deadline has passed")
    return remaining if timeout is None else min(timeout, remaining)


class DeadlineStream:
    """A blocking network stream whose every operation ends by the attempt's deadline."""

    def __init__(self, stream: Any, errors: ModuleType) -> None:
        self._stream = stream
        self._errors = errors
        self._pid = os.getpid()

    def _usable(self, error: type[Exception]) -> None:
        if os.getpid() != self._pid:
            raise error("a connection inherited from the parent process is never used")

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        errors = self._errors
        self._usable(errors.ReadError)
        data: bytes = self._stream.read(max_bytes, _left(timeout, errors.ReadTimeout))
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        errors = self._errors
        self._usable(errors.WriteError)
        self._stream.write(buffer, _left(timeout, errors.WriteTimeout))

    def close(self) -> None:
        # A blocking socket closes without I/O (no TLS goodbye): safe in a forked child too.
        self._stream.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> DeadlineStream:
        errors = self._errors
        self._usable(errors.ConnectError)
        left = _left(timeout, errors.ConnectTimeout)
        return DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, left), errors)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable" and os.getpid() != self._pid:
            return True  # so that the pool retires it
        return self._stream.get_extra_info(info)


class DeadlineBackend:
    """Wraps a blocking httpcore (or httpcore2) network backend; see the module docstring."""

    def __init__(self, backend: Any = None, errors: ModuleType = httpcore) -> None:
        self._backend = httpcore.SyncBackend() if backend is None else backend
        self._errors = errors

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> DeadlineStream:
        left = _left(timeout, self._errors.ConnectTimeout)
        stream = self._backend.connect_tcp(host, port, left, local_address, socket_options)
        return DeadlineStream(stream, self._errors)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> DeadlineStream:
        left = _left(timeout, self._errors.ConnectTimeout)
        stream = self._backend.connect_unix_socket(path, left, socket_options)
        return DeadlineStream(stream, self._errors)

    def sleep(self, seconds: float) -> None:  # pragma: no cover - httpcore retries are off
        self._backend.sleep(seconds)


class AsyncDeadlineStream:
    """An async network stream whose every operation ends by the attempt's deadline.

    It belongs to the process and event loop that opened it; see the module docstring.
    """

    def __init__(self, stream: Any, errors: ModuleType) -> None:
        self._stream = stream
        self._errors = errors
        self._pid = os.getpid()
        self._loop = current_loop()

    def _foreign(self) -> bool:
        if os.getpid() != self._pid:
            return True
        try:
            return current_loop() is not self._loop
        except RuntimeError:  # no loop running at all
            return True

    def _usable(self, error: type[Exception]) -> None:
        if self._foreign():
            raise error("a connection of another process or event loop is never used")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        errors = self._errors
        self._usable(errors.ReadError)
        data: bytes = await self._stream.read(max_bytes, _left(timeout, errors.ReadTimeout))
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        errors = self._errors
        self._usable(errors.WriteError)
        await self._stream.write(buffer, _left(timeout, errors.WriteTimeout))

    async def aclose(self) -> None:
        if self._foreign():
            # Closing it would need the loop it is bound to, which is gone (or is
            # another process's): it is dropped, and its socket is closed when collected.
            return
        await self._stream.aclose()

    async def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> AsyncDeadlineStream:
        errors = self._errors
        self._usable(errors.ConnectError)
        left = _left(timeout, errors.ConnectTimeout)
        stream = await self._stream.start_tls(ssl_context, server_hostname, left)
        return AsyncDeadlineStream(stream, errors)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable" and self._foreign():
            return True  # so that the pool retires it
        return self._stream.get_extra_info(info)


class AsyncDeadlineBackend:
    """Wraps an async httpcore (or httpcore2) network backend; see the module docstring."""

    def __init__(self, backend: Any, errors: ModuleType) -> None:
        self._backend = backend
        self._errors = errors

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> AsyncDeadlineStream:
        left = _left(timeout, self._errors.ConnectTimeout)
        stream = await self._backend.connect_tcp(host, port, left, local_address, socket_options)
        return AsyncDeadlineStream(stream, self._errors)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> AsyncDeadlineStream:
        left = _left(timeout, self._errors.ConnectTimeout)
        stream = await self._backend.connect_unix_socket(path, left, socket_options)
        return AsyncDeadlineStream(stream, self._errors)

    async def sleep(self, seconds: float) -> None:  # pragma: no cover - httpcore retries are off
        await self._backend.sleep(seconds)

"""httpcore's async network layer on plain sockets, for asyncio and trio alike.

httpcore's own async backends wrap each socket in objects bound to the event
loop that made it (an asyncio transport, a trio stream). Once that loop has
ended (a second ``asyncio.run()``, a switch to trio) such a connection can be
neither used nor closed, and a forked child cannot close its inherited copy
either. Here a connection is a plain non-blocking socket, and TLS runs over
it through :class:`ssl.MemoryBIO`: a loop is needed only while waiting for
the socket, so :meth:`SocketBackend.close_all` closes every connection of a
pool synchronously, from any loop, or in a forked child, without I/O.

Every operation ends by the attempt's deadline (``_deadline.deadline``) as
well as by httpcore's own per-operation timeout, whichever comes first, and
checks it before touching the socket: a server that keeps sending cannot
stretch an attempt either.
"""

from __future__ import annotations

import errno
import os
import socket
import ssl
import time
import weakref
from collections.abc import Iterable
from types import ModuleType
from typing import Any

import httpcore

from ._runtime import (
    IdleCheck,
    current_loop,
    deadline,
    getaddrinfo,
    wait_readable,
    wait_writable,
)

__all__ = ["SocketBackend"]

_TLS_READ = 65536


def _end(timeout: float | None) -> float:
    """When this operation must be over: the attempt's deadline or httpcore's timeout."""
    end = deadline.get()
    if timeout is not None:
        end = min(end, time.monotonic() + timeout)
    return end


class SocketBackend(httpcore.AsyncNetworkBackend):
    """Opens connections as plain sockets and remembers them, to close them without a loop.

    ``errors`` is the httpcore (or httpcore2) module whose exceptions the
    pool expects. Each socket is remembered with the event loop that opened
    it (see ``_runtime.current_loop``).
    """

    def __init__(self, errors: ModuleType = httpcore) -> None:
        self._errors = errors
        self._sockets: weakref.WeakKeyDictionary[socket.socket, object] = (
            weakref.WeakKeyDictionary()
        )

    def close_all(self) -> None:
        """Close every socket this backend opened. Synchronous, and no byte is sent."""
        for sock in list(self._sockets):
            sock.close()

    def close_foreign(self, loop: object) -> None:
        """Close the sockets opened under any event loop but ``loop``.

        Their pool finds them closed (readable, in httpcore's terms) and drops
        them the next time it looks, opening new connections instead.
        """
        for sock, owner in list(self._sockets.items()):
            if owner is not loop:
                sock.close()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        errors = self._errors
        end = _end(timeout)
        try:
            addresses = await getaddrinfo(host, port, end)
        except TimeoutError as exc:
            raise errors.ConnectTimeout(f"looking up {host} timed out") from exc
        except OSError as exc:
            raise errors.ConnectError(str(exc) or type(exc).__name__) from exc
        failure: OSError | None = None
        for family, kind, proto, _, address in addresses:
            sock = socket.socket(family, kind, proto)
            try:
                sock.setblocking(False)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                for option in socket_options or ():
                    sock.setsockopt(*option)
                if local_address is not None:
                    sock.bind((local_address, 0))
                await self._connected(sock, address, end)
            except TimeoutError as exc:
                sock.close()
                raise errors.ConnectTimeout(f"connecting to {host}:{port} timed out") from exc
            except OSError as exc:
                sock.close()
                failure = exc
                continue
            except BaseException:
                sock.close()
                raise
            return _Plain(sock, errors)
        assert failure is not None  # getaddrinfo never returns an empty list
        raise errors.ConnectError(str(failure) or type(failure).__name__) from failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        errors = self._errors
        end = _end(timeout)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            for option in socket_options or ():
                sock.setsockopt(*option)
            await self._connected(sock, path, end)
        except TimeoutError as exc:
            sock.close()
            raise errors.ConnectTimeout(f"connecting to {path} timed out") from exc
        except OSError as exc:
            sock.close()
            raise errors.ConnectError(str(exc) or type(exc).__name__) from exc
        except BaseException:
            sock.close()
            raise
        return _Plain(sock, errors)

    async def _connected(self, sock: socket.socket, address: Any, end: float) -> None:
        # Remembered before the first wait: a pool closed meanwhile closes this one too.
        self._sockets[sock] = current_loop()
        code = sock.connect_ex(address)
        if code in (errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EAGAIN):
            await wait_writable(sock, end)
            code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if code:
            raise OSError(code, os.strerror(code))

    async def sleep(self, seconds: float) -> None:  # pragma: no cover - httpcore retries are off
        from ._runtime import sleep

        await sleep(seconds)


class _Stream(httpcore.AsyncNetworkStream):
    """What both kinds of stream share: httpcore's read/write in terms of a deadline."""

    errors: ModuleType

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self.read_by(max_bytes, _end(timeout))

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self.write_by(buffer, _end(timeout))

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            return await _TLS.handshake(
                self, ssl_context, server_hostname, _end(timeout), self.errors
            )
        except BaseException:
            # As httpcore's own backends do: a failed handshake closes the connection.
            await self.aclose()
            raise

    async def read_by(self, max_bytes: int, end: float) -> bytes:
        raise NotImplementedError

    async def write_by(self, data: bytes, end: float) -> None:
        raise NotImplementedError


class _Plain(_Stream):
    """A connected non-blocking TCP (or unix) socket."""

    def __init__(self, sock: socket.socket, errors: ModuleType) -> None:
        self.sock = sock
        self.errors = errors
        self.idle = IdleCheck(sock)

    async def read_by(self, max_bytes: int, end: float) -> bytes:
        errors = self.errors
        sock = self.sock
        while True:
            if time.monotonic() >= end:
                raise errors.ReadTimeout("the attempt's deadline has passed")
            try:
                return sock.recv(max_bytes)
            except BlockingIOError:
                pass
            except OSError as exc:
                raise errors.ReadError(str(exc) or type(exc).__name__) from exc
            try:
                await wait_readable(sock, end)
            except TimeoutError as exc:
                raise errors.ReadTimeout("the attempt's deadline has passed") from exc

    async def write_by(self, data: bytes, end: float) -> None:
        errors = self.errors
        sock = self.sock
        with memoryview(data) as view:
            while view:
                if time.monotonic() >= end:
                    raise errors.WriteTimeout("the attempt's deadline has passed")
                try:
                    view = view[sock.send(view) :]
                    continue
                except BlockingIOError:
                    pass
                except OSError as exc:
                    raise errors.WriteError(str(exc) or type(exc).__name__) from exc
                try:
                    await wait_writable(sock, end)
                except TimeoutError as exc:
                    raise errors.WriteTimeout("the attempt's deadline has passed") from exc

    async def aclose(self) -> None:
        # No TLS goodbye and no shutdown(): closing is the same from any loop, or none.
        self.sock.close()

    def get_extra_info(self, info: str) -> Any:
        sock = self.sock
        if info == "socket":
            return sock
        if info == "is_readable":
            return self.idle.stale()
        try:
            if info == "client_addr":
                return sock.getsockname()
            if info == "server_addr":
                return sock.getpeername()
        except OSError:
            return None
        return None


class _TLS(_Stream):
    """TLS over another stream (a socket, or a TLS tunnel through an https:// proxy)."""

    def __init__(
        self, inner: _Stream, tls: ssl.SSLObject, incoming: ssl.MemoryBIO, outgoing: ssl.MemoryBIO
    ) -> None:
        self.errors = inner.errors
        self.inner = inner
        self.tls = tls
        self.incoming = incoming
        self.outgoing = outgoing

    @classmethod
    async def handshake(
        cls,
        inner: _Stream,
        context: ssl.SSLContext,
        server_hostname: str | None,
        end: float,
        errors: ModuleType,
    ) -> _TLS:
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = context.wrap_bio(incoming, outgoing, server_hostname=server_hostname)
        stream = cls(inner, tls, incoming, outgoing)
        try:
            await stream._complete(tls.do_handshake, end)
        except ssl.SSLError as exc:
            raise errors.ConnectError(str(exc) or type(exc).__name__) from exc
        except (errors.ReadTimeout, errors.WriteTimeout) as exc:
            raise errors.ConnectTimeout(str(exc)) from exc
        except (errors.ReadError, errors.WriteError) as exc:
            raise errors.ConnectError(str(exc)) from exc
        return stream

    async def _complete(self, operation: Any, end: float) -> Any:
        """Run one SSLObject operation to the end, moving its bytes to and from the stream."""
        while True:
            try:
                result = operation()
            except ssl.SSLWantReadError:
                await self._flush(end)
                data = await self.inner.read_by(_TLS_READ, end)
                if data:
                    self.incoming.write(data)
                else:
                    self.incoming.write_eof()
                continue
            await self._flush(end)
            return result

    async def _flush(self, end: float) -> None:
        data = self.outgoing.read()
        if data:
            await self.inner.write_by(data, end)

    async def read_by(self, max_bytes: int, end: float) -> bytes:
        try:
            data: bytes = await self._complete(lambda: self.tls.read(max_bytes), end)
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            # A close_notify, or a TCP close without one (a "ragged" EOF, which
            # HTTP/1.1 framing tells apart from a complete body anyway).
            return b""
        except ssl.SSLError as exc:
            raise self.errors.ReadError(str(exc) or type(exc).__name__) from exc
        return data

    async def write_by(self, data: bytes, end: float) -> None:
        try:
            await self._complete(lambda: self.tls.write(data), end)
        except ssl.SSLError as exc:
            raise self.errors.WriteError(str(exc) or type(exc).__name__) from exc

    async def aclose(self) -> None:
        await self.inner.aclose()

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object":
            return self.tls
        if info == "is_readable":
            return self.tls.pending() > 0 or self.inner.get_extra_info("is_readable")
        return self.inner.get_extra_info(info)

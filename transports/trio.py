"""An async transport for trio: HTTP/1.1 with h11 over trio streams (``poststack[trio]``).

>>> import trio
>>> from poststack import AsyncPostStack
>>> from poststack.transports.trio import TrioTransport
>>> async def main() -> None:
...     async with AsyncPostStack(transport=TrioTransport()) as ps:
...         await ps.emails.send({...})
>>> trio.run(main)

Theory of operation
-------------------
One attempt is one trip through :meth:`TrioTransport.send`, all of it bound
by one deadline ``timeout`` seconds away: waiting for a free connection,
connecting, the TLS handshake, writing the request and reading the whole
response. The deadline is enforced where the attempt can wait, as the httpx
transports do (``_deadline.py``): a cancel scope with that deadline around
the wait for a free connection and around connecting, and the connection's
stream checks it before each socket operation and each wait (a server that
keeps sending never makes it wait). A wait for the socket enters no cancel
scope: one task per ``trio.run`` sleeps until the earliest deadline of the
exchanges in flight and wakes the waits past theirs (``TrioTransport._alarm``).
When the deadline passes, the attempt ends with :class:`AttemptTimedOut`. The
body is collected under the request's ``max_response_bytes`` (see
``_body.py``): a longer one ends the attempt with ``ResponseTooLarge``.

A connection is *checked out* by one task for one exchange and either goes
back to the idle pool, when h11 says both sides finished the exchange cleanly
and may start another and nothing was read past the response's end, or is
closed at once. Every other ending (the attempt timed out, the caller
cancelled it, the server broke the connection or sent something that is not
HTTP) closes it: a connection is never reused in an unknown state. Closing
is a synchronous close of the socket, so it also works inside a cancelled
scope.

Bytes move through :class:`_SocketStream`, a ``trio.abc.Stream`` over the
plain non-blocking socket that ``trio.open_tcp_stream`` connected (TLS is
``trio.SSLStream`` on top of it). trio's own ``SocketStream`` passes through
the scheduler after every send and receive that did not have to wait; this
one yields only to wait for the socket (or once in a receive that did not
wait), so a request and its response cost one trip through the scheduler
instead of two or three. Cancellation, and with it the deadline, works as in trio's
stream: every wait is a checkpoint.

``max_connections`` bounds the open connections (idle and busy): a semaphore
admits at most that many exchanges at a time and a new connection is opened
only when no idle one is left (or an idle one to another origin is closed to
make room). An idle connection is not reused after ``keepalive_expiry``
seconds, nor when its socket became readable while idle (the server closed
it, reset it or sent something unasked; see ``_runtime.IdleCheck``): a new
connection is opened instead, which is not a retry, since the request never
left. A connection that the server closes
just as a request goes out is a :class:`ConnectionBroken` the core retries.

A request goes through the proxy the environment names for its URL (see
``_environment.py``): a plain ``http://`` one is sent to the proxy with its
whole URL as the target, an ``https://`` one through an HTTP ``CONNECT``
tunnel, with TLS to the server inside it. Each (origin, proxy) pair has its
own idle connections.

A transport belongs to one ``trio.run`` at a time; connections of an earlier
``trio.run`` are closed when a new one starts using it, and a forked child
closes its copies of the parent's (see ``_fork.py``).
"""

from __future__ import annotations

import collections
import math
import socket as _socket
import ssl
from collections.abc import Awaitable, Callable
from typing import Any, cast

import h11
import trio

from poststack_core import (
    AttemptTimedOut,
    ConnectFailed,
    ConnectionBroken,
    Request,
    Response,
)

from ._body import Body
from ._environment import Environment, Proxy
from ._fork import drop_in_forked_children
from ._runtime import IdleCheck

__all__ = ["TrioTransport"]

_READ_SIZE = 65536
# Request bodies up to this size go out in the same write as the head.
_COALESCE = 65536
# A response head (status line and headers) may be this large, as httpcore allows.
_MAX_HEAD = 100 * 1024
# (scheme, host, port, the proxy on the way or None)
_Origin = tuple[str, str, int, Proxy | None]
_BROKEN = (trio.BrokenResourceError, trio.ClosedResourceError, OSError, h11.RemoteProtocolError)


def _default_ssl_context(environment: Environment) -> ssl.SSLContext:
    # Verification on, against the environment's CAs or certifi's, as the other transports.
    context = environment.ssl_context()
    context.set_alpn_protocols(["http/1.1"])
    return context


class _SocketStream(trio.abc.Stream):
    """A connected TCP socket as a trio stream, with trio's low-level waits.

    ``send_all`` checks for cancellation, then yields only if the kernel's
    buffer is full: the receive that follows in every exchange is the
    schedule point. ``receive_some`` is a full checkpoint, as trio's is.
    Socket errors become ``trio.BrokenResourceError``, as in trio's stream.
    No operation starts, and no wait for the socket begins, after
    ``deadline`` (trio's clock): ``trio.TooSlowError`` is raised instead. A
    wait that the transport's alarm wakes at the deadline raises it too.
    """

    def __init__(self, sock: _socket.socket) -> None:
        sock.setblocking(False)
        self.socket = sock
        self.deadline = math.inf
        # Set by a send, cleared by the receive after it: the server cannot have answered
        # a request that has only just gone out, so that receive need not look at once.
        self._just_sent = False

    async def _wait(self, wait: Callable[[_socket.socket], Awaitable[None]]) -> None:
        # No cancel scope per wait (one costs about a twentieth of a send): the
        # transport's alarm wakes a wait whose deadline passed, as if the socket
        # were closed (see TrioTransport._alarm). Checked first, since the alarm
        # wakes only the waits it finds.
        self._in_time()
        try:
            await wait(self.socket)
        except trio.ClosedResourceError:
            self._in_time()
            raise

    def _in_time(self) -> None:
        # A server that keeps sending never makes us wait: the deadline is checked here too.
        if trio.current_time() >= self.deadline:
            raise trio.TooSlowError

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        await trio.lowlevel.checkpoint_if_cancelled()
        self._in_time()
        sock = self.socket
        try:
            with memoryview(data) as view:
                while view:
                    try:
                        sent = sock.send(view)
                    except BlockingIOError:
                        await self._wait(trio.lowlevel.wait_writable)
                    else:
                        view = view[sent:]
        except OSError as exc:
            raise trio.BrokenResourceError(f"socket connection broken: {exc}") from exc
        self._just_sent = True

    async def wait_send_all_might_not_block(self) -> None:
        await self._wait(trio.lowlevel.wait_writable)

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        await trio.lowlevel.checkpoint_if_cancelled()
        self._in_time()
        sock = self.socket
        size = _READ_SIZE if max_bytes is None else max_bytes
        try:
            if self._just_sent:
                self._just_sent = False
            else:
                try:
                    data = sock.recv(size)
                except BlockingIOError:
                    pass
                else:
                    await trio.lowlevel.cancel_shielded_checkpoint()
                    return data
            # Nothing yet (or a request just went out). One pass through the scheduler
            # first: a nearby server has usually answered by then, and registering the
            # socket for a wait costs more.
            await trio.lowlevel.checkpoint()
            while True:
                try:
                    return sock.recv(size)
                except BlockingIOError:
                    await self._wait(trio.lowlevel.wait_readable)
        except OSError as exc:
            raise trio.BrokenResourceError(f"socket connection broken: {exc}") from exc

    async def aclose(self) -> None:
        self.socket.close()
        await trio.lowlevel.checkpoint()


class _Connection:
    """One HTTP/1.1 connection: its stream, its raw socket and its h11 state.

    ``forward`` marks a connection to an HTTP proxy that forwards plain
    ``http://`` requests: those name their whole URL as the target and carry
    the proxy's credentials.
    """

    __slots__ = (
        "_idle",
        "forward",
        "h11",
        "idle_since",
        "origin",
        "proxy_headers",
        "socket",
        "stream",
        "tcp",
    )

    def __init__(
        self, origin: _Origin, stream: trio.abc.Stream, tcp: _SocketStream, *, forward: bool
    ) -> None:
        self.origin = origin
        self.stream = stream  # tcp itself, or TLS over it (or over a tunnel)
        self.tcp = tcp
        self.socket = tcp.socket
        self.forward = forward
        proxy = origin[3]
        self.proxy_headers = _encoded(proxy.headers) if forward and proxy is not None else []
        self.h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=_MAX_HEAD)
        self.idle_since = 0.0
        self._idle = IdleCheck(self.socket)

    def close(self) -> None:
        """Close at once, without a TLS goodbye: safe in a cancelled scope, or a forked child."""
        self.socket.close()

    def went_stale(self) -> bool:
        """Whether the idle connection must not carry another request.

        True when its socket became readable while idle (the server closed it,
        reset it or sent something unasked), or is closed (see ``IdleCheck``).
        """
        return self._idle.stale()

    async def exchange(self, request: Request) -> Response:
        """Write ``request`` and read the whole response; map failures to ConnectionBroken."""
        conn = self.h11
        stream = self.stream
        # The core's headers, framing included, exactly as they are.
        headers = _encoded(request.headers) + self.proxy_headers
        target = request.url if self.forward else request.target
        body = request.body
        try:
            head = conn.send(h11.Request(method=request.method, target=target, headers=headers))
            assert head is not None
            if body:
                conn.send(h11.Data(data=body))
                conn.send(h11.EndOfMessage())
                if len(body) <= _COALESCE:
                    await stream.send_all(head + body)
                else:
                    await stream.send_all(head)
                    await stream.send_all(body)
            else:
                conn.send(h11.EndOfMessage())
                await stream.send_all(head)

            status = 0
            response_headers: tuple[tuple[str, str], ...] = ()
            content: Body | None = None
            while True:
                event = conn.next_event()
                # h11's event classes are ABCs, so isinstance() of one that does not match
                # runs Python code; each is final, so its type says which it is.
                kind = type(event)
                if event is h11.NEED_DATA:
                    # bytes from a socket, bytearray from TLS: h11 takes either.
                    conn.receive_data(cast(bytes, await stream.receive_some(_READ_SIZE)))
                elif kind is h11.Response:
                    assert isinstance(event, h11.Response)
                    status = event.status_code
                    response_headers = _decoded(event)
                    content = Body(request, status, response_headers)
                elif kind is h11.Data:
                    assert isinstance(event, h11.Data)
                    assert content is not None
                    content.add(event.data)
                elif kind is h11.EndOfMessage:
                    assert content is not None
                    return Response(status, response_headers, content.value())
                elif kind is h11.ConnectionClosed:
                    raise ConnectionBroken("the server closed the connection without a response")
                elif isinstance(event, h11.InformationalResponse) and event.status_code == 101:
                    Body(request, 101, ())  # refused: what follows is not HTTP
                # Other interim answers (100 Continue, 103 Early Hints): keep reading.
        except _BROKEN as exc:
            raise ConnectionBroken(str(exc) or type(exc).__name__) from exc

    def ready_for_next(self) -> bool:
        """After a whole exchange: reset h11 for the next one, or say it must close."""
        conn = self.h11
        if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
            # Bytes read past the end of the response were sent unasked (a 408 before
            # an idle timeout, say), in the same read as the response, so the socket
            # will not show them: h11 would take them for the next request's answer.
            unasked, closed = conn.trailing_data
            if unasked or closed:
                return False
            conn.start_next_cycle()
            return True
        return False


def _encoded(headers: tuple[tuple[str, str], ...]) -> list[tuple[bytes, bytes]]:
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]


def _decoded(event: h11.Response) -> tuple[tuple[str, str], ...]:
    return tuple([(k.decode("latin-1"), v.decode("latin-1")) for k, v in event.headers.raw_items()])


async def _tunnel(stream: trio.abc.Stream, host: str, port: int, proxy: Proxy) -> None:
    """Ask the proxy on ``stream`` for a tunnel to ``host:port`` (HTTP CONNECT)."""
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=_MAX_HEAD)
    headers = [(b"Host", authority.encode("idna")), (b"Accept", b"*/*"), *_encoded(proxy.headers)]
    try:
        head = conn.send(h11.Request(method="CONNECT", target=authority, headers=headers))
        await stream.send_all((head or b"") + (conn.send(h11.EndOfMessage()) or b""))
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(cast(bytes, await stream.receive_some(_READ_SIZE)))
            elif isinstance(event, h11.Response):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise ConnectFailed(f"the proxy {proxy.url} closed the connection")
    except _BROKEN as exc:
        raise ConnectFailed(f"the proxy {proxy.url} failed: {exc}") from exc
    if not 200 <= event.status_code < 300:
        raise ConnectFailed(
            f"the proxy {proxy.url} refused a tunnel to {authority}: {event.status_code}"
        )
    if conn.trailing_data[0]:
        # The client speaks first in TLS: bytes before our hello are not the server's.
        raise ConnectFailed(f"the proxy {proxy.url} sent data ahead of the tunnel")


class TrioTransport:
    """Async transport for ``trio.run``: HTTP/1.1 with h11 and a keep-alive pool.

    ``ssl_context`` replaces the default one (certificate verification on,
    against ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` when set, else certifi's CA
    bundle); pass your own for a private CA or a client certificate.
    ``trust_env=False`` ignores the proxy and CA variables of the environment.
    ``max_connections`` bounds the open connections shared by every task of
    the client, ``keepalive_expiry`` is how long (seconds) an idle connection
    may be reused. Safe to share between tasks of one ``trio.run``.
    """

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext | None = None,
        max_connections: int = 100,
        keepalive_expiry: float = 5.0,
        trust_env: bool = True,
    ) -> None:
        if ssl_context is not None and not isinstance(ssl_context, ssl.SSLContext):
            raise TypeError(f"ssl_context must be an ssl.SSLContext, got {ssl_context!r}")
        if (
            isinstance(max_connections, bool)
            or not isinstance(max_connections, int)
            or max_connections < 1
        ):
            raise ValueError(f"max_connections must be an int >= 1, got {max_connections!r}")
        if (
            isinstance(keepalive_expiry, bool)
            or not isinstance(keepalive_expiry, int | float)
            or not keepalive_expiry >= 0
            or math.isnan(keepalive_expiry)
        ):
            raise ValueError(
                f"keepalive_expiry must be a number of seconds >= 0, got {keepalive_expiry!r}"
            )
        self._environment = Environment.from_environ() if trust_env else Environment()
        # Made now, not in an attempt (see httpx._Routes).
        self._ssl_context = ssl_context or _default_ssl_context(self._environment)
        self._max_connections = max_connections
        self._keepalive_expiry = float(keepalive_expiry)
        self._idle: dict[_Origin, collections.deque[_Connection]] = {}
        self._busy: set[_Connection] = set()
        self._open = 0
        self._slots: trio.Semaphore | None = None
        self._run: trio.lowlevel.TrioToken | None = None
        # What the alarm task sleeps in: its deadline is when the alarm is due.
        self._alarm_scope = trio.CancelScope()
        self._closed = False
        drop_in_forked_children(self)

    def __repr__(self) -> str:
        return f"<TrioTransport open={self._open} max_connections={self._max_connections}>"

    # The AsyncTransport protocol passes the attempt's timeout; it becomes the deadline below.
    async def send(self, request: Request, timeout: float) -> Response:  # noqa: ASYNC109
        try:
            run = trio.lowlevel.current_trio_token()
        except RuntimeError:
            raise RuntimeError(
                "TrioTransport works only inside trio.run(); under asyncio use "
                "poststack.transports.httpx.AsyncHttpxTransport (the default)"
            ) from None
        if self._closed:
            raise RuntimeError("this TrioTransport is closed")
        if run is not self._run:
            self._start_run(run)
        try:
            now = trio.current_time()
            return await self._send(request, now, now + timeout)
        except trio.TooSlowError as exc:
            exc.args = (f"no whole response within {timeout:g} s",)
            raise AttemptTimedOut(exc.args[0]) from exc

    async def _send(self, request: Request, now: float, deadline: float) -> Response:
        slots = self._slots
        assert slots is not None
        try:
            # No extra trip through the scheduler when a slot is free: the I/O below
            # checkpoints anyway.
            slots.acquire_nowait()
        except trio.WouldBlock:
            with trio.fail_at(deadline):
                await slots.acquire()
            now = trio.current_time()  # for the idle connections' expiry, after the wait
        try:
            proxy = self._environment.proxy_for(request.scheme, request.host, request.port)
            origin = (request.scheme, request.host, request.port, proxy)
            connection = self._checkout(origin, now)
            if connection is None:
                with trio.fail_at(deadline):
                    connection = await self._connect(origin)
        except BaseException:
            slots.release()
            raise
        self._busy.add(connection)
        connection.tcp.deadline = deadline
        # Only an earlier deadline moves the alarm: setting it re-registers the sleeping scope.
        if deadline < self._alarm_scope.deadline:  # noqa: PLR1730
            self._alarm_scope.deadline = deadline
        try:
            response = await connection.exchange(request)
        except BaseException:
            # Timed out, cancelled, broken, too large: whatever its state, nobody reuses it.
            self._busy.discard(connection)
            self._discard(connection)
            slots.release()
            raise
        self._busy.discard(connection)
        slots.release()
        if connection.ready_for_next() and not self._closed:
            connection.idle_since = trio.current_time()
            self._idle.setdefault(origin, collections.deque()).append(connection)
        else:
            self._discard(connection)
        return response

    def _start_run(self, run: trio.lowlevel.TrioToken) -> None:
        # Sockets of an earlier trio.run cannot be used in this one.
        self._close_all()
        self._alarm_scope = trio.CancelScope()
        # First: a run closing down refuses new tasks, and then this run is not taken on
        # (every send fails with that error) rather than used without its alarm.
        trio.lowlevel.spawn_system_task(self._alarm, name=f"{self!r} deadlines")
        self._slots = trio.Semaphore(self._max_connections)
        self._run = run

    async def _alarm(self) -> None:
        """Wake the socket waits of exchanges whose deadline has passed, for this trio.run.

        One task sleeps until the earliest deadline of the busy connections (a
        send with an earlier one than it sleeps until moves its alarm). When it
        is due, each busy connection past its deadline gets
        ``notify_closing``: a wait on its socket ends with
        ``ClosedResourceError``, which the stream turns into ``TooSlowError``
        (and the exchange closes the connection). A connection not waiting
        then checks its deadline before its next wait, so none is missed.
        """
        while True:
            with self._alarm_scope:
                await trio.sleep_forever()
            now = trio.current_time()
            due = math.inf
            for connection in self._busy:
                deadline = connection.tcp.deadline
                if deadline > now:
                    due = min(due, deadline)
                elif connection.socket.fileno() >= 0:
                    trio.lowlevel.notify_closing(connection.socket)
            self._alarm_scope = trio.CancelScope(deadline=due)

    def _checkout(self, origin: _Origin, now: float) -> _Connection | None:
        idle = self._idle.get(origin)
        if not idle:
            return None
        oldest_usable = now - self._keepalive_expiry
        # Expired connections sit at the left end: drop them first.
        while idle and idle[0].idle_since <= oldest_usable:
            self._discard(idle.popleft())
        while idle:
            connection = idle.pop()  # the most recently used one is the likeliest alive
            if connection.went_stale():
                # The server closed it (or sent data unasked) while it was idle.
                self._discard(connection)
                continue
            return connection
        return None

    async def _connect(self, origin: _Origin) -> _Connection:
        if self._open >= self._max_connections:
            self._evict_one()
        self._open += 1
        scheme, host, port, proxy = origin
        dial = (proxy.host, proxy.port) if proxy is not None else (host, port)
        try:
            try:
                opened = await trio.open_tcp_stream(*dial)  # sets TCP_NODELAY
            except OSError as exc:
                raise ConnectFailed(str(exc) or type(exc).__name__) from exc
            # The same connected socket, out of trio's wrapper (see _SocketStream).
            sock = _socket.socket(fileno=opened.socket.detach())
            tcp = _SocketStream(sock)
            try:
                stream: trio.abc.Stream = tcp
                if proxy is not None and proxy.scheme == "https":
                    stream = await self._tls(stream, proxy.host, proxy.port)
                if proxy is not None and scheme == "https":
                    await _tunnel(stream, host, port, proxy)
                if scheme == "https":
                    stream = await self._tls(stream, host, port)
            except BaseException:
                sock.close()
                raise
            forward = proxy is not None and scheme == "http"
            return _Connection(origin, stream, tcp, forward=forward)
        except BaseException:
            self._open -= 1
            raise

    async def _tls(self, stream: trio.abc.Stream, host: str, port: int) -> trio.SSLStream[Any]:
        tls = trio.SSLStream(stream, self._ssl_context, server_hostname=host, https_compatible=True)
        try:
            await tls.do_handshake()
        except trio.BrokenResourceError as exc:
            cause = exc.__cause__ or exc
            raise ConnectFailed(f"TLS handshake with {host}:{port} failed: {cause}") from cause
        return tls

    def _evict_one(self) -> None:
        """Close the longest-idle connection to make room for one to another origin."""
        oldest: collections.deque[_Connection] | None = None
        for idle in self._idle.values():
            if idle and (oldest is None or idle[0].idle_since < oldest[0].idle_since):
                oldest = idle
        if oldest is not None:
            self._discard(oldest.popleft())

    def _discard(self, connection: _Connection) -> None:
        connection.close()
        self._open -= 1

    def _close_all(self) -> None:
        """Close every connection, idle or busy, without I/O: their run or process is gone."""
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
        for connection in self._busy:
            connection.close()
        self._idle = {}
        self._busy = set()
        self._open = 0

    async def aclose(self) -> None:
        """Close every idle connection; busy ones close when their exchange ends."""
        self._closed = True
        if self._run is not None:
            for idle in self._idle.values():
                while idle:
                    self._discard(idle.pop())
            self._idle = {}

    def _forget_inherited(self) -> None:
        # In a forked child (see _fork): our copies of the sockets are closed, and the
        # next trio.run starts over (a new semaphore; the parent's tasks are not ours).
        self._close_all()
        self._run = None

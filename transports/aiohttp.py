"""An async transport on aiohttp, for asyncio at volume (``poststack[aiohttp]``).

>>> from poststack import AsyncPostStack
>>> from poststack.transports.aiohttp import AiohttpTransport
>>> async def main() -> None:
...     transport = AiohttpTransport()
...     async with AsyncPostStack(transport=transport) as ps:
...         await ps.emails.send({...})
...     await transport.aclose()

aiohttp is asyncio's own HTTP client, with a C parser and a production
connection pool; with many requests in flight it costs under a third of the
CPU per request of httpx's asyncio path (benchmarks/RESULTS.md). It runs
under asyncio only (uvloop included): under trio every call fails with an
error that says so (use ``TrioTransport`` or the default
``AsyncHttpxTransport`` there).

Theory of operation
-------------------
One attempt is one ``session.request()`` and the read of its body, all
bounded by aiohttp's ``total`` timeout of the attempt's ``timeout``:
waiting for a free connection, connecting, the proxy's tunnel, the TLS
handshake, sending, the response head and every wait for the body. aiohttp
rounds long timeouts up to a whole second; the SDK's are exact
(``ceil_threshold`` off). A server that keeps sending never makes the read
wait, so the deadline is also checked after every chunk. The body is
collected under ``request.max_response_bytes`` (see ``_body.py``) and never
decoded (``auto_decompress=False``: the core undoes ``Content-Encoding``).
A response that failed in any way, or was too large, is closed, so its
connection is never reused; a whole one is released to the pool.

The request goes out as the core framed it: the core's headers in its order,
and nothing of aiohttp's own (``Accept``, ``User-Agent``, a
``Content-Type: application/octet-stream`` on a bodyless POST, a
``Content-Length: 0`` on a bodyless DELETE: see :class:`_FramedRequest`).
Redirects are not followed, ``raise_for_status`` is off, and a stale
kept-alive connection is not retried behind the core's back.

The transport's own session exists once per event loop, created in it on
first use, and goes when that loop ends: ``asyncio.run()`` (and every
runner that finishes a loop properly: ``asyncio.Runner``, uvloop, anyio,
pytest-asyncio) closes a loop's async generators before closing the loop,
and an async generator parked in each loop closes its session then, while
the loop can still run the closing. So a transport used in one
``asyncio.run()`` after another opens new connections in each and leaves
none behind. A loop closed without that step leaves its session behind:
the next loop to use the transport closes its sockets (no I/O) and marks it
closed. Sessions of loops that are still open (another thread's) are left
alone. In a forked child, the sockets the parent's session opened (every
one comes from :meth:`_LoopSession._open_socket`) are closed without I/O,
and the parent's aiohttp objects are kept, untouched, never collected:
collecting them would make asyncio unregister their sockets from the event
loop's epoll instance, which a fork shares with the parent.

A session you pass in is used as it is (its connector, proxies,
``trust_env``, TLS settings, headers, cookies, middlewares, tracing) and
never closed by the SDK. It belongs to the event loop and the process it
was made in: sending through it from another loop, or from a forked child,
fails before anything is sent. Two of aiohttp's habits stay on in it: a
bodyless DELETE carries ``Content-Length: 0``, and a GET, PUT or DELETE that
met a connection the server had just closed is sent once more on a new one.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import io
import math
import socket
import ssl
import time
import weakref
from collections.abc import AsyncGenerator, Callable
from typing import Any, Final

import aiohttp
from aiohttp.payload import TOO_LARGE_BYTES_BODY

from poststack_core import (
    AttemptTimedOut,
    ConnectFailed,
    ConnectionBroken,
    Request,
    Response,
    TransportFailure,
)

from ._body import Body
from ._environment import Environment, Proxy
from ._fork import drop_in_forked_children
from ._runtime import running_under_trio

__all__ = ["AiohttpTransport"]

_MAX_CONNECTIONS = 100
_KEEPALIVE_EXPIRY = 5.0
# A response head's lines may be this long, as the other transports allow for a whole head.
_MAX_HEAD_LINE = 100 * 1024
# aiohttp gives a POST, PUT or PATCH without Content-Type an "application/octet-stream" one.
_NO_CONTENT_TYPE: Final = ("Content-Type",)
_BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH"})

# Objects of a parent's sessions in a forked child: kept so that they are never collected.
_INHERITED: list[object] = []


class _FramedRequest(aiohttp.ClientRequest):
    """aiohttp's request, framed as the core framed it.

    aiohttp adds ``Content-Length: 0`` to a bodyless request of any method
    outside ``GET_METHODS``; the core frames a bodyless DELETE as RFC 9110
    8.6 asks, with no Content-Length, and every other runtime sends it so.
    """

    GET_METHODS = aiohttp.ClientRequest.GET_METHODS | {"DELETE"}


_Headers = tuple[tuple[str, str], ...]


@dataclasses.dataclass(frozen=True, slots=True)
class _Route:
    """How requests to one origin go out: directly, or through the environment's proxy."""

    proxy: str | None = None
    # A plain http:// request is forwarded: the proxy's credentials go on it (aiohttp
    # would send them only from its deprecated proxy_auth=). An https:// one is tunnelled:
    # they go on the CONNECT.
    forward_headers: _Headers = ()
    tunnel_headers: _Headers | None = None

    @classmethod
    def to(cls, proxy: Proxy | None, scheme: str) -> _Route:
        if proxy is None:
            return _DIRECT
        if scheme == "http":
            return cls(proxy.url, forward_headers=proxy.headers)
        return cls(proxy.url, tunnel_headers=proxy.headers)


_DIRECT = _Route()


def _payload(body: bytes | None) -> bytes | io.BytesIO | None:
    """The body as aiohttp should send it: bytes, or in pieces when large.

    aiohttp writes bytes at once, and warns (ResourceWarning) above
    ``TOO_LARGE_BYTES_BODY`` that the loop may stall; from a BytesIO it writes
    piece by piece, letting the loop run between them.
    """
    if body is not None and len(body) > TOO_LARGE_BYTES_BODY:
        return io.BytesIO(body)
    return body


@functools.lru_cache(maxsize=64)
def _attempt_timeout(seconds: float) -> aiohttp.ClientTimeout:
    """The whole attempt, exactly (the core's timeouts are few: cached)."""
    return aiohttp.ClientTimeout(total=seconds, ceil_threshold=math.inf)


def _failure(exc: BaseException) -> TransportFailure | None:
    """The core's failure for one of aiohttp's exceptions, or None for anything else."""
    detail = str(exc) or type(exc).__name__
    # ServerTimeoutError and ConnectionTimeoutError are timeouts and connection errors both.
    if isinstance(exc, asyncio.TimeoutError):
        return AttemptTimedOut(detail)
    # A proxy that refused the tunnel (ClientHttpProxyError) and a certificate that
    # did not match a pinned fingerprint stopped the request before it left.
    if isinstance(
        exc,
        aiohttp.ClientConnectorError
        | aiohttp.ClientHttpProxyError
        | aiohttp.ServerFingerprintMismatch
        | aiohttp.InvalidURL,
    ):
        return ConnectFailed(detail)
    if isinstance(exc, aiohttp.ClientError | OSError):
        return ConnectionBroken(detail)
    return None


async def _read(
    request: Request, response: aiohttp.ClientResponse, end: float, timeout: float
) -> Response:
    """The whole response, its body under the cap; the connection is released after."""
    headers = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in response.raw_headers)
    body = Body(request, response.status, headers)
    content = response.content
    try:
        while chunk := await content.readany():
            body.add(chunk)
            if time.monotonic() >= end:
                raise AttemptTimedOut(f"no whole response within {timeout:g} s")
    except TransportFailure:
        raise
    except Exception as exc:
        failure = _failure(exc)
        if failure is None:
            raise
        raise failure from exc
    response.release()
    return Response(response.status, headers, body.value())


def _running_loop() -> asyncio.AbstractEventLoop:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        if running_under_trio():
            raise RuntimeError(
                "AiohttpTransport works only under asyncio, not trio: under trio use "
                "poststack.transports.trio.TrioTransport or the default AsyncHttpxTransport"
            ) from None
        raise RuntimeError("AiohttpTransport needs a running asyncio event loop") from None


class _LoopSession:
    """The transport's own aiohttp session in one event loop, and every socket it opened."""

    def __init__(self, loop: asyncio.AbstractEventLoop, context: ssl.SSLContext) -> None:
        self.loop = loop
        self._sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self.connector = aiohttp.TCPConnector(
            limit=_MAX_CONNECTIONS,
            keepalive_timeout=_KEEPALIVE_EXPIRY,
            ssl=context,
            socket_factory=self._open_socket,
        )
        self.session = aiohttp.ClientSession(
            connector=self.connector,
            request_class=_FramedRequest,
            # No cookies: an API client has no session state, and every runtime
            # must send the same request. The environment is the SDK's to read.
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
            auto_decompress=False,
            max_line_size=_MAX_HEAD_LINE,
            max_field_size=_MAX_HEAD_LINE,
        )
        # aiohttp sends a GET, PUT or DELETE again, once, when a kept-alive connection
        # turns out closed; the core decides every retry (aiohttp's own test client
        # turns this off the same way: there is no public switch).
        session: Any = self.session
        session._retry_connection = False
        self._closer: AsyncGenerator[None, None] | None = None

    def _open_socket(self, address: tuple[Any, ...]) -> socket.socket:
        # aiohttp's socket_factory: the connector opens every connection's socket here.
        family, kind, proto, _, _ = address
        sock = socket.socket(family, kind, proto)
        self._sockets.add(sock)
        return sock

    async def start(self, forget: Callable[[_LoopSession], None]) -> None:
        """Park the async generator that closes this session when its loop shuts down."""
        self._closer = self._closes_with_the_loop(forget)
        # The first step registers it with the running loop (sys.set_asyncgen_hooks).
        await self._closer.__anext__()

    async def _closes_with_the_loop(
        self, forget: Callable[[_LoopSession], None]
    ) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            # Closed first, forgotten after: a session collected still open warns.
            await self.connector.close(abort_ssl=True)
            await self.session.close()
            forget(self)

    async def close(self) -> None:
        """Close every connection, in the running loop (which must be this session's)."""
        closer, self._closer = self._closer, None
        if closer is not None:
            await closer.aclose()  # runs the finally above

    def close_sockets(self) -> None:
        """Close every socket this session opened: synchronous, and no byte is sent."""
        for sock in list(self._sockets):
            sock.close()

    def drop_closed_loop(self) -> None:
        """Its loop was closed without finishing its async generators: close what is left.

        The sockets are closed here; the session is then marked closed by running
        its close() to the end, which on a closed loop never waits (aiohttp checks
        ``loop.is_closed()`` and touches none of the connections).
        """
        self.close_sockets()
        self._closer = None  # never resumed: its loop cannot run it
        closing = self.session.close()
        try:
            closing.send(None)
        except StopIteration:
            return
        closing.close()  # it wanted to wait, which a closed loop cannot


class AiohttpTransport:
    """Async transport on aiohttp, for asyncio. Safe to share between the tasks of one loop.

    With no ``session``, the transport keeps its own: up to 100 connections,
    kept alive 5 s, honouring the proxy and CA variables of the environment
    as every transport of the SDK does unless ``trust_env=False``, one
    session per event loop (see the module docstring). Pass your own
    ``aiohttp.ClientSession`` for a connector, proxy, TLS or tracing of your
    choosing: it is used as configured and never closed by the SDK (a
    session with ``auth=`` is refused: the SDK sends the API key). After
    :meth:`aclose`, the transport sends nothing more.
    """

    def __init__(
        self, session: aiohttp.ClientSession | None = None, *, trust_env: bool = True
    ) -> None:
        if not isinstance(trust_env, bool):
            raise TypeError("trust_env must be True or False")
        if session is not None:
            if not isinstance(session, aiohttp.ClientSession):
                raise TypeError(
                    f"session must be an aiohttp.ClientSession, got {type(session).__name__}"
                )
            if not trust_env:
                raise ValueError("trust_env applies to the transport's own session; set yours")
            if session.closed:
                raise ValueError("the aiohttp.ClientSession is closed")
            if session.auth is not None:
                raise ValueError(
                    "the aiohttp.ClientSession has auth=, which would replace the API key "
                    "(aiohttp refuses both at once): pass a session without it"
                )
        self._session = session
        # A user's session: the loop it was first used in; None until then.
        self._session_loop: asyncio.AbstractEventLoop | None = None
        self._environment = (
            Environment.from_environ() if session is None and trust_env else Environment()
        )
        self._loops: dict[asyncio.AbstractEventLoop, _LoopSession] = {}
        self._routes: dict[tuple[str, str, int], _Route] = {}
        # Made now, not in an attempt (see httpx._Routes), and shared by every loop's
        # session; a user's session has its own TLS settings.
        self._ssl_context: ssl.SSLContext | None = (
            self._environment.ssl_context() if session is None else None
        )
        self._inherited = False  # a user's session, seen from a forked child
        self._closed = False
        drop_in_forked_children(self)

    def __repr__(self) -> str:
        return (
            f"<AiohttpTransport {'user session' if self._session is not None else 'own session'}>"
        )

    async def send(self, request: Request, timeout: float) -> Response:
        if self._closed:
            raise RuntimeError("this AiohttpTransport is closed")
        route = _DIRECT
        if self._session is None:
            session = await self._own_session()
            route = self._route(request)
        else:
            session = self._users_session()
        end = time.monotonic() + timeout
        try:
            response = await session.request(
                request.method,
                request.url,
                # The core's headers, framing included, exactly as they are.
                headers=request.headers + route.forward_headers,
                data=_payload(request.body),
                skip_auto_headers=(
                    _NO_CONTENT_TYPE
                    if request.body is None and request.method in _BODY_METHODS
                    else None
                ),
                proxy=route.proxy,
                proxy_headers=route.tunnel_headers,
                timeout=_attempt_timeout(timeout),
                allow_redirects=False,
                raise_for_status=False,
                auto_decompress=False,
            )
        except Exception as exc:
            failure = _failure(exc)
            if failure is None:
                raise
            raise failure from exc
        try:
            return await _read(request, response, end, timeout)
        except BaseException:
            response.close()  # its connection is closed, never reused
            raise

    async def _own_session(self) -> aiohttp.ClientSession:
        loop = _running_loop()
        current = self._loops.get(loop)
        if current is not None:
            return current.session
        self._drop_closed_loops()
        assert self._ssl_context is not None  # made with the transport, as it has no session
        current = self._loops[loop] = _LoopSession(loop, self._ssl_context)
        await current.start(self._forget)
        return current.session

    def _drop_closed_loops(self) -> None:
        for other in [s for s in self._loops.values() if s.loop.is_closed()]:
            del self._loops[other.loop]
            other.drop_closed_loop()

    def _forget(self, session: _LoopSession) -> None:
        if self._loops.get(session.loop) is session:
            del self._loops[session.loop]

    def _users_session(self) -> aiohttp.ClientSession:
        session = self._session
        assert session is not None
        if self._inherited:
            raise RuntimeError(
                "this AiohttpTransport's aiohttp.ClientSession was inherited from the parent "
                "process, whose connections it holds: create a session in this process"
            )
        loop = _running_loop()
        if self._session_loop is None:
            self._session_loop = loop
        elif loop is not self._session_loop:
            raise RuntimeError(
                "this AiohttpTransport's aiohttp.ClientSession belongs to another event loop: "
                "create one session (and transport) in each loop"
            )
        if session.closed:
            raise RuntimeError("the aiohttp.ClientSession given to AiohttpTransport is closed")
        return session

    def _route(self, request: Request) -> _Route:
        origin = (request.scheme, request.host, request.port)
        try:
            return self._routes[origin]
        except KeyError:
            route = self._routes[origin] = _Route.to(
                self._environment.proxy_for(*origin), request.scheme
            )
            return route

    async def aclose(self) -> None:
        """Close the transport's own connections (a session you passed stays open).

        Call it in the event loop that used the transport; sessions of other
        loops are closed when their loops end.
        """
        self._closed = True
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        current = self._loops.pop(loop, None) if loop is not None else None
        self._drop_closed_loops()
        if current is not None:
            await current.close()

    def _forget_inherited(self) -> None:
        # In a forked child (see _fork): our copies of the parent's sockets are closed,
        # without I/O, and the aiohttp objects around them are kept, untouched (see the
        # module docstring); the next use opens a session of this process's own.
        for session in self._loops.values():
            session.close_sockets()
            _INHERITED.append(session)
        self._loops = {}
        if self._session is not None:
            self._inherited = True

"""httpx transports, sync and async, on httpx's engine or on a client of your own.

With no client given, requests go straight to httpx's connection engine,
httpcore 1.x: it skips the per-request cost of ``httpx.Client`` (cookies, URL
merging, auth and redirect layers) that the SDK does not use. The transport
honours the environment as ``httpx.Client(trust_env=True)`` does (proxies,
``NO_PROXY``, ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``; see
:mod:`poststack.transports._environment`) unless ``trust_env=False``, bounds
every socket operation by the attempt's deadline, and keeps its connections
to the process and the event loop that opened them (a forked child, or a
new ``asyncio.run()`` or ``trio.run()``, opens its own).

Pass your own ``httpx.Client`` / ``httpx.AsyncClient`` (or the same from
``httpx2``) for proxies of your choosing, mTLS or event hooks: it is used as
configured, except that the SDK never follows redirects, never lets the
client's ``auth`` replace the API key and reads the body undecoded (the core
decodes it, under the size cap). Closing the PostStack client does not close
yours. See :mod:`poststack.transports._httpx_client` for how the deadline and
fork safety reach into it.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, NoReturn

import httpcore

from poststack_core import (
    AttemptTimedOut,
    ConnectFailed,
    ConnectionBroken,
    Request,
    Response,
    ResponseTooLarge,
    TransportFailure,
)

from ._body import Body
from ._deadline import AsyncDeadlineBackend, DeadlineBackend
from ._environment import DEFAULT_PORTS, Environment, Proxy
from ._fork import drop_in_forked_children
from ._httpx_client import (
    Library,
    close_connections,
    library_of,
    pools_of,
    retire_if_read_past_end,
    take_over_network,
)
from ._runtime import current_loop, deadline, has_readiness_waits
from ._sockets import SocketBackend

if TYPE_CHECKING:
    import ssl

    import httpx
    import httpx2

__all__ = ["AsyncHttpxTransport", "HttpxTransport"]

_Kinds = tuple[tuple[type[BaseException], ...], ...]
# (timed out, could not connect, broke) for the default path, which runs on httpcore alone.
_CORE_KINDS: _Kinds = (
    (httpcore.TimeoutException,),
    (httpcore.ConnectError, httpcore.ProxyError),
    (httpcore.NetworkError, httpcore.ProtocolError, OSError),
)


def _kinds(library: Library | None) -> _Kinds:
    if library is None:
        return _CORE_KINDS
    return (library.timeouts, library.connect, library.broken)


def _raise_mapped(exc: Exception, kinds: _Kinds) -> NoReturn:
    """Raise the core's failure ``from`` the library's exception, or the exception itself."""
    if isinstance(exc, TransportFailure):
        raise exc
    timeouts, connect, broken = kinds
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, timeouts):
        raise AttemptTimedOut(detail) from exc
    if isinstance(exc, connect):
        raise ConnectFailed(detail) from exc
    if isinstance(exc, broken):
        raise ConnectionBroken(detail) from exc
    raise exc


_MAX_CONNECTIONS = 100
# The async transport's pool is this many httpcore pools (see _ShardedPool).
_SHARDS = 8


def _pool_options(
    proxy: Proxy | None, context: ssl.SSLContext, backend: Any, max_connections: int
) -> dict[str, Any]:
    options: dict[str, Any] = {
        "ssl_context": context,
        "network_backend": backend,
        "max_connections": max_connections,
        "max_keepalive_connections": max_connections,
        "keepalive_expiry": 5.0,
    }
    if proxy is not None:
        options["proxy_url"] = proxy.url
        options["proxy_headers"] = list(proxy.headers)
        if proxy.scheme == "https":  # an https:// proxy is verified like any server
            options["proxy_ssl_context"] = context
    return options


class _Routes:
    """Which pool serves a request: the environment's proxy for its origin, or none."""

    def __init__(self, trust_env: bool) -> None:
        self.environment = Environment.from_environ() if trust_env else Environment()
        # Made now, not in the first attempt: loading a CA bundle takes a good part of
        # a second on a busy machine, and the attempt's timeout is for the network.
        self.ssl_context = self.environment.ssl_context()
        self._proxies: dict[tuple[str, str, int], Proxy | None] = {}

    def proxy(self, request: Request) -> Proxy | None:
        origin = (request.scheme, request.host, request.port)
        try:
            return self._proxies[origin]
        except KeyError:
            proxy = self._proxies[origin] = self.environment.proxy_for(*origin)
            return proxy


def _core_request(request: Request, timeout: float) -> httpcore.Request:
    timeouts = {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}
    # From the core's pieces of the URL (all ASCII), not its text: parsing it again
    # would cost httpcore more than half of building the whole request. The default
    # port is left out, as a parsed URL leaves it out.
    port = request.port
    url = httpcore.URL(
        scheme=request.scheme.encode("ascii"),
        host=request.host.encode("ascii"),
        port=None if port == DEFAULT_PORTS.get(request.scheme) else port,
        target=request.target.encode("ascii"),
    )
    return httpcore.Request(
        request.method,
        url,
        # The core's headers, framing included, exactly as they are.
        headers=[(k.encode("latin-1"), v.encode("latin-1")) for k, v in request.headers],
        content=request.body,
        extensions={"timeout": timeouts},
    )


def _decoded_headers(raw: list[tuple[bytes, bytes]]) -> tuple[tuple[str, str], ...]:
    return tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in raw)


def _client_request(client: Any, request: Request, timeout: float) -> Any:
    return client.build_request(
        request.method,
        request.url,
        headers=list(request.headers),
        content=request.body,
        timeout=timeout,
    )


def _past_deadline(library: Library | None) -> None:
    # A client whose pools could not be wrapped still ends the attempt between chunks.
    if library is not None and time.monotonic() > deadline.get():
        raise library.module.ReadTimeout("the attempt's deadline has passed")


async def _collect(chunks: AsyncIterator[bytes], body: Body, library: Library | None) -> None:
    """Read an async body into ``body``, stopping it from the inside when it grows too large.

    httpcore and httpx stream a body through nested async generators. Leaving
    the loop early abandons them, which trio reports as a ResourceWarning for
    each; so when the body passes the cap, the attempt's deadline is moved to
    now instead: the next socket read fails inside the innermost generator and
    unwinds them all, as any read error does, and ResponseTooLarge is raised.
    """
    too_large: ResponseTooLarge | None = None
    try:
        async for chunk in chunks:
            if too_large is None:
                try:
                    body.add(chunk)
                except ResponseTooLarge as exc:
                    too_large = exc
                    deadline.set(-math.inf)
                    continue
                _past_deadline(library)
    except Exception:
        if too_large is not None:
            raise too_large from None
        raise
    if too_large is not None:
        raise too_large


class HttpxTransport:
    """Blocking transport on httpx (or httpx2). Thread-safe: one pool serves every thread.

    ``trust_env=False`` ignores the proxy and CA variables of the environment
    (it applies to the transport's own pool; a client you pass has its own
    ``trust_env``).
    """

    def __init__(
        self, client: httpx.Client | httpx2.Client | None = None, *, trust_env: bool = True
    ) -> None:
        self._client = client
        self._library: Library | None = None
        # Set to the library when some of the client's pools could not be wrapped.
        self._check_between_chunks: Library | None = None
        if client is not None:
            if not trust_env:
                raise ValueError("trust_env applies to the transport's own pool; set your client's")
            self._library = library_of(client, asynchronous=False)
            _, covered = take_over_network(client, self._library, asynchronous=False)
            if not covered:
                self._check_between_chunks = self._library
        else:
            self._routes = _Routes(trust_env)
        self._kinds = _kinds(self._library)
        self._pools: dict[Proxy | None, httpcore.ConnectionPool] = {}
        self._lock = threading.Lock()  # guards creating pools
        drop_in_forked_children(self)

    def __repr__(self) -> str:
        return f"<HttpxTransport {'user client' if self._client is not None else 'own pool'}>"

    def send(self, request: Request, timeout: float) -> Response:
        token = deadline.set(time.monotonic() + timeout)
        try:
            if self._client is None:
                return self._send_own(request, timeout)
            return self._send_client(self._client, self._check_between_chunks, request, timeout)
        except Exception as exc:
            _raise_mapped(exc, self._kinds)
        finally:
            deadline.reset(token)

    def _pool(self, request: Request) -> httpcore.ConnectionPool:
        proxy = self._routes.proxy(request)
        pool = self._pools.get(proxy)
        if pool is None:
            with self._lock:
                pool = self._pools.get(proxy)
                if pool is None:
                    options = _pool_options(
                        proxy, self._routes.ssl_context, DeadlineBackend(), _MAX_CONNECTIONS
                    )
                    make: Any = httpcore.ConnectionPool if proxy is None else httpcore.HTTPProxy
                    pool = self._pools[proxy] = make(**options)
        return pool

    def _send_own(self, request: Request, timeout: float) -> Response:
        response = self._pool(request).handle_request(_core_request(request, timeout))
        try:
            headers = _decoded_headers(response.headers)
            body = Body(request, response.status, headers)
            for chunk in response.iter_stream():
                body.add(chunk)
            retire_if_read_past_end(response.stream)
        finally:
            response.close()
        return Response(response.status, headers, body.value())

    @staticmethod
    def _send_client(
        client: Any, library: Library | None, request: Request, timeout: float
    ) -> Response:
        built = _client_request(client, request, timeout)
        response = client.send(built, stream=True, auth=None, follow_redirects=False)
        try:
            headers = tuple(response.headers.multi_items())
            body = Body(request, response.status_code, headers)
            for chunk in response.iter_raw():
                body.add(chunk)
                _past_deadline(library)
            retire_if_read_past_end(response.stream)
        finally:
            response.close()
        return Response(response.status_code, headers, body.value())

    def close(self) -> None:
        """Close the transport's own pools (a client you passed stays open)."""
        with self._lock:
            pools, self._pools = self._pools, {}
        for pool in pools.values():
            pool.close()

    def _forget_inherited(self) -> None:
        # In a forked child (see _fork): close our copies of the sockets, without I/O,
        # and start over with new pools and a new lock (a parent thread may hold the old).
        pools = pools_of(self._client) if self._client is not None else self._pools.values()
        for pool in pools:
            close_connections(pool)
        self._pools = {}
        self._lock = threading.Lock()


class _ShardedPool:
    """Several small httpcore pools sharing the connection limit, used as one.

    httpcore's pool rescans every connection (and asks each idle one whether its
    socket became readable) whenever a request starts or finishes: with 64 tasks
    on 64 connections that bookkeeping costs more than the HTTP itself. Each
    request goes to the pool with the fewest requests in flight, so the pools
    fill evenly and each scan covers an eighth of the connections. Only for the
    async transport: its tasks share one thread, so the counters need no lock.
    """

    def __init__(self, make: Callable[[int], Any], shards: int, max_connections: int) -> None:
        sizes = [max_connections // shards + (i < max_connections % shards) for i in range(shards)]
        self._pools = [make(size) for size in sizes if size]
        self._busy = [0] * len(self._pools)

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        busy = self._busy
        shard = busy.index(min(busy))
        busy[shard] += 1
        try:
            response: httpcore.Response = await self._pools[shard].handle_async_request(request)
            return response
        finally:
            busy[shard] -= 1

    async def aclose(self) -> None:
        for pool in self._pools:
            await pool.aclose()


class _LoopPools:
    """The pools of one event loop, and the backend that opened all their connections."""

    def __init__(self, loop: object, routes: _Routes) -> None:
        self.loop = loop
        self.routes = routes
        if has_readiness_waits():
            self.backend: Any = SocketBackend()
        else:  # pragma: no cover - asyncio's proactor loop (Windows) has no readiness waits
            self.backend = AsyncDeadlineBackend(httpcore.AnyIOBackend(), httpcore)
        self.pools: dict[Proxy | None, _ShardedPool] = {}

    def pool(self, request: Request) -> _ShardedPool:
        proxy = self.routes.proxy(request)
        pool = self.pools.get(proxy)
        if pool is None:
            make: Any = httpcore.AsyncConnectionPool if proxy is None else httpcore.AsyncHTTPProxy
            context, backend = self.routes.ssl_context, self.backend

            def shard(size: int) -> Any:
                return make(**_pool_options(proxy, context, backend, size))

            pool = self.pools[proxy] = _ShardedPool(shard, _SHARDS, _MAX_CONNECTIONS)
        return pool

    def drop(self) -> None:
        """Close every connection, synchronously and without I/O: the loop may be gone."""
        if isinstance(self.backend, SocketBackend):
            self.backend.close_all()
        self.pools = {}


class AsyncHttpxTransport:
    """Async transport on httpx (or httpx2), for asyncio and trio alike.

    Safe to share between the tasks of one event loop. Used from another loop
    (the next ``asyncio.run()``, or trio after asyncio), it opens new
    connections there and closes the old loop's. ``trust_env`` is as for
    :class:`HttpxTransport`.
    """

    def __init__(
        self,
        client: httpx.AsyncClient | httpx2.AsyncClient | None = None,
        *,
        trust_env: bool = True,
    ) -> None:
        self._client = client
        self._backends: list[SocketBackend] = []
        self._library: Library | None = None
        # Set to the library when some of the client's pools could not be wrapped.
        self._check_between_chunks: Library | None = None
        if client is not None:
            if not trust_env:
                raise ValueError("trust_env applies to the transport's own pool; set your client's")
            self._library = library_of(client, asynchronous=True)
            self._backends, covered = take_over_network(client, self._library, asynchronous=True)
            if not covered:
                self._check_between_chunks = self._library
        else:
            self._routes = _Routes(trust_env)
        self._kinds = _kinds(self._library)
        self._loop_pools: _LoopPools | None = None
        self._client_loop: object = None  # the loop a user's client was last used in
        drop_in_forked_children(self)

    def __repr__(self) -> str:
        return f"<AsyncHttpxTransport {'user client' if self._client is not None else 'own pool'}>"

    async def send(self, request: Request, timeout: float) -> Response:
        token = deadline.set(time.monotonic() + timeout)
        try:
            if self._client is None:
                return await self._send_own(request, timeout)
            loop = current_loop()
            if loop is not self._client_loop:
                # The client's connections of an earlier loop are unusable here: close them.
                for backend in self._backends:
                    backend.close_foreign(loop)
                self._client_loop = loop
            return await self._send_client(
                self._client, self._check_between_chunks, request, timeout
            )
        except Exception as exc:
            _raise_mapped(exc, self._kinds)
        finally:
            deadline.reset(token)

    def _pools(self) -> _LoopPools:
        loop = current_loop()
        pools = self._loop_pools
        if pools is None or pools.loop is not loop:
            # Nothing awaits between the check and the assignment: no task can interleave.
            if pools is not None:
                pools.drop()
            pools = self._loop_pools = _LoopPools(loop, self._routes)
        return pools

    async def _send_own(self, request: Request, timeout: float) -> Response:
        pool = self._pools().pool(request)
        response = await pool.handle_async_request(_core_request(request, timeout))
        try:
            headers = _decoded_headers(response.headers)
            body = Body(request, response.status, headers)
            await _collect(response.aiter_stream(), body, None)
            retire_if_read_past_end(response.stream)
        finally:
            await response.aclose()
        return Response(response.status, headers, body.value())

    @staticmethod
    async def _send_client(
        client: Any, library: Library | None, request: Request, timeout: float
    ) -> Response:
        built = _client_request(client, request, timeout)
        response = await client.send(built, stream=True, auth=None, follow_redirects=False)
        try:
            headers = tuple(response.headers.multi_items())
            body = Body(request, response.status_code, headers)
            await _collect(response.aiter_raw(), body, library)
            retire_if_read_past_end(response.stream)
        finally:
            await response.aclose()
        return Response(response.status_code, headers, body.value())

    async def aclose(self) -> None:
        """Close the transport's own connections (a client you passed stays open)."""
        pools, self._loop_pools = self._loop_pools, None
        if pools is None:
            return
        try:
            same_loop = current_loop() is pools.loop
        except RuntimeError:
            same_loop = False
        if same_loop:
            for pool in pools.pools.values():
                await pool.aclose()
        pools.drop()

    def _forget_inherited(self) -> None:
        # In a forked child (see _fork): every socket we opened is closed, without I/O.
        if self._loop_pools is not None:
            self._loop_pools.drop()
            self._loop_pools = None
        for backend in self._backends:
            backend.close_all()

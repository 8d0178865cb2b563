"""httpx transports, sync and async.

With no client given, requests go straight to httpx's connection engine
(httpcore) with an attempt-wide deadline on every socket operation; this skips
the per-request cost of ``httpx.Client`` (cookies, URL merging, auth and
redirect layers) that the SDK does not use. Pass your own ``httpx.Client`` /
``httpx.AsyncClient`` for proxies, mTLS or event hooks: it is used as is, and
closing the PostStack client does not close it.
"""

from __future__ import annotations

import ssl
import time
from typing import TYPE_CHECKING, Any, NoReturn

import httpcore

from poststack_core import (
    AttemptTimedOut,
    ConnectFailed,
    ConnectionBroken,
    Request,
    Response,
    TransportFailure,
)

from ._deadline import AsyncDeadlineBackend, DeadlineBackend, deadline

if TYPE_CHECKING:
    import httpx

__all__ = ["AsyncHttpxTransport", "HttpxTransport"]

# (timed out, could not connect, broke) - what each library raises for each. httpx
# itself is imported only with a user's client: the default path runs on httpcore alone.
_Kinds = tuple[tuple[type[BaseException], ...], ...]
_CORE_KINDS: _Kinds = (
    (httpcore.TimeoutException,),
    (httpcore.ConnectError,),
    (httpcore.NetworkError, httpcore.ProtocolError, OSError),
)


def _client_kinds() -> _Kinds:
    import httpx

    return (
        (httpcore.TimeoutException, httpx.TimeoutException),
        (httpcore.ConnectError, httpx.ConnectError, httpx.UnsupportedProtocol),
        (
            httpcore.NetworkError,
            httpcore.ProtocolError,
            httpx.NetworkError,
            httpx.ProtocolError,
            httpx.ProxyError,
            httpx.DecodingError,
            OSError,
        ),
    )


def _failure(exc: Exception, kinds: _Kinds) -> TransportFailure | None:
    """The core's failure for a library exception, or None to let it pass unchanged."""
    timeouts, connect, broken = kinds
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, timeouts):
        return AttemptTimedOut(detail)
    if isinstance(exc, connect):
        return ConnectFailed(detail)
    if isinstance(exc, broken):
        return ConnectionBroken(detail)
    return None


def _raise_mapped(exc: Exception, kinds: _Kinds) -> NoReturn:
    """Raise the core's failure ``from`` the library's exception, or the exception itself."""
    failure = _failure(exc, kinds)
    if failure is None:
        raise exc
    raise failure from exc


def _ssl_context() -> ssl.SSLContext:
    # Verification on, against certifi's bundle, as httpx does by default.
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


_MAX_CONNECTIONS = 100
# The async transport's pool is this many httpcore pools (see _ShardedPool).
_SHARDS = 8


def _pool_limits(max_connections: int = _MAX_CONNECTIONS) -> dict[str, Any]:
    return {
        "max_connections": max_connections,
        "max_keepalive_connections": max_connections,
        "keepalive_expiry": 5.0,
    }


class _ShardedPool:
    """Several small httpcore pools sharing the connection limit, used as one.

    httpcore's pool rescans every connection (and asks each idle one whether its
    socket became readable) whenever a request starts or finishes: with 64 tasks
    on 64 connections that bookkeeping costs more than the HTTP itself. Each
    request goes to the pool with the fewest requests in flight, so the pools
    fill evenly and each scan covers an eighth of the connections. Only for the
    async transport: its tasks share one thread, so the counters need no lock.
    """

    def __init__(self, shards: int, max_connections: int) -> None:
        context = _ssl_context()
        backend = AsyncDeadlineBackend()
        sizes = [max_connections // shards + (i < max_connections % shards) for i in range(shards)]
        self._pools = [
            httpcore.AsyncConnectionPool(
                ssl_context=context, network_backend=backend, **_pool_limits(size)
            )
            for size in sizes
            if size
        ]
        self._busy = [0] * len(self._pools)

    async def request(self, **kwargs: Any) -> httpcore.Response:
        busy = self._busy
        shard = busy.index(min(busy))
        busy[shard] += 1
        try:
            return await self._pools[shard].request(**kwargs)
        finally:
            busy[shard] -= 1

    async def aclose(self) -> None:
        for pool in self._pools:
            await pool.aclose()


def _core_headers(request: Request) -> list[tuple[bytes, bytes]]:
    headers = [(b"Host", _host_header(request).encode("ascii"))]
    headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in request.headers]
    if request.body is not None:
        headers.append((b"Content-Length", str(len(request.body)).encode("ascii")))
    elif request.method in ("POST", "PUT", "PATCH"):
        headers.append((b"Content-Length", b"0"))
    return headers


def _host_header(request: Request) -> str:
    host = f"[{request.host}]" if ":" in request.host else request.host
    default = 443 if request.scheme == "https" else 80
    return host if request.port == default else f"{host}:{request.port}"


def _core_request(request: Request, timeout: float) -> dict[str, Any]:
    timeouts = {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}
    return {
        "method": request.method,
        "url": request.url,
        "headers": _core_headers(request),
        "content": request.body,
        "extensions": {"timeout": timeouts},
    }


def _from_core(response: httpcore.Response) -> Response:
    headers = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers)
    return Response(response.status, headers, response.content)


def _client_request(
    client: httpx.Client | httpx.AsyncClient, request: Request, timeout: float
) -> httpx.Request:
    return client.build_request(
        request.method,
        request.url,
        headers=list(request.headers),
        content=request.body,
        timeout=timeout,
    )


class _DeadlineBody:
    """Collects a user client's response body, failing once the attempt's time is up.

    A user's client times each read, not the attempt, so the deadline is checked
    between reads: the bound is the timeout plus at most one read.
    """

    def __init__(self, built: httpx.Request, timeout: float) -> None:
        self._built = built
        self._end = time.monotonic() + timeout
        self._chunks: list[bytes] = []

    def add(self, chunk: bytes) -> None:
        self._chunks.append(chunk)
        if time.monotonic() > self._end:
            import httpx

            raise httpx.ReadTimeout("the attempt's deadline has passed", request=self._built)

    def response(self, response: httpx.Response) -> Response:
        headers = tuple(response.headers.multi_items())
        return Response(response.status_code, headers, b"".join(self._chunks))


class HttpxTransport:
    """Blocking transport on httpx. Thread-safe: one pool serves every thread."""

    def __init__(self, client: httpx.Client | None = None) -> None:
        self._client = client
        self._kinds = _CORE_KINDS if client is None else _client_kinds()
        self._pool: httpcore.ConnectionPool | None = None
        if client is None:
            self._pool = httpcore.ConnectionPool(
                ssl_context=_ssl_context(), network_backend=DeadlineBackend(), **_pool_limits()
            )

    def __repr__(self) -> str:
        return f"<HttpxTransport {'user client' if self._client is not None else 'own pool'}>"

    def send(self, request: Request, timeout: float) -> Response:
        token = deadline.set(time.monotonic() + timeout)
        try:
            if self._pool is not None:
                return self._send_core(self._pool, request, timeout)
            assert self._client is not None
            return self._send_client(self._client, request, timeout)
        except Exception as exc:
            _raise_mapped(exc, self._kinds)
        finally:
            deadline.reset(token)

    @staticmethod
    def _send_core(pool: httpcore.ConnectionPool, request: Request, timeout: float) -> Response:
        return _from_core(pool.request(**_core_request(request, timeout)))

    @staticmethod
    def _send_client(client: httpx.Client, request: Request, timeout: float) -> Response:
        built = _client_request(client, request, timeout)
        body = _DeadlineBody(built, timeout)
        response = client.send(built, stream=True)
        try:
            for chunk in response.iter_bytes():
                body.add(chunk)
        finally:
            response.close()
        return body.response(response)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()


class AsyncHttpxTransport:
    """Async transport on httpx, for asyncio and trio alike. Safe to share between tasks."""

    def __init__(self, client: httpx.AsyncClient | None = None) -> None:
        self._client = client
        self._kinds = _CORE_KINDS if client is None else _client_kinds()
        self._pool: _ShardedPool | None = None
        if client is None:
            self._pool = _ShardedPool(_SHARDS, _MAX_CONNECTIONS)

    def __repr__(self) -> str:
        return f"<AsyncHttpxTransport {'user client' if self._client is not None else 'own pool'}>"

    async def send(self, request: Request, timeout: float) -> Response:
        token = deadline.set(time.monotonic() + timeout)
        try:
            if self._pool is not None:
                return await self._send_core(self._pool, request, timeout)
            assert self._client is not None
            return await self._send_client(self._client, request, timeout)
        except Exception as exc:
            _raise_mapped(exc, self._kinds)
        finally:
            deadline.reset(token)

    @staticmethod
    async def _send_core(pool: _ShardedPool, request: Request, timeout: float) -> Response:
        return _from_core(await pool.request(**_core_request(request, timeout)))

    @staticmethod
    async def _send_client(client: httpx.AsyncClient, request: Request, timeout: float) -> Response:
        built = _client_request(client, request, timeout)
        body = _DeadlineBody(built, timeout)
        response = await client.send(built, stream=True)
        try:
            async for chunk in response.aiter_bytes():
                body.add(chunk)
        finally:
            await response.aclose()
        return body.response(response)

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()

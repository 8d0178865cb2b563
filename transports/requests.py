"""A blocking transport on requests (``pip install "poststack[requests]>=1"``).

>>> from poststack import PostStack
>>> from poststack.transports.requests import RequestsTransport
>>> ps = PostStack(transport=RequestsTransport())

The transport's own session honours the environment exactly as the SDK's
other transports do (``trust_env``; see
:mod:`poststack.transports._environment`), not by requests' own rules, and
mounts :class:`DeadlineAdapter`: every socket read of an attempt, the
response head's included, gets only what is left of the attempt's
``timeout``, and interim ``1xx`` responses are skipped.

Pass your own configured ``requests.Session`` (proxies, mTLS client
certificates, custom adapters) as ``RequestsTransport(session)``: it is used
as is (with its own ``trust_env``), and closing the PostStack client does not
close it. Give its adapters no retries of their own (requests' default): the
SDK retries, with the same Idempotency-Key on every attempt. Its stock
adapters bound the connect and the body by the attempt's deadline, but the
response head only per read; mount a :class:`DeadlineAdapter` (or a subclass)
on it to bound that too, and to skip ``103 Early Hints`` and the like, which a
stock adapter cannot read past (the attempt then fails and is retried).
"""

from __future__ import annotations

import http.client
import http.cookiejar
import io
import math
import socket
import ssl
import time
from collections.abc import Iterator
from typing import Any

import requests
import requests.adapters
import requests.structures
import urllib3
import urllib3.connection
import urllib3.exceptions

from poststack_core import (
    AttemptTimedOut,
    ConnectFailed,
    ConnectionBroken,
    Request,
    Response,
    TransportFailure,
)

from ._body import Body
from ._environment import Environment
from ._fork import drop_in_forked_children
from ._runtime import deadline

__all__ = ["DeadlineAdapter", "RequestsTransport"]

_CHUNK = 65536
# The headers that frame a request: the core's, never requests' own.
_FRAMING = ("Host", "Content-Length", "Transfer-Encoding")


class _DeadlineReader(io.RawIOBase):
    """A socket as a file whose every read gets only what is left of the attempt.

    http.client reads a response (status line, headers, body) from a
    buffered file over the socket, and every ``recv`` gets the socket's full
    timeout; before each one, this lowers the timeout to what is left of the
    SDK's attempt deadline (:data:`._deadline.deadline`), if one is running.
    """

    def __init__(self, sock: socket.socket) -> None:
        super().__init__()
        self._sock = sock
        # A file from the socket itself, so the socket stays open while it is read
        # (http.client closes a "Connection: close" socket right after the head).
        self._file = sock.makefile("rb", buffering=0)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int | None:
        end = deadline.get()
        if end != math.inf:
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError("the attempt's deadline has passed")
            self._sock.settimeout(left)
        count: int | None = self._file.readinto(buffer)
        return count

    def close(self) -> None:
        self._file.close()
        super().close()


class _DeadlineResponse(http.client.HTTPResponse):
    """http.client's response, read under the attempt's deadline and past interim answers."""

    def __init__(self, sock: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(sock, *args, **kwargs)
        self.fp.close()  # the plain file http.client made; the socket stays open
        self.fp = io.BufferedReader(_DeadlineReader(sock))

    def _read_status(self) -> tuple[str, int, str]:
        while True:
            version, status, reason = super()._read_status()  # type: ignore[misc]
            # http.client skips 100 Continue itself and returns 101 (the transport
            # refuses it); 102 Processing, 103 Early Hints and the like come before
            # the real answer, so their headers are read and dropped.
            if not 102 <= status < 200:
                return version, status, reason
            http.client.parse_headers(self.fp)


class _HTTPConnection(urllib3.connection.HTTPConnection):
    response_class = _DeadlineResponse


class _HTTPSConnection(urllib3.connection.HTTPSConnection):
    response_class = _DeadlineResponse


class _HTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS: dict[str, type[urllib3.HTTPConnectionPool]] = {"http": _HTTPPool, "https": _HTTPSPool}


class DeadlineAdapter(requests.adapters.HTTPAdapter):
    """An HTTPAdapter whose connections read under the SDK's attempt deadline.

    Mount it on a session of your own to get what the transport's default
    session has: the whole response (head included) within the attempt's
    ``timeout``, and interim ``1xx`` responses skipped. Outside an SDK call it
    behaves as a stock ``HTTPAdapter``.
    """

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = _POOLS
        return manager


class _OwnAdapter(DeadlineAdapter):
    """The default session's adapter: proxy credentials come from the SDK's environment rules."""

    def __init__(self, environment: Environment) -> None:
        # One pool per origin of up to 100 keep-alive connections, no retries of its own
        # (the core retries). Connections beyond 100 (more than 100 threads at once) are
        # opened and closed rather than blocking a thread with no deadline.
        super().__init__(pool_connections=4, pool_maxsize=100, max_retries=0)
        self._environment = environment
        # Made once, now: urllib3 would otherwise load the CA bundle again for every
        # new connection, inside the attempt's deadline.
        self._context = environment.ssl_context()

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> Any:  # types-requests names the pair with private TypedDicts, which vary by release
        host, pool = super().build_connection_pool_key_attributes(request, verify, cert)
        if host.get("scheme") == "https":
            pool.pop("ca_certs", None)
            pool.pop("ca_cert_dir", None)
            pool["ssl_context"] = self._context
        return host, pool

    def proxy_headers(self, proxy: str) -> dict[str, str]:
        for known in (self._environment.http_proxy, self._environment.https_proxy):
            if known is not None and known.url == proxy:
                return dict(known.headers)
        return {}


def _keep_headers(prepared: requests.PreparedRequest) -> requests.PreparedRequest:
    """An auth hook that changes nothing.

    Passing it keeps the request's own ``Authorization: Bearer`` header: with
    no auth given, requests would fill one in from ``~/.netrc`` (trust_env) or
    from ``session.auth`` and replace the API key.
    """
    return prepared


def _default_session(environment: Environment) -> requests.Session:
    session = requests.Session()
    # Proxies and CAs come from the SDK's reading of the environment (see send), so
    # that every runtime routes the same way; requests' own reading is off.
    session.trust_env = False
    adapter = _OwnAdapter(environment)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    # Only the SDK's own headers, as the other transports send (requests would add
    # Accept, Accept-Encoding: gzip and Connection), and no cookies: an API client
    # has no session state, and every transport must send the same request.
    session.headers.clear()
    session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    return session


class RequestsTransport:
    """Blocking transport on requests. Thread-safe: one session serves every thread.

    ``trust_env=False`` makes the transport's own session ignore the proxy and
    CA variables of the environment (a session you pass has its own
    ``trust_env``).
    """

    def __init__(self, session: requests.Session | None = None, *, trust_env: bool = True) -> None:
        self._owns_session = session is None
        if session is not None and not trust_env:
            raise ValueError("trust_env applies to the transport's own session; set your session's")
        self._environment = Environment.from_environ() if trust_env else Environment()
        self._session = session if session is not None else _default_session(self._environment)
        drop_in_forked_children(self)

    def __repr__(self) -> str:
        return f"<RequestsTransport {'own session' if self._owns_session else 'user session'}>"

    def send(self, request: Request, timeout: float) -> Response:
        end = time.monotonic() + timeout
        token = deadline.set(end)
        try:
            return self._send(request, end)
        finally:
            deadline.reset(token)

    def _settings(self, prepared: requests.PreparedRequest, request: Request) -> dict[str, Any]:
        if not self._owns_session:
            # As Session.request() would: proxies, CA bundle and client certificate from
            # the environment when the session's trust_env says so.
            merged = self._session.merge_environment_settings(prepared.url, {}, True, None, None)
            return dict(merged)
        environment = self._environment
        proxy = environment.proxy_for(request.scheme, request.host, request.port)
        return {
            "proxies": {request.scheme: proxy.url} if proxy is not None else {},
            "verify": environment.ca_location or True,
            "cert": None,
            "stream": True,
        }

    def _send(self, request: Request, end: float) -> Response:
        session = self._session
        prepared = session.prepare_request(
            requests.Request(
                request.method,
                request.url,
                headers=dict(request.headers),
                data=request.body,
                auth=_keep_headers,
            )
        )
        # The core's headers go out as they are, framing included, and first; requests
        # computed its own framing (and adds "Content-Length: 0" to a bodyless DELETE),
        # and a user's session may add headers of its own after them.
        headers = requests.structures.CaseInsensitiveDict(request.headers)
        for name, value in prepared.headers.items():
            if name not in headers and name not in _FRAMING:
                headers[name] = value
        prepared.headers = headers
        settings = self._settings(prepared, request)
        # urllib3's total timeout: the connect gets what is left of the attempt, and the
        # wait for the response head what is left after connecting and sending.
        left = max(end - time.monotonic(), 0.001)
        try:
            response = session.send(
                prepared,
                # HTTPAdapter.send takes a urllib3 Timeout as is; the type hints omit it.
                timeout=urllib3.Timeout(total=left),  # type: ignore[arg-type]
                allow_redirects=False,
                **settings,
            )
        except requests.RequestException as exc:
            raise _failure(exc) from exc
        try:
            pairs = _headers(response)
            body = Body(request, response.status_code, pairs)
            if response.status_code < 200:
                # A stock adapter cannot read past an interim answer: the real one is
                # still in the socket, so the connection must not carry another request.
                raise ConnectionBroken(f"an interim {response.status_code} response")
            for chunk in _chunks(response, end):
                body.add(chunk)
        except TransportFailure:
            response.close()  # closes the connection, never returned to the pool half-read
            raise
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            response.close()
            raise _failure(exc) from exc
        except BaseException:
            response.close()
            raise
        return Response(response.status_code, pairs, body.value())

    def close(self) -> None:
        """Close the session, and every connection it keeps, if this transport created it."""
        if self._owns_session:
            _close_connections(self._session)
            self._session.close()

    def _forget_inherited(self) -> None:
        # In a forked child (see _fork), in this session as in a user's: our copies of
        # the sockets are closed (no I/O), and the adapters open new connections.
        _close_connections(self._session)


def _close_connections(session: requests.Session) -> None:
    """Close every pooled connection of ``session``'s adapters, and drop their pools.

    Recent urllib3 (2.4+) only drops its pools on ``clear()``, leaving their
    sockets open until the garbage collector finds them: they are closed here.
    """
    for adapter in session.adapters.values():
        if isinstance(adapter, requests.adapters.HTTPAdapter):
            for manager in [adapter.poolmanager, *adapter.proxy_manager.values()]:
                # keys() is a snapshot: urllib3 refuses to iterate the container itself.
                for key in manager.pools.keys():  # noqa: SIM118
                    pool = manager.pools.get(key)
                    if pool is not None:
                        pool.close()
        adapter.close()


def _headers(response: requests.Response) -> tuple[tuple[str, str], ...]:
    headers = getattr(response.raw, "headers", None)
    if isinstance(headers, urllib3.HTTPHeaderDict):
        # Repeated headers stay separate, as received.
        return tuple(headers.iteritems())
    # A custom adapter's response: requests has merged repeats already.
    return tuple(response.headers.items())


def _chunks(response: requests.Response, end: float) -> Iterator[bytes]:
    """The body as it came off the wire (never decoded: the core does that, under the cap).

    With a :class:`DeadlineAdapter` every read already ends by the deadline.
    Otherwise urllib3's ``read1`` (at most one ``recv`` per call) is given a
    socket timeout lowered to what is left of the attempt before each call;
    the socket is ``response.raw.connection.sock`` (public urllib3 API and the
    attribute every urllib3 connection keeps). A custom adapter that exposes
    neither still gets the deadline checked between chunks.
    """
    raw = response.raw
    read1 = getattr(raw, "read1", None)
    settimeout = getattr(
        getattr(getattr(raw, "connection", None), "sock", None), "settimeout", None
    )
    while True:
        left = end - time.monotonic()
        if left <= 0:
            raise TimeoutError("the attempt's deadline has passed while reading the body")
        if read1 is None:
            break
        if settimeout is not None:
            settimeout(left)
        chunk: bytes = read1(_CHUNK, decode_content=False)
        if not chunk:
            return
        yield chunk
    for chunk in raw.stream(_CHUNK, decode_content=False):
        yield chunk
        if time.monotonic() > end:
            raise TimeoutError("the attempt's deadline has passed while reading the body")


def _causes(exc: BaseException) -> Iterator[object]:
    """``exc`` and what it wraps: urllib3 keeps the cause in ``reason`` / ``args[0]``."""
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo:
        item = todo.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        if isinstance(item, BaseException):
            todo += [item.__cause__, *item.args[:2]]
        todo += [getattr(item, "reason", None), getattr(item, "original_error", None)]


def _connect_failed(exc: BaseException) -> bool:
    """True only when the request surely never left: no connection, no TLS, no tunnel.

    Anything else (a reset, a bad status line, an SSL error after the handshake)
    may have happened after the server got the request, so it is not reported
    as a connect failure.
    """
    for cause in _causes(exc):
        if isinstance(
            cause,
            urllib3.exceptions.NewConnectionError
            | urllib3.exceptions.ClosedPoolError
            | urllib3.exceptions.ProxyError
            | ssl.SSLCertVerificationError
            | ssl.CertificateError,
        ):
            return True
    return False


def _failure(exc: BaseException) -> TransportFailure:
    text = str(exc) or type(exc).__name__
    if _connect_failed(exc):
        return ConnectFailed(text)
    if isinstance(exc, requests.Timeout | urllib3.exceptions.TimeoutError | TimeoutError) or any(
        isinstance(c, TimeoutError | urllib3.exceptions.TimeoutError) for c in _causes(exc)
    ):
        return AttemptTimedOut(text)
    return ConnectionBroken(text)

"""A blocking transport on requests (``pip install "poststack[requests]>=1"``).

>>> from poststack import PostStack
>>> from poststack.transports.requests import RequestsTransport
>>> ps = PostStack(transport=RequestsTransport())

Pass your own configured ``requests.Session`` (proxies, mTLS client
certificates, custom adapters) as ``RequestsTransport(session)``: it is used as
is and closing the PostStack client does not close it. Give its adapters no
retries of their own (requests' default): the SDK retries, with the same
Idempotency-Key on every attempt.

The attempt timeout bounds the whole attempt. requests only bounds each socket
operation, so the connect, and then the wait for the response head, get what
is left of the attempt when they start (urllib3's ``Timeout(total=...)``); the
body is then read one socket read at a time with the socket's timeout lowered
to what is left before each read (see :func:`_read_body`), so a server that
trickles the body cannot stretch an attempt. One limit remains: a server that
trickles the status line and headers themselves, a byte at a time, gets a
fresh socket timeout for every byte of the head.
"""

from __future__ import annotations

import http.cookiejar
import ssl
import time
from collections.abc import Iterator

import requests
import requests.adapters
import urllib3
import urllib3.exceptions

from poststack_core import (
    AttemptTimedOut,
    ConnectFailed,
    ConnectionBroken,
    Request,
    Response,
    TransportFailure,
)

__all__ = ["RequestsTransport"]

_CHUNK = 65536
_METHODS_WITH_CONTENT = frozenset({"POST", "PUT", "PATCH"})


def _keep_headers(prepared: requests.PreparedRequest) -> requests.PreparedRequest:
    """An auth hook that changes nothing.

    Passing it keeps the request's own ``Authorization: Bearer`` header: with
    no auth given, requests would fill one in from ``~/.netrc`` (trust_env) or
    from ``session.auth`` and replace the API key.
    """
    return prepared


def _default_session() -> requests.Session:
    session = requests.Session()
    # One pool per origin of up to 100 keep-alive connections, no retries of its own
    # (the core retries). Connections beyond 100 (more than 100 threads at once) are
    # opened and closed rather than blocking a thread with no deadline.
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=100, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    # Only the SDK's own headers, as the other transports send (requests would add
    # Accept, Accept-Encoding: gzip and Connection), and no cookies: an API client
    # has no session state, and every transport must send the same request.
    session.headers.clear()
    session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    return session


class RequestsTransport:
    """Blocking transport on requests. Thread-safe: one session serves every thread."""

    def __init__(self, session: requests.Session | None = None) -> None:
        self._owns_session = session is None
        self._session = session if session is not None else _default_session()

    def __repr__(self) -> str:
        return f"<RequestsTransport {'own session' if self._owns_session else 'user session'}>"

    def send(self, request: Request, timeout: float) -> Response:
        end = time.monotonic() + timeout
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
        if request.body is None and request.method not in _METHODS_WITH_CONTENT:
            # requests adds "Content-Length: 0" to a bodyless DELETE; the other transports
            # send none (RFC 9110 8.6: not for a method that does not expect content).
            prepared.headers.pop("Content-Length", None)
        # Proxies, CA bundle and client certificate from the environment, as
        # Session.request() would do (the session's trust_env decides).
        settings = session.merge_environment_settings(prepared.url, {}, True, None, None)
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
            body = _read_body(response, end)
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            response.close()  # the connection is closed, never returned to the pool half-read
            raise _failure(exc) from exc
        except BaseException:
            response.close()
            raise
        raw = response.raw
        headers = getattr(raw, "headers", None)
        if isinstance(headers, urllib3.HTTPHeaderDict):
            # Repeated headers stay separate, as received.
            pairs = tuple(headers.iteritems())
        else:  # a custom adapter's response: requests has merged repeats already
            pairs = tuple(response.headers.items())
        return Response(response.status_code, pairs, body)

    def close(self) -> None:
        """Close the session if this transport created it."""
        if self._owns_session:
            self._session.close()


def _read_body(response: requests.Response, end: float) -> bytes:
    """The whole body, within the attempt's deadline ``end`` (a monotonic time).

    ``iter_content`` reads fixed-size chunks and blocks until each is full, one
    socket timeout per ``recv``, so a dripping server could hold it for ever.
    Instead we call urllib3's ``read1`` (at most one ``recv`` per call) and
    before each call set the socket's timeout to what is left of the attempt.
    The socket is ``response.raw.connection.sock``: ``HTTPResponse.connection``
    is public urllib3 API and ``sock`` the attribute every urllib3 connection
    (plain, TLS, proxied) keeps, unlike the private ``raw._fp.fp.raw._sock``
    chain. A custom adapter that does not expose them still gets the deadline
    checked between chunks.
    """
    raw = response.raw
    read1 = getattr(raw, "read1", None)
    connection = getattr(raw, "connection", None)
    sock = getattr(connection, "sock", None)
    settimeout = getattr(sock, "settimeout", None)
    chunks: list[bytes] = []
    if read1 is not None and settimeout is not None:
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError("the attempt's deadline has passed while reading the body")
            settimeout(left)
            chunk = read1(_CHUNK, decode_content=True)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    for chunk in response.iter_content(_CHUNK):
        chunks.append(chunk)
        if time.monotonic() > end:
            raise TimeoutError("the attempt's deadline has passed while reading the body")
    return b"".join(chunks)


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
    """True only when the request surely never left: no connection, or no TLS session.

    Anything else (a reset, a bad status line, an SSL error after the handshake)
    may have happened after the server got the request, so it is not reported
    as a connect failure.
    """
    for cause in _causes(exc):
        if isinstance(
            cause,
            urllib3.exceptions.NewConnectionError
            | urllib3.exceptions.ClosedPoolError
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

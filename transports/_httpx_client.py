"""A user's httpx or httpx2 client: the one place that looks inside it.

``HttpxTransport(client)`` sends through the client as it is configured
(proxies, mTLS, event hooks, headers, mounts). Two promises need more than
httpx's public API offers: that every attempt ends by its deadline even
while the server drips the response head, and that a forked child never
reuses the parent's connections. Both need the client's connection pools,
which httpx keeps on its transports: ``client._transport`` and
``client._mounts`` hold transports, an ``HTTPTransport`` keeps its httpcore
pool as ``_pool``, and a pool opens connections through
``_network_backend``. That path is the same in httpx 0.27-0.28 and httpx2
2.x; the conformance and fork tests run against both and fail if it moves.

What is done with it, once, when the transport is created:

* a blocking pool's network backend is wrapped in :mod:`._deadline`'s, which
  bounds each socket operation by the SDK's attempt deadline (there is none
  outside an SDK call, so the client's other requests are unaffected) and
  refuses connections from another process; in a forked child the pools'
  connections are closed without I/O (:func:`close_connections`);
* an async pool on httpcore's default backend gets the SDK's
  :class:`._sockets.SocketBackend` instead: plain sockets, the same TCP and
  TLS, bounded by the deadline, and closable without the event loop that
  opened them, so connections of an ended loop (or of the parent process)
  are closed when the client is next used elsewhere. An async pool on a
  custom backend is wrapped like a blocking one.

A client built some other way (a mock transport, a custom one) is used as
is: its body is still cut off at the deadline, between chunks.

One more promise reaches one level further, for the transports' own pools
and a user's client alike: a connection that read bytes past the end of a
response is never reused (:func:`retire_if_read_past_end`).
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any

from ._deadline import AsyncDeadlineBackend, DeadlineBackend
from ._runtime import imported
from ._sockets import SocketBackend

__all__ = [
    "Library",
    "close_connections",
    "library_of",
    "pools_of",
    "retire_if_read_past_end",
    "take_over_network",
]


class Library:
    """httpx or httpx2, with the httpcore it runs on and what its exceptions mean."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module
        self.core: ModuleType = importlib.import_module(
            "httpcore" if module.__name__ == "httpx" else "httpcore2"
        )
        core = self.core
        # (timed out, could not connect, broke): a proxy that refused the tunnel
        # never passed the request on, so it counts as a failed connect.
        self.timeouts = (module.TimeoutException, core.TimeoutException)
        self.connect = (
            module.ConnectError,
            module.ProxyError,
            module.UnsupportedProtocol,
            core.ConnectError,
            core.ProxyError,
        )
        self.broken = (
            module.NetworkError,
            module.ProtocolError,
            module.DecodingError,
            core.NetworkError,
            core.ProtocolError,
            OSError,
        )


def library_of(client: object, *, asynchronous: bool) -> Library:
    """httpx or httpx2, whichever ``client`` comes from; TypeError for anything else."""
    kind = "AsyncClient" if asynchronous else "Client"
    for name in ("httpx", "httpx2"):
        # A client of a library implies it is imported; the other may be half imported.
        cls = imported(name, kind)
        if cls is not None and isinstance(client, cls):
            return Library(sys.modules[name])
    other = "Client" if asynchronous else "AsyncClient"
    for name in ("httpx", "httpx2"):
        cls = imported(name, other)
        if cls is not None and isinstance(client, cls):
            transport = "HttpxTransport" if other == "Client" else "AsyncHttpxTransport"
            raise TypeError(f"an {name}.{other} goes with {transport}, not this transport")
    raise TypeError(
        f"client must be an httpx.{kind} or an httpx2.{kind}, got {type(client).__name__}"
    )


def pools_of(client: Any) -> list[Any]:
    """The httpcore (or httpcore2) connection pools inside ``client``, if it has any we know."""
    transports = [getattr(client, "_transport", None), *getattr(client, "_mounts", {}).values()]
    pools = []
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        if pool is not None and hasattr(pool, "_network_backend") and pool not in pools:
            pools.append(pool)
    return pools


def take_over_network(
    client: Any, library: Library, *, asynchronous: bool
) -> tuple[list[SocketBackend], bool]:
    """Route every connection the client's pools open from now on through the SDK's backends.

    Returns the socket backends installed (to close an ended loop's sockets)
    and whether every transport of the client has a pool that is now covered
    (False for a mock or custom transport, which needs checking from outside).
    """
    installed: list[SocketBackend] = []
    pools = pools_of(client)
    for pool in pools:
        backend = pool._network_backend
        if isinstance(backend, SocketBackend | AsyncDeadlineBackend | DeadlineBackend):
            continue  # another transport over the same client got there first
        if not asynchronous:
            pool._network_backend = DeadlineBackend(backend, library.core)
        elif type(backend).__name__ == "AutoBackend":  # httpcore's default: anyio or trio
            pool._network_backend = SocketBackend(library.core)
            installed.append(pool._network_backend)
        else:
            pool._network_backend = AsyncDeadlineBackend(backend, library.core)
    transports = [getattr(client, "_transport", None), *getattr(client, "_mounts", {}).values()]
    return installed, len(pools) == len([t for t in transports if t is not None])


def close_connections(pool: Any) -> None:
    """Close every connection of a blocking httpcore pool: its sockets, with no I/O.

    In a forked child this leaves the parent's connections open and working;
    the pool drops the closed ones the next time it is used.
    """
    for connection in pool.connections:
        connection.close()


def retire_if_read_past_end(stream: object) -> None:
    """Keep the connection that read a whole response out of the pool if it read past its end.

    Bytes behind a response, in the same read, were sent unasked: a 408
    before an idle timeout, or a hostile server's answer to a request not
    yet made. h11 keeps them, the socket shows nothing, and the next request
    on that connection would take them for its own answer. ``stream`` is the
    response's byte stream: httpx's wrappers (``_stream``,
    ``_httpcore_stream``) around httpcore's pool stream (``_stream``) around
    the HTTP/1.1 connection's (``_connection``), whose h11 state is
    ``_h11_state``. Marking that state failed makes httpcore close the
    connection when the response is closed, instead of pooling it. The same
    layout in httpcore 1.x and httpcore2; the conformance suite runs against
    both. A stream without it (HTTP/2, a mock transport) is left alone.
    """
    for _ in range(5):
        connection = getattr(stream, "_connection", None)
        if connection is not None:
            state = getattr(connection, "_h11_state", None)
            if state is not None and state.trailing_data[0]:
                state.send_failed()
            return
        stream = getattr(stream, "_stream", None) or getattr(stream, "_httpcore_stream", None)

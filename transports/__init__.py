"""Transports: move one request's bytes and map the library's failures, nothing more.

A transport never retries, sleeps, reads a status code or parses JSON: the
sans-IO core decides all of that, so every transport behaves the same. To
write one for another runtime, implement :class:`Transport` (or
:class:`AsyncTransport`) to this contract.

Sending
    ``request.headers`` is the whole header block, framing included (``Host``
    first, ``Content-Length`` exactly when the core decided one): write the
    headers as they are and the body (``request.body``, None for none) as it
    is; add and recompute nothing. Tell your library not to follow
    redirects, not to apply its own auth, cookies or default headers, and not
    to retry.

Receiving
    Return ``Response(status, headers, body)`` with the body exactly as it
    came off the wire: never decoded (the core undoes ``Content-Encoding``,
    under the size cap). Skip interim ``1xx`` responses (``100 Continue``,
    ``103 Early Hints``) and return the final one; a ``101 Switching
    Protocols`` nobody asked for is a :class:`ConnectionBroken`.

Limits
    ``timeout`` bounds the **whole** attempt: connecting, the TLS handshake,
    sending, the response head and the entire body, however slowly or
    endlessly the server sends. Most libraries time each socket operation
    instead; keep a deadline and give each operation only what is left of
    it; and do the slow set-up (a TLS context, which loads the CA bundle)
    when the transport is made, not in an attempt, whose time is for the
    network. ``request.max_response_bytes`` bounds the body: when the
    ``Content-Length`` is larger, or the bytes read so far become larger,
    stop reading, close the connection and raise :class:`ResponseTooLarge`
    (the core fails the call with ``code == "response_too_large"``); never
    buffer more than one read past it.

Failures
    Raise one of the core's failures ``from`` the library's exception, so the
    original stays visible as ``__cause__``:

    * :class:`ConnectFailed` - the connection (or the proxy's tunnel) could
      not be made: the request surely never left;
    * :class:`AttemptTimedOut` - the whole attempt outlived its ``timeout``;
    * :class:`ConnectionBroken` - the connection broke or the reply was not
      HTTP, after the request may have landed;
    * :class:`ResponseTooLarge` - see Limits.

    Anything else a transport raises is turned into a
    ``PostStackConnectionError`` by the drivers (and retried as a broken
    connection), so no other exception reaches the caller; do not rely on it.

Connections
    A connection that ended in any failure is closed, never reused. A
    connection belongs to the process, and the event loop, that opened it:
    in a forked child (``os.register_at_fork``, or a pid check) close your
    copies of the inherited sockets without writing to them (no TLS
    goodbye, no ``shutdown()``, which would end the parent's connection too)
    and open new ones; an async transport used from a new event loop (the
    next ``asyncio.run()``, or trio after asyncio) opens new connections and
    drops the old loop's, without awaiting anything on them.

Environment
    With ``trust_env`` (the default), honour the proxy and CA variables as
    :class:`Environment` reads them: ``Environment.from_environ()`` once, then
    ``proxy_for(scheme, host, port)`` for each origin (a :class:`Proxy`, or
    None) and ``ssl_context()``. Plain ``http://`` requests go to the proxy
    with their whole URL as the target; ``https://`` ones through an HTTP
    ``CONNECT`` tunnel.

Transport modules (``poststack.transports.httpx`` …) are imported on first use,
so ``import poststack`` does not pay for HTTP libraries it may never use.
"""

from __future__ import annotations

from typing import Protocol

from poststack_core import (
    AttemptTimedOut,
    ConnectFailed,
    ConnectionBroken,
    Request,
    Response,
    ResponseTooLarge,
    TransportFailure,
)

from ._environment import Environment, Proxy

# Tracebacks, reprs and pickles name the public module.
Environment.__module__ = Proxy.__module__ = __name__

__all__ = [
    "AsyncTransport",
    "AttemptTimedOut",
    "ConnectFailed",
    "ConnectionBroken",
    "Environment",
    "Proxy",
    "Request",
    "Response",
    "ResponseTooLarge",
    "Transport",
    "TransportFailure",
]


class Transport(Protocol):
    """A blocking transport, shared by every thread of one client."""

    def send(self, request: Request, timeout: float) -> Response:
        """Send ``request``; return the whole response within ``timeout`` seconds.

        Raise a :class:`TransportFailure` subclass when no whole response came back.
        """
        ...

    def close(self) -> None:
        """Close every connection the transport opened."""
        ...


class AsyncTransport(Protocol):
    """A transport for ``async`` code, shared by every task of one client."""

    async def send(self, request: Request, timeout: float) -> Response:
        """Send ``request``; return the whole response within ``timeout`` seconds."""
        ...

    async def aclose(self) -> None:
        """Close every connection the transport opened."""
        ...


def _show_public_module() -> None:
    # Classes defined in this package's private modules show the module callers import
    # them from (poststack.transports.Environment), as poststack and poststack_core do.
    for name in __all__:
        public = globals()[name]
        if isinstance(public, type) and public.__module__.startswith(f"{__name__}._"):
            public.__module__ = __name__


_show_public_module()
del _show_public_module

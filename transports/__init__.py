"""Transports: move one request's bytes and map the library's failures, nothing more.

A transport never retries, sleeps, reads a status code or parses JSON: the
sans-IO core decides all of that, so every transport behaves the same. To
write one for another runtime, implement :class:`Transport` (or
:class:`AsyncTransport`) and raise the core's failures ``from`` your
library's exceptions:

* :class:`ConnectFailed` - the connection could not be made (nothing was sent);
* :class:`AttemptTimedOut` - the whole attempt outlived its ``timeout``;
* :class:`ConnectionBroken` - the connection broke or the reply was not HTTP.

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
    TransportFailure,
)

__all__ = [
    "AsyncTransport",
    "AttemptTimedOut",
    "ConnectFailed",
    "ConnectionBroken",
    "Request",
    "Response",
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

    def close(self) -> None: ...


class AsyncTransport(Protocol):
    """A transport for ``async`` code, shared by every task of one client."""

    async def send(self, request: Request, timeout: float) -> Response: ...

    async def aclose(self) -> None: ...

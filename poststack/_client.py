"""PostStack and AsyncPostStack: configuration, transports, and running calls."""

from __future__ import annotations

import os
import threading
from types import TracebackType
from typing import Generic, TypeVar

from poststack_core import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    Async,
    Binder,
    ClientConfig,
    Mode,
    Pacing,
    RetryPolicy,
    Sync,
)
from poststack_core.endpoints import Resources

from ._driving import Awaiting, Blocking
from ._version import __version__
from .transports import AsyncTransport, Environment, Transport

T = TypeVar("T", Transport, AsyncTransport)

USER_AGENT = f"poststack-python/{__version__}"
_CLOSED = "this {} client is closed: it sends nothing more (create a new one)"


_FLAGS = {"1": True, "true": True, "yes": True, "on": True}
_FLAGS.update({"0": False, "false": False, "no": False, "off": False})


def parse_flag(value: object, what: str) -> bool | None:
    """A yes/no setting (``True``, ``"1"``, ``"off"`` ...), or None when it is unset or empty.

    ``what`` names the setting in the error for anything else.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _FLAGS:
        return _FLAGS[value.strip().lower()]
    raise ValueError(f"{what} must be true or false (1/0, yes/no, on/off), got {value!r}")


def _config(
    api_key: str | None,
    base_url: str | None,
    timeout: float,
    max_retries: int,
    allow_insecure_http: bool | None,
    max_response_bytes: int,
) -> ClientConfig:
    if api_key is None:
        api_key = os.environ.get("POSTSTACK_API_KEY") or None
    if api_key is None:
        raise ValueError(
            "No PostStack API key: pass PostStack(api_key='sk_...') or set POSTSTACK_API_KEY"
        )
    if base_url is None:
        base_url = os.environ.get("POSTSTACK_BASE_URL") or DEFAULT_BASE_URL
    if allow_insecure_http is None:
        allow_insecure_http = bool(
            parse_flag(
                os.environ.get("POSTSTACK_ALLOW_INSECURE_HTTP"), "$POSTSTACK_ALLOW_INSECURE_HTTP"
            )
        )
    return ClientConfig(
        api_key,
        base_url,
        timeout,
        RetryPolicy(max_retries=max_retries),
        USER_AGENT,
        allow_insecure_http,
        max_response_bytes,
    )


class _Client(Resources[Mode], Generic[Mode, T]):
    """What both clients share: arguments, configuration, the resources."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        *,
        transport: T | None = None,
        allow_insecure_http: bool | None = None,
        trust_env: bool = True,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        pacing: Pacing | None = None,
    ) -> None:
        self._config = _config(
            api_key, base_url, timeout, max_retries, allow_insecure_http, max_response_bytes
        )
        if not isinstance(trust_env, bool):
            raise TypeError("trust_env must be True or False")
        if transport is not None and not trust_env:
            raise ValueError(
                "trust_env applies to the transport the client creates; "
                "pass trust_env=False to your transport instead"
            )
        if transport is None and trust_env:
            # Read (and checked) now, so a bad proxy variable fails here, not at the
            # first call; the transport created on first use reads the same.
            Environment.from_environ()
        self._trust_env = trust_env
        if pacing is not None and not isinstance(pacing, Pacing):
            raise TypeError(f"pacing must be a Pacing, got {type(pacing).__name__}")
        self._pacing = pacing
        self._transport: T | None = transport
        self._owns_transport = transport is None
        self._closed = False
        self._lock = threading.Lock()  # guards creating and closing the sync transport
        super().__init__(self._binder())

    def _binder(self) -> Binder:
        raise NotImplementedError

    @property
    def base_url(self) -> str:
        """The API's address every request goes to (``https://api.poststack.dev``)."""
        return self._config.origin + self._config.base_path

    def __repr__(self) -> str:
        return f"<{type(self).__name__} base_url={self.base_url!r}>"


class PostStack(_Client[Sync, Transport]):
    """The blocking client. Safe to share between threads.

    ``api_key`` defaults to ``$POSTSTACK_API_KEY`` and ``base_url`` to
    ``$POSTSTACK_BASE_URL``, then ``https://api.poststack.dev``. ``timeout``
    bounds each whole attempt in seconds; ``max_retries`` (default 3, 0 turns
    retrying off) applies to 408, 429, 5xx and failed connections. The default
    transport is httpx, created on first use and closed by :meth:`close`; a
    ``transport`` you pass stays yours to close.

    ``base_url`` must be ``https://``, or plain ``http://`` to this machine
    (``localhost``, 127.0.0.0/8, ``::1``). Plain ``http://`` to another host,
    such as a sandbox container at ``http://sandbox:8025``, sends the key
    unencrypted: it needs ``allow_insecure_http=True`` (or
    ``$POSTSTACK_ALLOW_INSECURE_HTTP=1``) and a test key, never ``sk_live_``.

    The transport the client creates honours ``HTTP_PROXY``, ``HTTPS_PROXY``,
    ``ALL_PROXY``, ``NO_PROXY``, ``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` as
    httpx does; ``trust_env=False`` ignores them. A response body larger than
    ``max_response_bytes`` (default 64 MiB, compressed or decoded) fails the
    call with ``code == "response_too_large"``, and no more than that is ever
    read into memory.

    ``pacing`` (a :class:`~poststack.Pacing`) paces every request of the
    client, from all its threads, to one shared budget: your own
    ``max_rate``, and the API's ``x-ratelimit-*`` and ``Retry-After``. By
    default requests are not paced (``emails.send_many`` paces its own).

    A closed client refuses every call with a RuntimeError.
    """

    def _get_transport(self) -> Transport:
        transport = self._transport
        if transport is None:
            with self._lock:
                if self._closed:
                    raise RuntimeError(_CLOSED.format("PostStack"))
                if self._transport is None:
                    from .transports.httpx import HttpxTransport

                    self._transport = HttpxTransport(trust_env=self._trust_env)
                transport = self._transport
        return transport

    def _binder(self) -> Binder:
        return Blocking(self._config, self._get_transport, self, self._pacing)

    def close(self) -> None:
        """Close the transport if this client created it. Idempotent."""
        with self._lock:
            self._closed = True
            transport, self._transport = self._transport, None
        if transport is not None and self._owns_transport:
            transport.close()

    def __enter__(self) -> PostStack:
        if self._closed:
            raise RuntimeError(_CLOSED.format("PostStack"))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncPostStack(_Client[Async, AsyncTransport]):
    """The async client, for asyncio and trio. Safe to share between tasks.

    Same arguments and defaults as :class:`PostStack`; use ``async with`` or
    ``await client.aclose()``. It works from one event loop after another
    (successive ``asyncio.run()`` calls, trio after asyncio): its own
    transport opens new connections in each.
    """

    def _get_transport(self) -> AsyncTransport:
        # No lock needed: nothing awaits between the check and the assignment.
        transport = self._transport
        if transport is None:
            if self._closed:
                raise RuntimeError(_CLOSED.format("AsyncPostStack"))
            from .transports.httpx import AsyncHttpxTransport

            transport = self._transport = AsyncHttpxTransport(trust_env=self._trust_env)
        return transport

    def _binder(self) -> Binder:
        return Awaiting(self._config, self._get_transport, self, self._pacing)

    async def aclose(self) -> None:
        """Close the transport if this client created it. Idempotent."""
        self._closed = True
        transport, self._transport = self._transport, None
        if transport is not None and self._owns_transport:
            await transport.aclose()

    async def __aenter__(self) -> AsyncPostStack:
        if self._closed:
            raise RuntimeError(_CLOSED.format("AsyncPostStack"))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

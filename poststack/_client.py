"""PostStack and AsyncPostStack: configuration, transports, and running calls."""

from __future__ import annotations

import copy
import os
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, Generic, TypeVar

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
    RawAsync,
    RawSync,
    RetryPolicy,
    Sync,
)
from poststack_core.endpoints import Resources

from ._driving import Awaiting, Blocking
from ._hooks import AsyncEventHooks, EventHooks, Hooks
from ._version import __version__
from .transports import AsyncTransport, Environment, Transport

T = TypeVar("T", Transport, AsyncTransport)
H = TypeVar("H", EventHooks, AsyncEventHooks)
C = TypeVar("C", bound="_Client[Any, Any, Any]")

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


class RawView(Resources[Mode]):
    """``client.with_raw_response``: the client's resources, each endpoint giving a RawResponse."""

    def __init__(self, binder: Binder, owner: object) -> None:
        super().__init__(binder)
        self._owner = owner

    def __repr__(self) -> str:
        return f"<with_raw_response of {self._owner!r}>"


class _Client(Resources[Mode], Generic[Mode, T, H]):
    """What both clients share: arguments, configuration, the resources, views."""

    # True for AsyncPostStack, which awaits what its event hooks return.
    _awaits_hooks = False

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
        event_hooks: H | None = None,
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
        hooks = Hooks.of(event_hooks, awaits=self._awaits_hooks)
        self._transport: T | None = transport
        self._owns_transport = transport is None
        self._closed = False
        self._lock = threading.Lock()  # guards creating and closing the sync transport
        self._bound = self._binder(self._get_transport, hooks)
        self._raw_view: RawView[Any] | None = None
        super().__init__(self._bound)

    def _binder(self, transport: Callable[[], T], hooks: Hooks | None) -> Blocking | Awaiting:
        raise NotImplementedError

    def _get_transport(self) -> T:
        raise NotImplementedError

    def with_options(self: C, *, event_hooks: H | None = None) -> C:
        """This client with more options for some calls: ``ps.with_options(event_hooks=...)``.

        The view shares the client's configuration, transport (connection
        pool) and pacing: it is cheap to make per call. Its ``event_hooks``
        run after the client's own, event by event. Closing the view closes
        nothing but the view, since it owns no transport; closing the client
        closes the view's transport too.
        """
        hooks = Hooks.of(event_hooks, awaits=self._awaits_hooks)
        origin = self
        view = copy.copy(self)
        view._transport = None
        view._owns_transport = False
        view._closed = False
        view._raw_view = None

        def transport() -> Any:
            if view._closed:
                raise RuntimeError(_CLOSED.format(type(view).__name__))
            return origin._bound.transport()

        view._bound = self._bound.with_hooks(hooks, view, transport)
        view._bind_resources(view._bound)
        return view

    def _bind_resources(self, binder: Binder) -> None:
        # A view's resources: built anew, bound to the view's binder (not the client's).
        super().__init__(binder)

    def _raw(self) -> RawView[Any]:
        view = self._raw_view
        if view is None:
            view = self._raw_view = RawView(self._bound.raw(), self)
        return view

    @property
    def base_url(self) -> str:
        """The API's address every request goes to (``https://api.poststack.dev``)."""
        return self._config.origin + self._config.base_path

    def __repr__(self) -> str:
        return f"<{type(self).__name__} base_url={self.base_url!r}>"


class PostStack(_Client[Sync, Transport, EventHooks]):
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

    ``event_hooks`` (``{"request": [...], "response": [...], "retry": [...],
    "error": [...]}``) are functions called with a record of each attempt
    (:class:`poststack_core.Attempt`); they observe and never change a call.
    :meth:`with_options` adds hooks for some calls only, and
    :attr:`with_raw_response` returns each endpoint's value with its
    response (status, headers, request id, rate limit, retries).

    A closed client refuses every call with a RuntimeError. A call made
    inside a running event loop (an ``async def``) blocks that loop: the
    first one warns (:class:`~poststack.EventLoopBlockingWarning`).
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

    def _binder(self, transport: Callable[[], Transport], hooks: Hooks | None) -> Blocking:
        return Blocking(self._config, transport, self, self._pacing, hooks)

    @property
    def with_raw_response(self) -> Resources[RawSync]:
        """The same resources, each endpoint returning a :class:`~poststack.RawResponse`.

        ``ps.with_raw_response.emails.send(...)`` sends as ``ps.emails.send``
        does and returns its value as ``.parsed``, with the response's
        ``status_code``, ``headers``, ``request_id``, ``rate_limit`` and the
        ``retries`` it took. Walkers (``..._all``) and ``send_many`` have no
        raw form.
        """
        view: Resources[RawSync] = self._raw()
        return view

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


class AsyncPostStack(_Client[Async, AsyncTransport, AsyncEventHooks]):
    """The async client, for asyncio and trio. Safe to share between tasks.

    Same arguments and defaults as :class:`PostStack`; use ``async with`` or
    ``await client.aclose()``. It works from one event loop after another
    (successive ``asyncio.run()`` calls, trio after asyncio): its own
    transport opens new connections in each. Its event hooks may be
    coroutine functions: it awaits them.
    """

    _awaits_hooks = True

    def _get_transport(self) -> AsyncTransport:
        # No lock needed: nothing awaits between the check and the assignment.
        transport = self._transport
        if transport is None:
            if self._closed:
                raise RuntimeError(_CLOSED.format("AsyncPostStack"))
            from .transports.httpx import AsyncHttpxTransport

            transport = self._transport = AsyncHttpxTransport(trust_env=self._trust_env)
        return transport

    def _binder(self, transport: Callable[[], AsyncTransport], hooks: Hooks | None) -> Awaiting:
        return Awaiting(self._config, transport, self, self._pacing, hooks)

    @property
    def with_raw_response(self) -> Resources[RawAsync]:
        """The same resources, each endpoint's coroutine giving a :class:`~poststack.RawResponse`.

        As :attr:`PostStack.with_raw_response`: ``await
        ps.with_raw_response.emails.send(...)``.
        """
        view: Resources[RawAsync] = self._raw()
        return view

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

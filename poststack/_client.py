"""PostStack and AsyncPostStack: configuration, transports, and running calls."""

from __future__ import annotations

import os
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

if TYPE_CHECKING:
    import inspect

from poststack_core import (
    DEFAULT_BASE_URL,
    DEFAULT_TIMEOUT,
    ClientConfig,
    Operation,
    RetryPolicy,
    validate_max_retries,
)
from poststack_core._pagination import PageWalk

from ._driving import run_async, run_sync
from ._resource import Async, Sync, wraps_build
from ._version import __version__
from .resources import Emails

if TYPE_CHECKING:
    from .transports import AsyncTransport, Transport

P = ParamSpec("P")
R = TypeVar("R")

USER_AGENT = f"poststack-python/{__version__}"


def _config(
    api_key: str | None, base_url: str | None, timeout: float, max_retries: int
) -> ClientConfig:
    if api_key is None:
        api_key = os.environ.get("POSTSTACK_API_KEY") or None
    if api_key is None:
        raise ValueError(
            "No PostStack API key: pass PostStack(api_key='sk_...') or set POSTSTACK_API_KEY"
        )
    if base_url is None:
        base_url = os.environ.get("POSTSTACK_BASE_URL") or DEFAULT_BASE_URL
    return ClientConfig(
        api_key,
        base_url,
        timeout,
        RetryPolicy(max_retries=validate_max_retries(max_retries)),
        USER_AGENT,
    )


def _signature(build: Callable[..., object]) -> inspect.Signature:
    # inspect is slow to import and only list_all needs it.
    import inspect

    return inspect.signature(build)


class PostStack:
    """The blocking client. Safe to share between threads.

    ``api_key`` defaults to ``$POSTSTACK_API_KEY`` and ``base_url`` to
    ``$POSTSTACK_BASE_URL``, then ``https://api.poststack.dev``. ``timeout``
    bounds each whole attempt in seconds; ``max_retries`` (default 3, 0 turns
    retrying off) applies to 408, 429, 5xx and failed connections. The default
    transport is httpx, created on first use and closed by :meth:`close`; a
    ``transport`` you pass stays yours to close.
    """

    emails: Emails[Sync]

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = 3,
        *,
        transport: Transport | None = None,
    ) -> None:
        self._config = _config(api_key, base_url, timeout, max_retries)
        self._transport = transport
        self._owns_transport = transport is None
        self._lock = threading.Lock()
        self._closed = False
        self.emails = Emails(self)

    @property
    def base_url(self) -> str:
        return self._config.origin + self._config.base_path

    def __repr__(self) -> str:
        return f"<PostStack base_url={self.base_url!r}>"

    def _get_transport(self) -> Transport:
        transport = self._transport
        if transport is None:
            with self._lock:
                if self._closed:
                    raise RuntimeError("this PostStack client is closed")
                if self._transport is None:
                    from .transports.httpx import HttpxTransport

                    self._transport = HttpxTransport()
                transport = self._transport
        return transport

    def _run(self, operation: Operation[R]) -> R:
        return run_sync(operation, self._config, self._get_transport())

    def _bind(self, build: Callable[P, Operation[R]]) -> Callable[P, R]:
        def method(*args: P.args, **kwargs: P.kwargs) -> R:
            return run_sync(build(*args, **kwargs), self._config, self._get_transport())

        wraps_build(build, method)
        return method

    def _bind_pages(
        self, build: Callable[..., Operation[Any]], items: str
    ) -> Callable[..., Iterator[Any]]:
        signature = _signature(build)

        def method(*args: Any, **kwargs: Any) -> Iterator[Any]:
            call = signature.bind(*args, **kwargs)
            walk = PageWalk(call.arguments.get("params"), items)
            while not walk.done:
                call.arguments["params"] = walk.params()
                yield from walk.take(self._run(build(*call.args, **call.kwargs)))

        return method

    def close(self) -> None:
        """Close the transport if this client created it. Idempotent."""
        with self._lock:
            self._closed = True
            transport, self._transport = self._transport, None
        if transport is not None and self._owns_transport:
            transport.close()

    def __enter__(self) -> PostStack:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncPostStack:
    """The async client, for asyncio and trio. Safe to share between tasks.

    Same arguments and defaults as :class:`PostStack`; use ``async with`` or
    ``await client.aclose()``.
    """

    emails: Emails[Async]

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = 3,
        *,
        transport: AsyncTransport | None = None,
    ) -> None:
        self._config = _config(api_key, base_url, timeout, max_retries)
        self._transport = transport
        self._owns_transport = transport is None
        self._closed = False
        self.emails = Emails(self)

    @property
    def base_url(self) -> str:
        return self._config.origin + self._config.base_path

    def __repr__(self) -> str:
        return f"<AsyncPostStack base_url={self.base_url!r}>"

    def _get_transport(self) -> AsyncTransport:
        # No lock needed: nothing awaits between the check and the assignment.
        transport = self._transport
        if transport is None:
            if self._closed:
                raise RuntimeError("this AsyncPostStack client is closed")
            from .transports.httpx import AsyncHttpxTransport

            transport = self._transport = AsyncHttpxTransport()
        return transport

    async def _run(self, operation: Operation[R]) -> R:
        return await run_async(operation, self._config, self._get_transport())

    def _bind(self, build: Callable[P, Operation[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
        async def method(*args: P.args, **kwargs: P.kwargs) -> R:
            return await run_async(build(*args, **kwargs), self._config, self._get_transport())

        wraps_build(build, method)
        return method

    def _bind_pages(
        self, build: Callable[..., Operation[Any]], items: str
    ) -> Callable[..., AsyncIterator[Any]]:
        signature = _signature(build)

        async def method(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            call = signature.bind(*args, **kwargs)
            walk = PageWalk(call.arguments.get("params"), items)
            while not walk.done:
                call.arguments["params"] = walk.params()
                for item in walk.take(await self._run(build(*call.args, **call.kwargs))):
                    yield item

        return method

    async def aclose(self) -> None:
        """Close the transport if this client created it. Idempotent."""
        self._closed = True
        transport, self._transport = self._transport, None
        if transport is not None and self._owns_transport:
            await transport.aclose()

    async def __aenter__(self) -> AsyncPostStack:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

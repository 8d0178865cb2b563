"""PostStack and AsyncPostStack: configuration, transports, and running calls."""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from types import TracebackType
from typing import Any, Generic, ParamSpec, TypeVar

from poststack_core import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    ClientConfig,
    Operation,
    Pacer,
    Pacing,
    Plan,
    PostStackError,
    RetryPolicy,
    SendMany,
    SendManyResult,
    validate_max_retries,
)
from poststack_core._operation import single
from poststack_core._pagination import PagedCall

from . import _bulk
from ._driving import run_async, run_sync
from ._resource import Async, Mode, Sync
from ._version import __version__
from .resources import (
    ApiKeys,
    Broadcasts,
    ContactProperties,
    Contacts,
    Domains,
    Emails,
    EmailValidations,
    InboundEmails,
    Mailboxes,
    NotificationChannels,
    Segments,
    SignupForms,
    SubscriptionTopics,
    Suppressions,
    Templates,
    Webhooks,
    Workflows,
)
from .transports import AsyncTransport, Transport

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T", Transport, AsyncTransport)

USER_AGENT = f"poststack-python/{__version__}"


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


def _env_flag(name: str) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"${name} must be 1 or 0 (true/false), got {value!r}")


def _config(
    api_key: str | None,
    base_url: str | None,
    timeout: float,
    max_retries: int,
    allow_insecure_http: bool | None,
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
        allow_insecure_http = _env_flag("POSTSTACK_ALLOW_INSECURE_HTTP")
    return ClientConfig(
        api_key,
        base_url,
        timeout,
        RetryPolicy(max_retries=validate_max_retries(max_retries)),
        USER_AGENT,
        allow_insecure_http,
    )


class _Client(Generic[Mode, T]):
    """What both clients share: arguments, configuration, the resources."""

    api_keys: ApiKeys[Mode]
    broadcasts: Broadcasts[Mode]
    contact_properties: ContactProperties[Mode]
    contacts: Contacts[Mode]
    domains: Domains[Mode]
    email_validations: EmailValidations[Mode]
    emails: Emails[Mode]
    inbound_emails: InboundEmails[Mode]
    mailboxes: Mailboxes[Mode]
    notification_channels: NotificationChannels[Mode]
    segments: Segments[Mode]
    signup_forms: SignupForms[Mode]
    subscription_topics: SubscriptionTopics[Mode]
    suppressions: Suppressions[Mode]
    templates: Templates[Mode]
    webhooks: Webhooks[Mode]
    workflows: Workflows[Mode]

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        *,
        transport: T | None = None,
        allow_insecure_http: bool | None = None,
        pacing: Pacing | None = None,
    ) -> None:
        self._config = _config(api_key, base_url, timeout, max_retries, allow_insecure_http)
        # Every request of the client books its start with this one pacer (none: unpaced).
        self._pacer = None if pacing is None else self._new_pacer(pacing)
        self._transport: T | None = transport
        self._owns_transport = transport is None
        self._closed = False
        self._lock = threading.Lock()  # guards creating and closing the sync transport
        self.api_keys = ApiKeys(self)
        self.broadcasts = Broadcasts(self)
        self.contact_properties = ContactProperties(self)
        self.contacts = Contacts(self)
        self.domains = Domains(self)
        self.email_validations = EmailValidations(self)
        self.emails = Emails(self)
        self.inbound_emails = InboundEmails(self)
        self.mailboxes = Mailboxes(self)
        self.notification_channels = NotificationChannels(self)
        self.segments = Segments(self)
        self.signup_forms = SignupForms(self)
        self.subscription_topics = SubscriptionTopics(self)
        self.suppressions = Suppressions(self)
        self.templates = Templates(self)
        self.webhooks = Webhooks(self)
        self.workflows = Workflows(self)

    @property
    def base_url(self) -> str:
        return self._config.origin + self._config.base_path

    def __repr__(self) -> str:
        return f"<{type(self).__name__} base_url={self.base_url!r}>"

    # How resources turn core definitions into methods (see poststack._resource).
    # Everything is a Plan of requests, or a walk over pages; each client says
    # once how it carries those out, blocking or awaiting: _bind_plan, _walk.

    def _bind(self, build: Callable[..., Operation[Any]]) -> Callable[..., Any]:
        # The same as the Plan of one request; PostStack and AsyncPostStack skip the Plan.
        return self._bind_plan(functools.partial(_single, build))

    def _bind_pages(self, build: Callable[..., Operation[Any]], items: str) -> Callable[..., Any]:
        walk = self._walk

        def method(*args: Any, **kwargs: Any) -> Any:
            return walk(PagedCall(build, items, args, kwargs))

        return method

    def _bind_plan(self, build: Callable[..., Plan[Any]]) -> Callable[..., Any]:
        raise NotImplementedError

    def _bind_bulk(self, build: Callable[..., SendMany]) -> Callable[..., Any]:
        raise NotImplementedError

    def _walk(self, pages: PagedCall) -> Any:
        raise NotImplementedError

    def _new_pacer(self, pacing: Pacing) -> Any:
        raise NotImplementedError

    def _bulk_pacer(self) -> _bulk.CountingPacer:
        """The client's pacer (without one, one of the run's own), counting the run's answers."""
        return _bulk.CountingPacer(self._pacer or self._new_pacer(Pacing()))


def _single(build: Callable[..., Operation[R]], *args: Any, **kwargs: Any) -> Plan[R]:
    return single(build(*args, **kwargs))


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

    ``pacing`` (a :class:`~poststack.Pacing`) paces every request of the
    client, from all its threads, to one shared budget: your own
    ``max_rate``, and the API's ``x-ratelimit-*`` and ``Retry-After``. By
    default requests are not paced (``emails.send_many`` paces its own).
    """

    def _new_pacer(self, pacing: Pacing) -> _bulk.LockedPacer:
        return _bulk.LockedPacer(Pacer(pacing, self._config.retry))

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
        return run_sync(operation, self._config, self._get_transport(), pacer=self._pacer)

    def _bind(self, build: Callable[P, Operation[R]]) -> Callable[P, R]:
        config = self._config
        get_transport = self._get_transport
        pacer = self._pacer

        def method(*args: P.args, **kwargs: P.kwargs) -> R:
            return run_sync(build(*args, **kwargs), config, get_transport(), pacer=pacer)

        return method

    def _bind_bulk(self, build: Callable[P, SendMany]) -> Callable[P, SendManyResult]:
        def method(*args: P.args, **kwargs: P.kwargs) -> SendManyResult:
            job = build(*args, **kwargs)
            config, transport, pacer = self._config, self._get_transport(), self._bulk_pacer()

            def send(operation: Operation[Any]) -> Any:
                return run_sync(operation, config, transport, pacer=pacer)

            return _bulk.run_sync(job, send, pacer)

        return method

    def _bind_plan(self, build: Callable[P, Plan[R]]) -> Callable[P, R]:
        def method(*args: P.args, **kwargs: P.kwargs) -> R:
            plan = build(*args, **kwargs)
            results: list[Any] = []
            try:
                for operation in plan.operations:
                    results.append(self._run(operation))
            except PostStackError as error:
                failure = plan.failure(results, error)
                if failure is error:
                    raise
                raise failure from error
            return plan.combine(results)

        return method

    def _walk(self, pages: PagedCall) -> Iterator[Any]:
        while not pages.done:
            yield from pages.take(self._run(pages.operation()))

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


class AsyncPostStack(_Client[Async, AsyncTransport]):
    """The async client, for asyncio and trio. Safe to share between tasks.

    Same arguments and defaults as :class:`PostStack`; use ``async with`` or
    ``await client.aclose()``.
    """

    def _new_pacer(self, pacing: Pacing) -> Pacer:
        # Tasks of one event loop never interleave inside a call: no lock needed.
        return Pacer(pacing, self._config.retry)

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
        return await run_async(operation, self._config, self._get_transport(), pacer=self._pacer)

    def _bind(self, build: Callable[P, Operation[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
        config = self._config
        get_transport = self._get_transport
        pacer = self._pacer

        async def method(*args: P.args, **kwargs: P.kwargs) -> R:
            return await run_async(build(*args, **kwargs), config, get_transport(), pacer=pacer)

        return method

    def _bind_bulk(
        self, build: Callable[P, SendMany]
    ) -> Callable[P, Coroutine[Any, Any, SendManyResult]]:
        async def method(*args: P.args, **kwargs: P.kwargs) -> SendManyResult:
            job = build(*args, **kwargs)
            config, transport, pacer = self._config, self._get_transport(), self._bulk_pacer()

            async def send(operation: Operation[Any]) -> Any:
                return await run_async(operation, config, transport, pacer=pacer)

            return await _bulk.run_async(job, send, pacer)

        return method

    async def _walk(self, pages: PagedCall) -> AsyncIterator[Any]:
        while not pages.done:
            for item in pages.take(await self._run(pages.operation())):
                yield item

    def _bind_plan(self, build: Callable[P, Plan[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
        async def method(*args: P.args, **kwargs: P.kwargs) -> R:
            plan = build(*args, **kwargs)
            results: list[Any] = []
            try:
                for operation in plan.operations:
                    results.append(await self._run(operation))
            except PostStackError as error:
                failure = plan.failure(results, error)
                if failure is error:
                    raise
                raise failure from error
            return plan.combine(results)

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

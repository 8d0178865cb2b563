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
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    ClientConfig,
    Operation,
    Plan,
    PostStackError,
    RetryPolicy,
    validate_max_retries,
)
from poststack_core._operation import single
from poststack_core._pagination import PagedCall

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
from .transports import AsyncTransport, Environment, Transport

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T", Transport, AsyncTransport)

USER_AGENT = f"poststack-python/{__version__}"
_CLOSED = "this {} client is closed: it sends nothing more (create a new one)"


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
        allow_insecure_http = _env_flag("POSTSTACK_ALLOW_INSECURE_HTTP")
    return ClientConfig(
        api_key,
        base_url,
        timeout,
        RetryPolicy(max_retries=validate_max_retries(max_retries)),
        USER_AGENT,
        allow_insecure_http,
        max_response_bytes,
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
        trust_env: bool = True,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
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

    def _walk(self, pages: PagedCall) -> Any:
        raise NotImplementedError


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

    The transport the client creates honours ``HTTP_PROXY``, ``HTTPS_PROXY``,
    ``ALL_PROXY``, ``NO_PROXY``, ``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` as
    httpx does; ``trust_env=False`` ignores them. A response body larger than
    ``max_response_bytes`` (default 64 MiB, compressed or decoded) fails the
    call with ``code == "response_too_large"``, and no more than that is ever
    read into memory.

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

    def _run(self, operation: Operation[R]) -> R:
        return run_sync(operation, self._config, self._get_transport())

    def _bind(self, build: Callable[P, Operation[R]]) -> Callable[P, R]:
        config = self._config
        get_transport = self._get_transport

        def method(*args: P.args, **kwargs: P.kwargs) -> R:
            return run_sync(build(*args, **kwargs), config, get_transport())

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

    async def _run(self, operation: Operation[R]) -> R:
        return await run_async(operation, self._config, self._get_transport())

    def _bind(self, build: Callable[P, Operation[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
        config = self._config
        get_transport = self._get_transport

        async def method(*args: P.args, **kwargs: P.kwargs) -> R:
            return await run_async(build(*args, **kwargs), config, get_transport())

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

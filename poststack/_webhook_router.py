"""``WebhookRouter``: verify a delivery, skip redeliveries, run the handlers for its type.

Every framework integration (Django, Flask, Starlette, FastAPI) is a few lines
around :meth:`WebhookRouter.handle` or :meth:`WebhookRouter.handle_async`:
they read the raw body and the headers, and turn the :class:`WebhookResponse`
into the framework's response. What happens in between is decided here, once:

1. a body over ``max_body_size`` is answered 413;
2. the signature is checked against the raw bytes (401 when it is missing or
   wrong, 400 when a signed body is not a JSON object), before anything is
   parsed or stored;
3. the event's key (its ``id``, else the ``X-PostStack-Delivery`` header) is
   claimed in the store: a redelivery of a handled event is answered 200
   without running a handler, one still being handled elsewhere 409;
4. the handlers registered for the event's type run in order (the catch-all
   ones when there are none for it); sync and async handlers alike;
5. success is recorded and answered 200; a handler's exception releases the
   claim and propagates, so the framework answers 500 and PostStack retries.
"""

from __future__ import annotations

import inspect
import logging
import os
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from poststack_core import (
    SIGNATURE_HEADER,
    TRACKING_EVENT_TYPES,
    Event,
    Secret,
    WebhookPayloadError,
    WebhookVerificationError,
    check_secrets,
    construct_event,
)

from ._event_store import Claim, EventStore, MemoryEventStore

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "DELIVERY_HEADER",
    "WEBHOOK_SECRET_ENV",
    "Handler",
    "WebhookResponse",
    "WebhookRouter",
    "header_value",
    "resolve_secrets",
]

_logger = logging.getLogger("poststack.webhooks")

WEBHOOK_SECRET_ENV = "POSTSTACK_WEBHOOK_SECRET"
DELIVERY_HEADER = "X-PostStack-Delivery"
DEFAULT_MAX_BODY_SIZE = 5 * 1024 * 1024

Handler = Callable[[Event], object]
"""``handler(event)``: a function or a coroutine function; its return value is ignored."""
# A handler may annotate its argument with the types it is registered for
# (``def bounced(event: BouncedEvent)``), narrower than Event: the router sends it
# only those, which no signature can say.
_H = TypeVar("_H", bound=Callable[..., object])

_NAME = re.compile(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*")
_TRACKING = frozenset(TRACKING_EVENT_TYPES)


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    """A request header by name, case-insensitively, from any mapping of headers."""
    value = headers.get(name)
    if value is not None:
        return value
    wanted = name.lower()
    for key, found in headers.items():
        if isinstance(key, str) and key.lower() == wanted:
            return found
    return None


def resolve_secrets(secret: Secret | None) -> tuple[str, ...]:
    """The secrets to check: ``secret`` itself, else ``$POSTSTACK_WEBHOOK_SECRET``.

    The variable may hold several secrets separated by commas (during a
    rotation). None configured anywhere is a RuntimeError: a webhook endpoint
    that cannot verify must fail loudly, never accept.
    """
    if secret is not None:
        return check_secrets(secret)
    value = os.environ.get(WEBHOOK_SECRET_ENV, "")
    found = [part.strip() for part in value.split(",") if part.strip()]
    if not found:
        raise RuntimeError(
            f"no webhook signing secret: pass secret=... or set ${WEBHOOK_SECRET_ENV}"
        )
    return tuple(found)


@dataclass(frozen=True, slots=True)
class WebhookResponse:
    """What to answer a delivery: a status and a small JSON body.

    ``event`` is the verified event (``None`` when the request was refused);
    ``duplicate`` is True when it had been handled before and no handler ran.
    """

    status: int
    body: dict[str, Any]
    event: Event | None = None
    duplicate: bool = False


def _refused(status: int, detail: str) -> WebhookResponse:
    return WebhookResponse(status, {"detail": detail})


@dataclass(slots=True)
class _Delivery:
    """One verified event on its way through the handlers."""

    event: Event
    key: str | None
    handlers: list[Handler]
    store: EventStore | None = field(repr=False)

    def done(self) -> WebhookResponse:
        if self.store is not None and self.key is not None:
            self.store.finish(self.key)
        return WebhookResponse(200, {"received": True}, self.event)

    def failed(self) -> None:
        if self.store is not None and self.key is not None:
            self.store.release(self.key)


class _Default:
    def __repr__(self) -> str:
        return "<a MemoryEventStore>"


_DEFAULT_STORE: Any = _Default()


class WebhookRouter:
    """Routes verified PostStack webhook events to the handlers for their type.

    ::

        router = WebhookRouter(secret="whsec_...")

        @router.on("email.bounced", "email.complained")
        def stop_mailing(event: Event) -> None:
            ...

        @router.catch_all
        async def log_the_rest(event: Event) -> None:
            ...

    - ``secret``: the signing secret, or a list of secrets (the new and the old
      one while you rotate); ``None`` reads ``$POSTSTACK_WEBHOOK_SECRET`` on
      each request. Integrations may pass a secret per request instead.
    - ``store``: where handled events are remembered, so a redelivery runs no
      handler twice (a :class:`~poststack.webhooks.MemoryEventStore` by
      default; ``None`` turns de-duplication off).
    - ``max_body_size``: larger bodies are refused with 413 (default 5 MiB).
    """

    def __init__(
        self,
        secret: Secret | None = None,
        *,
        store: EventStore | None = _DEFAULT_STORE,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    ) -> None:
        self._secret = check_secrets(secret) if secret is not None else None
        if isinstance(max_body_size, bool) or not isinstance(max_body_size, int):
            raise TypeError(f"max_body_size must be an int, got {type(max_body_size).__name__}")
        if max_body_size < 1:
            raise ValueError(f"max_body_size must be at least 1 byte, got {max_body_size}")
        self.max_body_size = max_body_size
        if store is _DEFAULT_STORE:
            store = MemoryEventStore()
        elif store is not None and not all(
            callable(getattr(store, name, None)) for name in ("claim", "finish", "release")
        ):
            raise TypeError(
                "store must be an EventStore (with claim, finish and release) or None, "
                f"got {type(store).__name__}"
            )
        self.store: EventStore | None = store
        self._handlers: dict[str, list[Handler]] = {}
        self._catch_all: list[Handler] = []

    def __repr__(self) -> str:
        names = sorted(self._handlers)
        return f"<WebhookRouter handling {names} (+{len(self._catch_all)} catch-all)>"

    # -- registration --

    def on(self, *names: str) -> Callable[[_H], _H]:
        """Register a handler for events of these types (``"email.bounced"``, …).

        Email types must be one of the API's (a misspelt one would never fire);
        other ``namespace.name`` types (``contact.created``) are taken as
        given: they arrive as :class:`UnknownEvent`. Several handlers for one
        type run in the order registered. The handler may annotate its
        argument with exactly these types (``event: BouncedEvent``).
        """
        if not names:
            raise TypeError("on() needs at least one event type; use catch_all for every event")
        for name in names:
            if not isinstance(name, str) or not _NAME.fullmatch(name):
                raise ValueError(f"{name!r} is not an event type like 'email.delivered'")
            if name.startswith("email.") and name not in _TRACKING:
                known = ", ".join(TRACKING_EVENT_TYPES)
                raise ValueError(f"{name!r} is not an email event type; they are: {known}")

        def register(handler: _H) -> _H:
            _check_handler(handler)
            for name in names:
                self._handlers.setdefault(name, []).append(cast(Handler, handler))
            return handler

        return register

    def catch_all(self, handler: _H) -> _H:
        """Register a handler for every event no :meth:`on` handler is registered for."""
        _check_handler(handler)
        self._catch_all.append(cast(Handler, handler))
        return handler

    def handlers_for(self, event: Event) -> list[Handler]:
        """The handlers an event goes to, in the order they run."""
        name = event["name"] if event["type"] == "unknown" else event["type"]
        specific = self._handlers.get(name) if name is not None else None
        return list(specific or self._catch_all)

    # -- handling --

    def handle(
        self, body: bytes, headers: Mapping[str, str], *, secret: Secret | None = None
    ) -> WebhookResponse:
        """Handle one delivery in sync code; async handlers run in a new event loop."""
        delivery = self._begin(body, headers, secret)
        if isinstance(delivery, WebhookResponse):
            return delivery
        try:
            for handler in delivery.handlers:
                outcome = handler(delivery.event)
                if inspect.isawaitable(outcome):
                    _run_to_completion(outcome)
        except BaseException:
            delivery.failed()
            raise
        return delivery.done()

    async def handle_async(
        self,
        body: bytes,
        headers: Mapping[str, str],
        *,
        secret: Secret | None = None,
        run_sync: Callable[[Callable[[], object]], Awaitable[object]] | None = None,
    ) -> WebhookResponse:
        """Handle one delivery in async code (asyncio or trio).

        Sync handlers are called directly, unless ``run_sync`` is given: an
        integration passes its framework's thread offloading (Starlette's
        ``run_in_threadpool``) so a blocking handler does not stall the loop.
        """
        delivery = self._begin(body, headers, secret)
        if isinstance(delivery, WebhookResponse):
            return delivery
        try:
            for handler in delivery.handlers:
                if run_sync is not None and not _is_async(handler):
                    outcome = await run_sync(_bind(handler, delivery.event))
                else:
                    outcome = handler(delivery.event)
                if inspect.isawaitable(outcome):
                    await outcome
        except BaseException:
            delivery.failed()
            raise
        return delivery.done()

    def _begin(
        self, body: bytes, headers: Mapping[str, str], secret: Secret | None
    ) -> WebhookResponse | _Delivery:
        """Steps 1 to 3: an answer for a refused or repeated delivery, else the work to do."""
        if not isinstance(body, (bytes, bytearray, memoryview)):
            raise TypeError(f"body must be the raw request bytes, got {type(body).__name__}")
        if len(body) > self.max_body_size:
            return _refused(413, "Webhook body too large")
        secrets = resolve_secrets(secret if secret is not None else self._secret)
        signature = header_value(headers, SIGNATURE_HEADER)
        if signature is None:
            _logger.warning("refused a webhook delivery: no %s header", SIGNATURE_HEADER)
            return _refused(401, f"Missing {SIGNATURE_HEADER} header")
        try:
            event = construct_event(bytes(body), signature, secrets)
        except WebhookPayloadError:
            _logger.warning("refused a webhook delivery: signed, but not a JSON object")
            return _refused(400, "Webhook body is not a JSON object")
        except WebhookVerificationError:
            _logger.warning("refused a webhook delivery: the signature does not match")
            return _refused(401, "Invalid webhook signature")
        key = _dedupe_key(event, headers)
        store = self.store if key is not None else None
        if store is not None and key is not None:
            claim = store.claim(key)
            if claim is Claim.DONE:
                _logger.info("webhook event %s was handled before: not again", key)
                answer = {"received": True, "duplicate": True}
                return WebhookResponse(200, answer, event, duplicate=True)
            if claim is Claim.IN_PROGRESS:
                _logger.info("webhook event %s is being handled: asking for a retry", key)
                return _refused(409, "This event is being handled; deliver it again later")
        return _Delivery(event, key, self.handlers_for(event), store)


def _dedupe_key(event: Event, headers: Mapping[str, str]) -> str | None:
    """What identifies the event across its deliveries (see the module's docstring).

    The event id survives retries and replays; the delivery id (a sandbox
    header) only retries. Without either, every delivery is handled.
    """
    if event["id"] is not None:
        return f"event:{event['id']}"
    delivery = header_value(headers, DELIVERY_HEADER)
    return f"delivery:{delivery.strip()}" if delivery and delivery.strip() else None


def _check_handler(handler: object) -> None:
    if not callable(handler):
        raise TypeError(f"a webhook handler must be callable, got {type(handler).__name__}")


def _is_async(handler: Handler) -> bool:
    return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
        getattr(handler, "__call__", None)  # noqa: B004 - an async __call__ counts too
    )


def _bind(handler: Handler, event: Event) -> Callable[[], object]:
    return lambda: handler(event)


def _run_to_completion(awaitable: Awaitable[object]) -> None:
    """Run an async handler's awaitable from sync code, in an event loop of its own."""
    import asyncio  # only when an async handler meets sync code: it costs 20 ms to import

    async def wait() -> None:
        await awaitable

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(wait())
        return
    if inspect.iscoroutine(awaitable):
        awaitable.close()  # it will never run: say so here, not in a "never awaited" warning
    raise RuntimeError(
        "an async webhook handler cannot run from sync code inside an event loop: "
        "use `await router.handle_async(...)`"
    )

"""Starlette: one AsyncPostStack per app, and verified webhook endpoints.

::

    from starlette.applications import Starlette
    from poststack.contrib.starlette import lifespan, webhook_route
    from poststack.webhooks import Event, WebhookRouter

    router = WebhookRouter()    # $POSTSTACK_WEBHOOK_SECRET

    @router.on("email.bounced")
    async def bounced(event: Event) -> None:
        ...

    app = Starlette(
        lifespan=lifespan(),    # AsyncPostStack() from $POSTSTACK_API_KEY, closed at shutdown
        routes=[webhook_route(router)],   # POST /webhooks/poststack
    )

``webhook_endpoint(handler)`` is the lower-level piece: one handler for every
verified event, without de-duplication. ``poststack.contrib.fastapi`` builds
FastAPI dependencies and routers on these.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from poststack import AsyncPostStack, WebhookVerificationError
from poststack.webhooks import (
    DEFAULT_MAX_BODY_SIZE,
    WEBHOOK_SECRET_ENV,
    Event,
    Secret,
    WebhookRouter,
)
from poststack_core import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, check_secrets

if TYPE_CHECKING:
    from poststack.transports import AsyncTransport

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "DEFAULT_WEBHOOK_PATH",
    "STATE_KEY",
    "WEBHOOK_SECRET_ENV",
    "WebhookRejected",
    "client_lifespan",
    "get_client",
    "lifespan",
    "router_endpoint",
    "verified_event",
    "webhook_endpoint",
    "webhook_route",
]

STATE_KEY = "poststack"
DEFAULT_WEBHOOK_PATH = "/webhooks/poststack"

WebhookHandler = Callable[[Event, Request], Awaitable[Response | None]]


@asynccontextmanager
async def client_lifespan(
    app: Starlette,
    api_key: str | None = None,
    base_url: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_retries: int = DEFAULT_MAX_RETRIES,
    *,
    transport: AsyncTransport | None = None,
) -> AsyncGenerator[AsyncPostStack, None]:
    """Create the app's ``AsyncPostStack`` (``app.state.poststack``); close it on exit.

    Use it inside a lifespan of your own::

        @asynccontextmanager
        async def my_lifespan(app):
            async with client_lifespan(app), other_resource():
                yield
    """
    async with AsyncPostStack(
        api_key, base_url, timeout, max_retries, transport=transport
    ) as client:
        setattr(app.state, STATE_KEY, client)
        try:
            yield client
        finally:
            delattr(app.state, STATE_KEY)


def lifespan(
    api_key: str | None = None,
    base_url: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_retries: int = DEFAULT_MAX_RETRIES,
    *,
    transport: AsyncTransport | None = None,
) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    """A ``lifespan=`` for ``Starlette(...)`` / ``FastAPI(...)`` that runs :func:`client_lifespan`.

    The arguments are those of :class:`~poststack.AsyncPostStack`: by default the
    key comes from ``$POSTSTACK_API_KEY``, read at startup.
    """

    @asynccontextmanager
    async def run(app: Starlette) -> AsyncGenerator[None, None]:
        async with client_lifespan(
            app, api_key, base_url, timeout, max_retries, transport=transport
        ):
            yield

    return run


def get_client(request: Request) -> AsyncPostStack:
    """The app's client, created by :func:`lifespan` / :func:`client_lifespan`."""
    client = getattr(request.app.state, STATE_KEY, None)
    if not isinstance(client, AsyncPostStack):
        raise RuntimeError(
            "no PostStack client on this app: create the app with "
            "lifespan=poststack.contrib.starlette.lifespan() (or use client_lifespan in yours)"
        )
    return client


class WebhookRejected(WebhookVerificationError):
    """A webhook request that must not be processed; ``status_code`` says how to answer.

    401: the signature is missing or wrong; 400: the signed body is not a JSON
    object; 413: the body is larger than allowed.
    """

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail


async def _read_body(request: Request, max_body_size: int) -> bytes:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit():
        if int(length) > max_body_size:
            raise WebhookRejected(413, "Webhook body too large")
        return await request.body()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_body_size:
            raise WebhookRejected(413, "Webhook body too large")
        chunks.append(chunk)
    return b"".join(chunks)


async def verified_event(
    request: Request,
    secret: Secret | None = None,
    *,
    max_body_size: int = DEFAULT_MAX_BODY_SIZE,
) -> Event:
    """Read the raw body, check ``X-PostStack-Signature``, and return the typed event.

    ``secret`` is the webhook's signing secret (``signingSecret`` from
    ``webhooks.create``), several secrets (any one may match), or ``None`` to
    read ``$POSTSTACK_WEBHOOK_SECRET`` on each request. Raises
    :class:`WebhookRejected` with the status to answer. This only verifies:
    :func:`webhook_route` also skips redeliveries.
    """
    body = await _read_body(request, max_body_size)
    # A router without handlers or store: the one place that decides what to refuse.
    checker = WebhookRouter(store=None, max_body_size=max_body_size)
    result = checker.handle(body, request.headers, secret=secret)
    if result.event is None:
        raise WebhookRejected(result.status, str(result.body["detail"]))
    return result.event


def webhook_endpoint(
    handler: WebhookHandler,
    *,
    secret: Secret | None = None,
    max_body_size: int = DEFAULT_MAX_BODY_SIZE,
) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint that verifies each delivery, then calls ``handler(event, request)``.

    A bad or missing signature is answered ``401 {"detail": ...}`` and never
    reaches the handler (400 for a signed body that is not a JSON object, 413
    for one over ``max_body_size``). The handler's response is returned; if it
    returns ``None`` the answer is ``200 {"received": true}``. PostStack retries
    a delivery that is not answered with a 2xx. For routing by type and
    skipping redeliveries, use :func:`webhook_route`.
    """
    secrets = check_secrets(secret) if secret is not None else None

    async def endpoint(request: Request) -> Response:
        try:
            event = await verified_event(request, secrets, max_body_size=max_body_size)
        except WebhookRejected as exc:
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        response = await handler(event, request)
        return response if response is not None else JSONResponse({"received": True})

    return endpoint


def router_endpoint(
    router: WebhookRouter, *, secret: Secret | None = None
) -> Callable[[Request], Awaitable[Response]]:
    """An endpoint that hands each delivery to ``router`` (see :func:`webhook_route`)."""
    secrets = check_secrets(secret) if secret is not None else None

    async def endpoint(request: Request) -> Response:
        try:
            body = await _read_body(request, router.max_body_size)
        except WebhookRejected as exc:
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        result = await router.handle_async(
            body, request.headers, secret=secrets, run_sync=run_in_threadpool
        )
        return JSONResponse(result.body, status_code=result.status)

    return endpoint


def webhook_route(
    router: WebhookRouter,
    path: str = DEFAULT_WEBHOOK_PATH,
    *,
    secret: Secret | None = None,
    name: str = "poststack_webhook",
) -> Route:
    """A ``POST`` route that runs each verified delivery through ``router``, once.

    ``secret`` overrides the router's (default: ``$POSTSTACK_WEBHOOK_SECRET``).
    Sync handlers run in Starlette's thread pool, async ones on the loop. The
    answers are the router's: 200 (handled, or a redelivery of a handled
    event), 401, 400, 409 (being handled by another request), 413; a handler's
    exception propagates (500), and PostStack delivers the event again.
    """
    return Route(path, router_endpoint(router, secret=secret), methods=["POST"], name=name)

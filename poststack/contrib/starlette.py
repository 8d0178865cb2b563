"""Starlette: one AsyncPostStack per app, and verified webhook endpoints.

::

    from starlette.applications import Starlette
    from starlette.routing import Route
    from poststack.contrib.starlette import get_client, lifespan, webhook_endpoint

    async def on_event(event, request):
        ...

    app = Starlette(
        lifespan=lifespan(),    # AsyncPostStack() from $POSTSTACK_API_KEY, closed at shutdown
        routes=[Route("/webhooks/poststack", webhook_endpoint(on_event), methods=["POST"])],
    )

``poststack.contrib.fastapi`` builds FastAPI dependencies on these.
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from poststack import AsyncPostStack, WebhookPayloadError, WebhookVerificationError
from poststack_core import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, SIGNATURE_HEADER, construct_event

if TYPE_CHECKING:
    from poststack.transports import AsyncTransport

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "STATE_KEY",
    "WEBHOOK_SECRET_ENV",
    "WebhookRejected",
    "client_lifespan",
    "get_client",
    "lifespan",
    "normalize_secret",
    "verified_event",
    "webhook_endpoint",
]

STATE_KEY = "poststack"
WEBHOOK_SECRET_ENV = "POSTSTACK_WEBHOOK_SECRET"
DEFAULT_MAX_BODY_SIZE = 5 * 1024 * 1024

WebhookHandler = Callable[[dict[str, Any], Request], Awaitable[Response | None]]


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


Secret = str | Sequence[str] | None


def normalize_secret(secret: Secret) -> tuple[str, ...] | None:
    """Check a ``secret=`` argument early: ``None``, or a tuple of non-empty strings."""
    if secret is None:
        return None
    found = (secret,) if isinstance(secret, str) else tuple(secret)
    if not found or not all(isinstance(s, str) and s for s in found):
        raise ValueError("secret must be a non-empty str or a list of them")
    return found


def _secrets(secret: Secret) -> tuple[str, ...]:
    found = normalize_secret(secret)
    if found is not None:
        return found
    value = os.environ.get(WEBHOOK_SECRET_ENV)
    if not value:
        raise RuntimeError(
            f"no webhook signing secret: pass secret=... or set ${WEBHOOK_SECRET_ENV}"
        )
    return (value,)


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
    secret: Secret = None,
    *,
    max_body_size: int = DEFAULT_MAX_BODY_SIZE,
) -> dict[str, Any]:
    """Read the raw body, check ``X-PostStack-Signature``, and return the parsed event.

    ``secret`` is the webhook's signing secret (``signingSecret`` from
    ``webhooks.create``), several secrets (any one may match), or ``None`` to
    read ``$POSTSTACK_WEBHOOK_SECRET`` on each request. Raises
    :class:`WebhookRejected` with the status to answer.
    """
    secrets = _secrets(secret)
    body = await _read_body(request, max_body_size)
    signature = request.headers.get(SIGNATURE_HEADER)
    if signature is None:
        raise WebhookRejected(401, f"Missing {SIGNATURE_HEADER} header")
    for candidate in secrets:
        try:
            return construct_event(body, signature, candidate)
        except WebhookPayloadError:
            raise WebhookRejected(400, "Webhook body is not a JSON object") from None
        except WebhookVerificationError:
            continue  # signed with another secret, maybe
    raise WebhookRejected(401, "Invalid webhook signature")


def webhook_endpoint(
    handler: WebhookHandler,
    *,
    secret: Secret = None,
    max_body_size: int = DEFAULT_MAX_BODY_SIZE,
) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint that verifies each delivery, then calls ``handler(event, request)``.

    A bad or missing signature is answered ``401 {"detail": ...}`` and never
    reaches the handler (400 for a signed body that is not a JSON object, 413
    for one over ``max_body_size``). The handler's response is returned; if it
    returns ``None`` the answer is ``200 {"received": true}``. PostStack retries
    a delivery that is not answered with a 2xx.
    """

    secret = normalize_secret(secret)

    async def endpoint(request: Request) -> Response:
        try:
            event = await verified_event(request, secret, max_body_size=max_body_size)
        except WebhookRejected as exc:
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        response = await handler(event, request)
        return response if response is not None else JSONResponse({"received": True})

    return endpoint

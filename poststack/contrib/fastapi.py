"""FastAPI: one AsyncPostStack per app as a dependency, and verified webhook routes.

::

    from fastapi import FastAPI
    from poststack.contrib.fastapi import PostStackClient, lifespan, webhook_router
    from poststack.webhooks import Event, WebhookRouter

    app = FastAPI(lifespan=lifespan())
    events = WebhookRouter()            # secret from $POSTSTACK_WEBHOOK_SECRET

    @events.on("email.delivered")
    async def delivered(event: Event) -> None:
        ...

    app.include_router(webhook_router(events))      # POST /webhooks/poststack

    @app.post("/signup")
    async def signup(ps: PostStackClient) -> dict[str, str]:
        return {"id": (await ps.emails.send({...}))["id"]}

A route of your own can take a ``VerifiedEvent`` parameter instead: the event,
verified (401 before the route runs if unsigned), without de-duplication.
The client is created at startup and closed at shutdown (see
:mod:`poststack.contrib.starlette`, which this module builds on).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request

from poststack import AsyncPostStack
from poststack.webhooks import Event, Secret, WebhookRouter
from poststack_core import check_secrets

from .starlette import (
    DEFAULT_MAX_BODY_SIZE,
    DEFAULT_WEBHOOK_PATH,
    STATE_KEY,
    WEBHOOK_SECRET_ENV,
    WebhookRejected,
    client_lifespan,
    get_client,
    lifespan,
    router_endpoint,
    verified_event,
    webhook_endpoint,
)

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "DEFAULT_WEBHOOK_PATH",
    "STATE_KEY",
    "WEBHOOK_SECRET_ENV",
    "PostStackClient",
    "VerifiedEvent",
    "WebhookRejected",
    "WebhookVerifier",
    "client_lifespan",
    "get_client",
    "lifespan",
    "verified_event",
    "webhook_endpoint",
    "webhook_router",
]


PostStackClient = Annotated[AsyncPostStack, Depends(get_client)]
"""A route parameter typed ``PostStackClient`` receives the app's ``AsyncPostStack``."""


class WebhookVerifier:
    """A dependency that returns the verified webhook event or answers 401 itself.

    ``Annotated[Event, Depends(WebhookVerifier(secret=...))]``; with no
    ``secret`` it reads ``$POSTSTACK_WEBHOOK_SECRET`` on each request. A bad or
    missing signature raises ``HTTPException(401)`` (400 for a signed body that
    is not a JSON object, 413 above ``max_body_size``).
    """

    def __init__(
        self,
        secret: Secret | None = None,
        *,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    ) -> None:
        self.secret: tuple[str, ...] | None = check_secrets(secret) if secret is not None else None
        self.max_body_size: int = max_body_size

    async def __call__(self, request: Request) -> Event:
        try:
            return await verified_event(request, self.secret, max_body_size=self.max_body_size)
        except WebhookRejected as exc:
            raise HTTPException(exc.status_code, exc.detail) from exc


VerifiedEvent = Annotated[Event, Depends(WebhookVerifier())]
"""A route parameter typed ``VerifiedEvent`` receives the event, signed with
``$POSTSTACK_WEBHOOK_SECRET``; unsigned requests are answered 401."""


def webhook_router(
    router: WebhookRouter,
    path: str = DEFAULT_WEBHOOK_PATH,
    *,
    secret: Secret | None = None,
    name: str = "poststack_webhook",
    include_in_schema: bool = False,
) -> APIRouter:
    """An ``APIRouter`` with one ``POST path`` that runs each delivery through ``router``.

    ``app.include_router(webhook_router(events))``. Each verified event is
    handled once (a redelivery is answered 200 without running a handler);
    the answers are those of :func:`poststack.contrib.starlette.webhook_route`.
    The route stays out of the OpenAPI schema unless ``include_in_schema``.
    """
    api = APIRouter()
    api.add_route(
        path,
        router_endpoint(router, secret=secret),
        methods=["POST"],
        name=name,
        include_in_schema=include_in_schema,
    )
    return api

"""FastAPI: one AsyncPostStack per app as a dependency, and verified webhook routes.

::

    from fastapi import FastAPI
    from poststack.contrib.fastapi import PostStackClient, VerifiedEvent, lifespan

    app = FastAPI(lifespan=lifespan())

    @app.post("/signup")
    async def signup(ps: PostStackClient) -> dict[str, str]:
        return {"id": (await ps.emails.send({...}))["id"]}

    @app.post("/webhooks/poststack")
    async def webhook(event: VerifiedEvent) -> None:   # 401 before this runs if unsigned
        ...

The client is created at startup and closed at shutdown (see
:mod:`poststack.contrib.starlette`, which this module builds on).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

from poststack import AsyncPostStack

from .starlette import (
    DEFAULT_MAX_BODY_SIZE,
    STATE_KEY,
    WEBHOOK_SECRET_ENV,
    Secret,
    WebhookRejected,
    client_lifespan,
    get_client,
    lifespan,
    normalize_secret,
    verified_event,
    webhook_endpoint,
)

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "STATE_KEY",
    "WEBHOOK_SECRET_ENV",
    "PostStackClient",
    "VerifiedEvent",
    "WebhookRejected",
    "WebhookVerifier",
    "client_lifespan",
    "get_client",
    "lifespan",
    "normalize_secret",
    "verified_event",
    "webhook_endpoint",
]


PostStackClient = Annotated[AsyncPostStack, Depends(get_client)]
"""A route parameter typed ``PostStackClient`` receives the app's ``AsyncPostStack``."""


class WebhookVerifier:
    """A dependency that returns the verified webhook event or answers 401 itself.

    ``Annotated[dict[str, Any], Depends(WebhookVerifier(secret=...))]``; with no
    ``secret`` it reads ``$POSTSTACK_WEBHOOK_SECRET`` on each request. A bad or
    missing signature raises ``HTTPException(401)`` (400 for a signed body that
    is not a JSON object, 413 above ``max_body_size``).
    """

    def __init__(
        self,
        secret: Secret = None,
        *,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    ) -> None:
        self.secret: tuple[str, ...] | None = normalize_secret(secret)
        self.max_body_size: int = max_body_size

    async def __call__(self, request: Request) -> dict[str, Any]:
        try:
            return await verified_event(request, self.secret, max_body_size=self.max_body_size)
        except WebhookRejected as exc:
            raise HTTPException(exc.status_code, exc.detail) from exc


VerifiedEvent = Annotated[dict[str, Any], Depends(WebhookVerifier())]
"""A route parameter typed ``VerifiedEvent`` receives the event, signed with
``$POSTSTACK_WEBHOOK_SECRET``; unsigned requests are answered 401."""

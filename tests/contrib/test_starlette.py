"""poststack.contrib.starlette on a plain Starlette app (no FastAPI)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from poststack import AsyncPostStack
from poststack.contrib.starlette import (
    WebhookRejected,
    client_lifespan,
    get_client,
    verified_event,
    webhook_endpoint,
    webhook_route,
)
from poststack.testing import Sandbox
from poststack.transports.httpx import AsyncHttpxTransport
from poststack.webhooks import ClickedEvent, Event, WebhookRouter
from poststack_core import WebhookVerificationError, sign


def test_webhook_endpoint_and_own_lifespan(sb: Sandbox) -> None:
    events: list[Event] = []

    async def handler(event: Event, request: Request) -> Response | None:
        events.append(event)
        if event["type"] == "unknown" and event["name"] == "custom":
            return PlainTextResponse("custom answer", status_code=202)
        return None

    async def send(request: Request) -> Response:
        result = await get_client(request).emails.send(
            {"from": "a@yourdomain.com", "to": ["b@example.org"], "subject": "S", "text": "T"}
        )
        return JSONResponse(result)

    @asynccontextmanager
    async def my_lifespan(app: Starlette) -> AsyncGenerator[None, None]:
        transport = AsyncHttpxTransport()
        async with client_lifespan(
            app, sb.api_key, sb.base_url, timeout=5, transport=transport
        ) as client:
            assert app.state.poststack is client
            yield
        await transport.aclose()  # ours: the client did not close it

    app = Starlette(
        lifespan=my_lifespan,
        routes=[
            Route("/hook", webhook_endpoint(handler, secret="whsec_s"), methods=["POST"]),
            Route("/send", send, methods=["POST"]),
        ],
    )
    with TestClient(app) as http:
        body = b'{"type": "email.sent"}'
        ok = http.post(
            "/hook", content=body, headers={"X-PostStack-Signature": sign(body, "whsec_s")}
        )
        assert (ok.status_code, ok.json()) == (200, {"received": True})
        custom = b'{"type": "custom"}'
        answer = http.post(
            "/hook", content=custom, headers={"X-PostStack-Signature": sign(custom, "whsec_s")}
        )
        assert (answer.status_code, answer.text) == (202, "custom answer")
        bad = http.post("/hook", content=body, headers={"X-PostStack-Signature": sign(body, "x")})
        assert (bad.status_code, bad.json()) == (401, {"detail": "Invalid webhook signature"})
        assert [e["type"] for e in events] == ["email.sent", "unknown"]
        assert http.post("/send").json()["id"] == sb.wait_for_emails(1)[0].id


def test_verified_event_errors_are_verification_errors() -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    request = Request({"type": "http", "method": "POST", "headers": []}, receive)
    with pytest.raises(WebhookRejected) as raised:
        asyncio.run(verified_event(request, "whsec"))
    assert isinstance(raised.value, WebhookVerificationError)
    assert raised.value.status_code == 401
    with pytest.raises(ValueError, match="secret"):
        webhook_endpoint(lambda event, request: None, secret="")  # type: ignore[arg-type,return-value]


def test_webhook_route() -> None:
    events = WebhookRouter(secret="whsec_r")
    seen: list[str | None] = []

    @events.on("email.clicked")
    async def clicked(event: ClickedEvent) -> None:
        seen.append(event["url"])

    app = Starlette(
        routes=[webhook_route(events), webhook_route(events, "/other", secret="whsec_o")]
    )
    body = b'{"id": "evt_1", "type": "email.clicked", "data": {"link": "https://x.example/"}}'
    with TestClient(app) as http:
        first = http.post(
            "/webhooks/poststack",
            content=body,
            headers={"X-PostStack-Signature": sign(body, "whsec_r")},
        )
        again = http.post(
            "/webhooks/poststack",
            content=body,
            headers={"X-PostStack-Signature": sign(body, "whsec_r")},
        )
        other = http.post(
            "/other", content=body, headers={"X-PostStack-Signature": sign(body, "whsec_r")}
        )
        chunked = http.post(
            "/webhooks/poststack",
            content=iter([body[:10], body[10:]]),
            headers={"X-PostStack-Signature": sign(body, "whsec_r")},
        )
    assert (first.status_code, first.json()) == (200, {"received": True})
    assert again.json() == {"received": True, "duplicate": True}
    assert (other.status_code, other.json()) == (401, {"detail": "Invalid webhook signature"})
    assert chunked.json() == {"received": True, "duplicate": True}
    assert seen == ["https://x.example/"]

    small = Starlette(routes=[webhook_route(WebhookRouter(secret="whsec_r", max_body_size=20))])
    with TestClient(small) as http:
        for content in (body, iter([body[:10], body[10:]])):
            answer = http.post("/webhooks/poststack", content=content)
            assert (answer.status_code, answer.json()) == (
                413,
                {"detail": "Webhook body too large"},
            )


def test_get_client_without_lifespan() -> None:
    async def route(request: Request) -> Response:
        get_client(request)
        return Response()

    with TestClient(Starlette(routes=[Route("/", route)])) as http, pytest.raises(RuntimeError):
        http.get("/")


def test_framework_modules_are_imported_only_when_used() -> None:
    code = """
import sys
import poststack, poststack.contrib, poststack.testing
frameworks = {"django", "flask", "starlette", "fastapi", "celery", "kombu", "uvicorn"}
print(sorted(frameworks & set(sys.modules)))
import poststack.contrib.starlette
print("fastapi" in sys.modules, "starlette" in sys.modules)
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split("\n")
    assert json.loads(out[0].replace("'", '"')) == []
    assert out[1] == "False True"
    assert isinstance(AsyncPostStack, type)

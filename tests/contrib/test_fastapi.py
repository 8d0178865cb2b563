"""poststack.contrib.fastapi with FastAPI's TestClient and with uvicorn receiving the
sandbox's real signed webhook deliveries."""

from __future__ import annotations

import json
import threading
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from poststack import AsyncPostStack, PostStack
from poststack.contrib.fastapi import (
    PostStackClient,
    VerifiedEvent,
    WebhookVerifier,
    lifespan,
    webhook_router,
)
from poststack.testing import Sandbox
from poststack.webhooks import Event, SentEvent, WebhookRouter
from poststack_core import sign
from tests.contrib.conftest import doc_blocks, serve_asgi

SECRET = "whsec_test_secret"
MESSAGE: Any = {"from": "hello@yourdomain.com", "to": ["a@example.org"], "subject": "Hi"}


# Module level: FastAPI resolves the (string) annotations of routes in module globals.
SmallEvent = Annotated[Event, Depends(WebhookVerifier(["whsec_a", "whsec_b"], max_body_size=100))]


def make_app(sb: Sandbox, received: list[Event]) -> FastAPI:
    app = FastAPI(lifespan=lifespan(api_key=sb.api_key, base_url=sb.base_url))

    @app.post("/send")
    async def send(ps: PostStackClient, text: str = "hello") -> dict[str, str]:
        return {"id": (await ps.emails.send({**MESSAGE, "text": text}))["id"]}

    @app.post("/hook")
    async def hook(event: VerifiedEvent) -> dict[str, bool]:
        received.append(event)
        return {"ok": True}

    return app


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {"X-PostStack-Signature": sign(body, secret), "Content-Type": "application/json"}


def test_lifespan_client_as_dependency(sb: Sandbox) -> None:
    app = make_app(sb, [])
    with TestClient(app) as http:
        client = app.state.poststack
        assert isinstance(client, AsyncPostStack)
        first = http.post("/send", params={"text": "one"}).json()["id"]
        second = http.post("/send", params={"text": "two"}).json()["id"]
        assert app.state.poststack is client
    assert [(e.id, e.text) for e in sb.wait_for_emails(2)] == [(first, "one"), (second, "two")]
    assert not hasattr(app.state, "poststack")  # removed, and closed, at shutdown
    with pytest.raises(RuntimeError, match="closed"):
        client._get_transport()  # pyright: ignore[reportPrivateUsage]


def test_missing_lifespan_is_a_clear_error(sb: Sandbox) -> None:
    app = FastAPI()

    @app.post("/send")
    async def send(ps: PostStackClient) -> None:
        raise AssertionError("not reached")

    with TestClient(app) as http, pytest.raises(RuntimeError, match="lifespan="):
        http.post("/send")


def test_webhook_verification(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTSTACK_WEBHOOK_SECRET", SECRET)
    received: list[Event] = []
    body = json.dumps({"type": "email.delivered", "data": {"email_id": "em_1"}}).encode()
    with TestClient(make_app(sb, received)) as http:
        ok = http.post("/hook", content=body, headers=signed(body))
        assert (ok.status_code, ok.json()) == (200, {"ok": True})
        assert [e["raw"] for e in received] == [json.loads(body)]
        assert received[0]["type"] == "email.delivered"
        assert received[0]["email_id"] == "em_1"

        # Upper-case hex and a rotation header with an old signature first still verify.
        rotated = f"sha256={'0' * 64}, {sign(body, SECRET).upper().replace('SHA256', 'sha256')}"
        assert http.post(
            "/hook", content=body, headers={"X-PostStack-Signature": rotated}
        ).is_success

        bad = [
            ({}, 401, "Missing X-PostStack-Signature header"),
            (signed(body, "whsec_wrong"), 401, "Invalid webhook signature"),
            ({"X-PostStack-Signature": "garbage"}, 401, "Invalid webhook signature"),
            (signed(body + b" "), 401, "Invalid webhook signature"),
        ]
        for headers, status, detail in bad:
            response = http.post("/hook", content=body, headers=headers)
            assert (response.status_code, response.json()) == (status, {"detail": detail})
        not_json = b"[1, 2"
        response = http.post("/hook", content=not_json, headers=signed(not_json))
        assert (response.status_code, response.json()) == (
            400,
            {"detail": "Webhook body is not a JSON object"},
        )
        array = b"[1, 2]"
        assert http.post("/hook", content=array, headers=signed(array)).status_code == 400
        assert len(received) == 2


def test_webhook_secret_must_be_configured(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POSTSTACK_WEBHOOK_SECRET", raising=False)
    with TestClient(make_app(sb, [])) as http, pytest.raises(RuntimeError, match="secret"):
        http.post("/hook", content=b"{}", headers=signed(b"{}"))


def test_webhook_body_limit_and_several_secrets() -> None:
    app = FastAPI()

    @app.post("/hook")
    async def hook(event: SmallEvent) -> dict[str, Any]:
        return event["raw"]

    with TestClient(app) as http:
        for secret in ("whsec_a", "whsec_b"):
            assert http.post("/hook", content=b"{}", headers=signed(b"{}", secret)).json() == {}
        assert (
            http.post("/hook", content=b"{}", headers=signed(b"{}", "whsec_c")).status_code == 401
        )
        big = json.dumps({"pad": "x" * 200}).encode()
        assert http.post("/hook", content=big, headers=signed(big, "whsec_a")).status_code == 413

        def chunks() -> Any:
            yield big[:50]
            yield big[50:]

        # No Content-Length (chunked): the limit is enforced while reading.
        response = http.post("/hook", content=chunks(), headers=signed(big, "whsec_a"))
        assert response.status_code == 413
    with pytest.raises(ValueError, match="secret"):
        WebhookVerifier([])


def register_webhook(sb: Sandbox, url: str, events: list[str] | None = None) -> tuple[int, str]:
    """Register a webhook over plain HTTP (not the SDK); its id and signing secret."""
    response = httpx.post(
        f"{sb.base_url}/webhooks",
        json={"url": url, "events": events or ["email.sent", "email.delivered"]},
        headers={"Authorization": f"Bearer {sb.api_key}"},
    )
    response.raise_for_status()
    created = response.json()
    return created["webhook"]["id"], created["signingSecret"]


def test_real_signed_deliveries_over_uvicorn(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    received: list[Event] = []
    with serve_asgi(make_app(sb, received)) as url:
        monkeypatch.setenv("POSTSTACK_WEBHOOK_SECRET", register_webhook(sb, f"{url}/hook")[1])
        register_webhook(sb, f"{url}/hook?other")  # signed with another secret: refused
        email_id = httpx.post(f"{url}/send").json()["id"]
        deliveries = sb.wait_for_deliveries(4, timeout=30)
    ours = [d for d in deliveries if not d.url.endswith("?other")]
    assert [(d.event_type, d.status_code, d.attempts) for d in ours] == [
        ("email.sent", 200, 1),
        ("email.delivered", 200, 1),
    ]
    assert [(e["type"], e["raw"]["data"]["email_id"]) for e in received] == [
        ("email.sent", email_id),
        ("email.delivered", email_id),
    ]
    others = [d for d in deliveries if d.url.endswith("?other")]
    assert [(d.status_code, d.ok) for d in others] == [(401, False), (401, False)]


def test_webhook_router_over_uvicorn(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    events = WebhookRouter()
    threads: list[str] = []
    attempts: list[str | None] = []

    @events.on("email.sent")
    def sent(event: SentEvent) -> None:  # sync: in the thread pool, off the event loop
        threads.append(threading.current_thread().name)
        attempts.append(event["email_id"])
        if len(attempts) == 1:
            raise ConnectionError("the database is restarting")

    app = make_app(sb, [])
    app.include_router(webhook_router(events, "/ps-hooks"))
    with serve_asgi(app) as url:
        webhook_id, secret = register_webhook(sb, f"{url}/ps-hooks")
        monkeypatch.setenv("POSTSTACK_WEBHOOK_SECRET", secret)
        email_id = httpx.post(f"{url}/send").json()["id"]
        first = sb.wait_for_deliveries(2, timeout=30)
        with PostStack(api_key=sb.api_key, base_url=sb.base_url) as ps:
            ps.webhooks.replay(webhook_id, first[0].id)
        again = sb.wait_for_deliveries(3, timeout=30)[-1]
        unsigned = httpx.post(f"{url}/ps-hooks", json={"type": "email.sent"})
    assert [(d.event_type, d.status_code, d.attempts) for d in first] == [
        ("email.sent", 200, 2),  # a 500 first: the handler raised; PostStack retried
        ("email.delivered", 200, 1),  # no handler for it: acknowledged
    ]
    assert (again.status_code, json.loads(again.response_body or "")) == (
        200,
        {"received": True, "duplicate": True},
    )
    assert attempts == [email_id, email_id]
    assert all(name != "MainThread" and "uvicorn" not in name for name in threads)
    assert (unsigned.status_code, unsigned.json()) == (
        401,
        {"detail": "Missing X-PostStack-Signature header"},
    )
    assert "/ps-hooks" not in json.dumps(app.openapi())  # not advertised


def test_docs(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    main_block, audit_block, custom_block, starlette_block = doc_blocks("fastapi")
    monkeypatch.setenv("POSTSTACK_API_KEY", sb.api_key)
    monkeypatch.setenv("POSTSTACK_BASE_URL", sb.base_url)

    namespace: dict[str, Any] = {"__name__": "docs_fastapi"}
    exec(main_block, namespace)
    with serve_asgi(namespace["app"]) as url:
        _, secret = register_webhook(
            sb, f"{url}/webhooks/poststack", ["email.sent", "email.delivered", "email.bounced"]
        )
        monkeypatch.setenv("POSTSTACK_WEBHOOK_SECRET", secret)
        welcome = httpx.post(f"{url}/signup", params={"email": "new@example.org"}).json()
        httpx.post(f"{url}/signup", params={"email": "bounced@example.org"})
        deliveries = sb.wait_for_deliveries(4, timeout=30)
        unsigned = httpx.post(f"{url}/webhooks/poststack", json={"type": "email.delivered"})
    assert [d.status_code for d in deliveries] == [200] * 4
    assert unsigned.status_code == 401
    assert namespace["delivered"] == {welcome["email_id"]}
    assert namespace["bounced"] == {"bounced@example.org"}
    assert capsys.readouterr().out.count("PostStack event: email.sent") == 2
    assert sb.outbox[0].to == ("new@example.org",)

    namespace = {"__name__": "docs_fastapi_audit"}
    exec(audit_block, namespace)
    with TestClient(namespace["app"]) as http:
        body = b'{"type": "email.opened", "data": {}}'
        answer = http.post("/webhooks/audit", content=body, headers=signed(body, secret))
        assert answer.json() == {"type": "email.opened"}
        assert http.post("/webhooks/audit", content=body).status_code == 401

    namespace = {"__name__": "docs_fastapi_custom"}
    exec(custom_block, namespace)
    with TestClient(namespace["app"]) as http:
        assert namespace["app"].state.poststack._config.timeout == 10
        body = b'{"type": "email.sent"}'
        assert http.post("/hooks", content=body, headers=signed(body, "whsec_old")).is_success
        assert http.post("/hooks", content=body, headers=signed(body, "whsec_x")).status_code == 401

    sb.clear()
    namespace = {"__name__": "docs_starlette"}
    exec(starlette_block, namespace)
    with serve_asgi(namespace["app"]) as url:
        secret = register_webhook(sb, f"{url}/webhooks/poststack")[1]
        monkeypatch.setenv("POSTSTACK_WEBHOOK_SECRET", secret)
        email_id = httpx.post(f"{url}/send").json()["email_id"]
        # The first part's webhook (its server is gone) gets these events too.
        deliveries = [d for d in sb.wait_for_deliveries(4, timeout=30) if d.url.startswith(url)]
        assert [(d.email_id, d.status_code) for d in deliveries] == [(email_id, 200)] * 2
        assert httpx.post(f"{url}/webhooks/poststack", content=b"{}").status_code == 401
    assert "PostStack event: email.sent" in capsys.readouterr().out

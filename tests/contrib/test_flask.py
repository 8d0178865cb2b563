"""poststack.contrib.flask with Flask's test client against the sandbox."""

from __future__ import annotations

import gc
import logging
import threading
import weakref
from typing import Any

import pytest
from flask import Flask

from poststack import PostStack as Client
from poststack.contrib.flask import PostStack, get_client, webhook_blueprint
from poststack.testing import Sandbox
from poststack.webhooks import DeliveredEvent, SentEvent, WebhookRouter, sign
from tests.contrib.conftest import doc_blocks
from tests.webhook_helpers import register, serve_wsgi

MESSAGE: Any = {
    "from": "hello@yourdomain.com",
    "to": ["a@example.org"],
    "subject": "Hi",
    "text": "Hello",
}


def make_app(sb: Sandbox, ext: PostStack, **config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(POSTSTACK_API_KEY=sb.api_key, POSTSTACK_BASE_URL=sb.base_url, **config)
    ext.init_app(app)

    @app.post("/send")
    def send() -> dict[str, str]:
        return {"id": ext.emails.send(MESSAGE)["id"]}

    return app


def test_one_client_per_app_shared_by_requests(sb: Sandbox) -> None:
    ext = PostStack()
    app = make_app(sb, ext, POSTSTACK_TIMEOUT="7.5", POSTSTACK_MAX_RETRIES=1)
    client = app.extensions["poststack"]
    assert isinstance(client, Client)
    assert client.base_url == sb.base_url
    assert client._config.timeout == 7.5  # pyright: ignore[reportPrivateUsage]
    assert client._config.retry.max_retries == 1  # pyright: ignore[reportPrivateUsage]

    ids = []
    with app.test_client() as http:
        for _ in range(3):
            response = http.post("/send")
            assert response.status_code == 200
            ids.append(response.get_json()["id"])
    assert [e.id for e in sb.wait_for_emails(3)] == ids
    # Request teardown did not close or replace the shared client.
    assert app.extensions["poststack"] is client
    with app.app_context():
        assert PostStack().client is client
        assert get_client() is client
    assert client.emails.send(MESSAGE)["id"]


def test_constructor_form_and_threads(sb: Sandbox) -> None:
    app = Flask(__name__)
    app.config.update(POSTSTACK_API_KEY=sb.api_key, POSTSTACK_BASE_URL=sb.base_url)
    ext = PostStack(app)

    def worker() -> None:
        with app.app_context():
            ext.emails.send(MESSAGE)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(sb.wait_for_emails(8)) == 8


def test_app_factory_with_two_apps(sb: Sandbox) -> None:
    ext = PostStack()
    with Sandbox(api_key="sk_test_other") as other:
        first, second = make_app(sb, ext), make_app(other, ext)
        first.test_client().post("/send")
        second.test_client().post("/send")
        second.test_client().post("/send")
        assert len(sb.wait_for_emails(1)) == 1
        assert len(other.wait_for_emails(2)) == 2
        assert get_client(first) is not get_client(second)


def test_key_from_environment(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTSTACK_API_KEY", sb.api_key)
    monkeypatch.setenv("POSTSTACK_BASE_URL", sb.base_url)
    app = Flask(__name__)
    ext = PostStack(app)
    with app.app_context():
        ext.emails.send(MESSAGE)
    assert len(sb.wait_for_emails(1)) == 1

    monkeypatch.delenv("POSTSTACK_API_KEY")
    with pytest.raises(ValueError, match=r'app.config\["POSTSTACK_API_KEY"\]'):
        PostStack(Flask(__name__))


def test_misuse_is_reported(sb: Sandbox) -> None:
    app = make_app(sb, PostStack())
    with pytest.raises(RuntimeError, match="already set up"):
        PostStack(app)
    with pytest.raises(RuntimeError, match="not set up"):
        get_client(Flask(__name__))
    bad = Flask(__name__)
    bad.config.update(POSTSTACK_API_KEY="k", POSTSTACK_TIMEOUT="soon")
    with pytest.raises(ValueError, match=r"POSTSTACK_TIMEOUT in app\.config"):
        PostStack(bad)


def test_closed_with_the_app(sb: Sandbox) -> None:
    ext = PostStack()
    app = make_app(sb, ext)
    client = get_client(app)
    client.emails.send(MESSAGE)
    ext.close(app)
    with pytest.raises(RuntimeError, match="closed"):
        client.emails.send(MESSAGE)

    app = make_app(sb, ext)
    client = get_client(app)
    client.emails.send(MESSAGE)
    app_ref = weakref.ref(app)
    del app
    gc.collect()
    assert app_ref() is None
    with pytest.raises(RuntimeError, match="closed"):
        client.emails.send(MESSAGE)


def test_docs(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    factory_block, report_block, webhook_block = doc_blocks("flask")
    monkeypatch.setenv("FLASK_POSTSTACK_API_KEY", sb.api_key)
    monkeypatch.setenv("FLASK_POSTSTACK_BASE_URL", sb.base_url)
    namespace: dict[str, Any] = {"__name__": "docs_flask"}
    exec(factory_block, namespace)
    app = namespace["create_app"]()
    response = app.test_client().post("/signup", data={"email": "new@example.org"})
    assert response.status_code == 200
    (welcome,) = sb.wait_for_emails(1)
    assert response.get_json() == {"email_id": welcome.id}
    assert welcome.to == ("new@example.org",)
    assert welcome.html == "<h1>Welcome!</h1>"

    exec(report_block, namespace)
    assert namespace["send_report"](app) == sb.wait_for_emails(2)[1].id

    # The webhook blueprint, served for real, fed by the sandbox's lifecycle.
    hooks: dict[str, Any] = {"__name__": "docs_flask_webhooks"}
    exec(webhook_block, hooks)
    app = hooks["create_app"]()
    with serve_wsgi(app) as base, caplog.at_level(logging.INFO, logger="shop.mail"):
        _, secret = register(sb, f"{base}/webhooks/poststack", ["email.sent", "email.bounced"])
        app.config["POSTSTACK_WEBHOOK_SECRET"] = secret
        with app.app_context():
            hooks["poststack"].emails.send({**MESSAGE, "to": ["bounced@example.org"]})
        deliveries = sb.wait_for_deliveries(2, timeout=30)
    assert [(d.event_type, d.status_code) for d in deliveries] == [
        ("email.sent", 200),
        ("email.bounced", 200),
    ]
    assert hooks["bounced_addresses"] == {"bounced@example.org"}
    assert "PostStack event email.sent" in caplog.text


def test_webhook_blueprint(sb: Sandbox) -> None:
    events = WebhookRouter()
    seen: list[tuple[str, str | None]] = []
    attempts: list[str] = []

    @events.on("email.delivered")
    async def delivered(event: DeliveredEvent) -> None:  # async works in Flask too
        seen.append((event["type"], event["email_id"]))

    @events.on("email.sent")
    def sent(event: SentEvent) -> None:
        attempts.append(event["type"])
        if len(attempts) == 1:
            raise ConnectionError("the database is restarting")

    ext = PostStack()
    app = make_app(sb, ext)
    app.register_blueprint(webhook_blueprint(events, "/hooks/ps", name="hooks"))
    with serve_wsgi(app) as base:
        webhook_id, secret = register(sb, f"{base}/hooks/ps", ["email.sent", "email.delivered"])
        app.config["POSTSTACK_WEBHOOK_SECRET"] = ["whsec_previous", secret]
        email_id = app.test_client().post("/send").get_json()["id"]
        first = sb.wait_for_deliveries(2, timeout=30)
        with Client(api_key=sb.api_key, base_url=sb.base_url) as ps:
            ps.webhooks.replay(webhook_id, first[-1].id)
        replayed = sb.wait_for_deliveries(3, timeout=30)[-1]
    assert [(d.event_type, d.status_code, d.attempts) for d in first] == [
        ("email.sent", 200, 2),  # a 500 first: the handler raised, PostStack retried
        ("email.delivered", 200, 1),
    ]
    assert (replayed.status_code, replayed.response_body) == (
        200,
        '{"duplicate":true,"received":true}\n',
    )
    assert seen == [("email.delivered", email_id)]
    assert attempts == ["email.sent", "email.sent"]

    http = app.test_client()
    body = b'{"id": "evt_x", "type": "email.sent", "data": {}}'
    assert http.post("/hooks/ps", data=body).status_code == 401
    assert http.post(
        "/hooks/ps", data=body, headers={"X-PostStack-Signature": sign(body, "x")}
    ).get_json() == {"detail": "Invalid webhook signature"}
    small = Flask(__name__)
    small.register_blueprint(webhook_blueprint(WebhookRouter(max_body_size=10), secret="whsec_s"))
    big = small.test_client().post(
        "/webhooks/poststack", data=body, headers={"X-PostStack-Signature": sign(body, "whsec_s")}
    )
    assert (big.status_code, big.get_json()) == (413, {"detail": "Webhook body too large"})
    with pytest.raises(ValueError, match="non-empty str"):
        webhook_blueprint(events, secret="")

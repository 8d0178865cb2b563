"""poststack.contrib.flask with Flask's test client against the sandbox."""

from __future__ import annotations

import gc
import threading
import weakref
from typing import Any

import pytest
from flask import Flask

from poststack import PostStack as Client
from poststack.contrib.flask import PostStack, get_client
from poststack.testing import Sandbox
from tests.contrib.conftest import doc_blocks

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


def test_docs(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    factory_block, report_block = doc_blocks("flask")
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

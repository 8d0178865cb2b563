"""Signed webhook delivery of poststack.testing.Sandbox to a loopback receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from poststack.testing import Sandbox, webhook_signature

KEY = "sk_test_hooks"
MESSAGE: dict[str, Any] = {
    "from": "hello@yourdomain.com",
    "to": ["alice@example.org"],
    "subject": "Hello",
    "text": "Hi",
}


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    received: list[Received] = field(default_factory=list[Received])
    statuses: list[int] = field(default_factory=list[int])  # answers to give, then 200


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with lock:
                state.received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/poststack?x=1"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(KEY, webhook_attempts=3) as sandbox:
        yield sandbox


@pytest.fixture
def client(sb: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=sb.base_url, headers={"Authorization": f"Bearer {KEY}"}, timeout=5
    ) as c:
        yield c


def register(client: httpx.Client, url: str, events: list[str] | None = None) -> str:
    body = {"url": url, "events": events or ["email.sent", "email.delivered"]}
    response = client.post("/webhooks", json=body)
    assert response.status_code == 201
    secret: str = response.json()["signingSecret"]
    return secret


def verify(body: bytes, header: str, secret: str) -> bool:
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    scheme, _, value = header.partition("=")
    return scheme == "sha256" and hmac.compare_digest(value, expected)


def test_events_are_delivered_signed_and_in_order(
    sb: Sandbox, client: httpx.Client, receiver: Receiver
) -> None:
    secret = register(client, receiver.url)
    email_id = client.post("/emails", json=MESSAGE).json()["id"]
    deliveries = sb.wait_for_deliveries(2)
    assert [d.event_type for d in deliveries] == ["email.sent", "email.delivered"]
    assert all(d.ok and d.attempts == 1 and d.status_code == 200 for d in deliveries)
    assert all(d.email_id == email_id and d.error is None for d in deliveries)

    assert len(receiver.received) == 2
    for got, delivery in zip(receiver.received, deliveries, strict=True):
        assert got.path == "/hooks/poststack?x=1"
        assert got.headers["content-type"] == "application/json"
        assert got.body == delivery.body
        assert got.headers["x-poststack-signature"] == delivery.signature
        assert verify(got.body, got.headers["x-poststack-signature"], secret)
        assert not verify(got.body, got.headers["x-poststack-signature"], "whsec_wrong")
        assert webhook_signature(got.body, secret) == delivery.signature
        event = json.loads(got.body)
        assert event["type"] == delivery.event_type
        assert event["created_at"].endswith("Z")
        assert event["data"]["id"] == email_id
        assert event["data"]["to"] == ["alice@example.org"]
        assert delivery.payload == event


def test_only_subscribed_events_and_active_webhooks(
    sb: Sandbox, client: httpx.Client, receiver: Receiver
) -> None:
    register(client, receiver.url, ["email.delivered"])
    paused = client.post("/webhooks", json={"url": receiver.url, "events": ["email.sent"]})
    client.patch(f"/webhooks/{paused.json()['webhook']['id']}", json={"active": False})
    client.post("/emails", json=MESSAGE)
    (delivery,) = sb.wait_for_deliveries(1)
    assert delivery.event_type == "email.delivered"
    client.post("/emails", json=MESSAGE)
    assert [d.event_type for d in sb.wait_for_deliveries(2)] == ["email.delivered"] * 2
    assert len(receiver.received) == 2


def test_each_batch_email_is_delivered(
    sb: Sandbox, client: httpx.Client, receiver: Receiver
) -> None:
    register(client, receiver.url, ["email.delivered"])
    response = client.post("/emails/batch", json={"emails": [MESSAGE] * 3})
    ids = [item["id"] for item in response.json()["data"]]
    assert [d.email_id for d in sb.wait_for_deliveries(3)] == ids


def test_scheduled_emails_fire_when_released(
    sb: Sandbox, client: httpx.Client, receiver: Receiver
) -> None:
    register(client, receiver.url)
    client.post("/emails", json={**MESSAGE, "scheduled_at": "2999-01-01T00:00:00Z"})
    with pytest.raises(TimeoutError):
        sb.wait_for_deliveries(1, timeout=0.2)
    sb.release_scheduled()
    assert len(sb.wait_for_deliveries(2)) == 2


def test_receiver_errors_are_retried(sb: Sandbox, client: httpx.Client, receiver: Receiver) -> None:
    register(client, receiver.url, ["email.sent"])
    receiver.statuses = [500, 503]
    client.post("/emails", json=MESSAGE)
    (delivery,) = sb.wait_for_deliveries(1)
    assert delivery.ok
    assert delivery.attempts == 3
    assert len(receiver.received) == 3
    assert len({r.body for r in receiver.received}) == 1


def test_receiver_that_keeps_failing(sb: Sandbox, client: httpx.Client, receiver: Receiver) -> None:
    register(client, receiver.url, ["email.sent"])
    receiver.statuses = [500, 500, 500]
    client.post("/emails", json=MESSAGE)
    (delivery,) = sb.wait_for_deliveries(1)
    assert not delivery.ok
    assert delivery.attempts == 3
    assert delivery.status_code == 500
    assert delivery.error == "receiver answered 500"


def test_unreachable_receiver_is_recorded_as_failed(sb: Sandbox, client: httpx.Client) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    register(client, f"http://127.0.0.1:{port}/hook", ["email.sent"])
    client.post("/emails", json=MESSAGE)
    (delivery,) = sb.wait_for_deliveries(1)
    assert not delivery.ok
    assert delivery.status_code is None
    assert delivery.attempts == 3
    assert delivery.error is not None
    assert "ConnectionRefused" in delivery.error


@pytest.mark.parametrize(
    "url",
    ["http://10.1.2.3/hook", "http://example.com/hook", "https://127.0.0.1/hook"],
)
def test_non_loopback_or_tls_urls_are_never_contacted(
    sb: Sandbox, client: httpx.Client, url: str
) -> None:
    register(client, url, ["email.sent"])
    client.post("/emails", json=MESSAGE)
    (delivery,) = sb.wait_for_deliveries(1)
    assert delivery.attempts == 0
    assert not delivery.ok
    assert delivery.error is not None
    assert delivery.error.startswith("refused")


def test_stop_with_a_pending_delivery_is_fast(client: httpx.Client, sb: Sandbox) -> None:
    register(client, "http://127.0.0.1:9/hook", ["email.sent", "email.delivered"])
    for _ in range(5):
        client.post("/emails", json=MESSAGE)
    sb.stop()
    assert not [t for t in threading.enumerate() if t.name.startswith("poststack-sandbox")]


def test_stop_aborts_a_hanging_receiver(client: httpx.Client, sb: Sandbox) -> None:
    import socket
    import time

    with socket.create_server(("127.0.0.1", 0)) as hanging:  # accepts, never answers
        register(client, f"http://127.0.0.1:{hanging.getsockname()[1]}/", ["email.sent"])
        client.post("/emails", json=MESSAGE)
        conn, _ = hanging.accept()
        with conn:
            started = time.monotonic()
            sb.stop()
            assert time.monotonic() - started < 1.0
    assert not [t for t in threading.enumerate() if t.name.startswith("poststack-sandbox")]

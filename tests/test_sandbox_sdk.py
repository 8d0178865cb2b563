"""The real SDK (PostStack / AsyncPostStack over httpx) against poststack.testing.Sandbox."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from poststack import (
    AsyncPostStack,
    PostStack,
    PostStackConnectionError,
    PostStackError,
    PostStackTimeoutError,
)
from poststack.testing import Sandbox
from poststack_core import verify

MESSAGE: Any = {
    "from": "hello@yourdomain.com",
    "to": ["user@example.com"],
    "subject": "Hello",
    "html": "<h1>Welcome!</h1>",
}


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def ps(sb: Sandbox) -> Iterator[PostStack]:
    with PostStack(api_key=sb.api_key, base_url=sb.base_url, timeout=5) as client:
        yield client


def test_readme_send(sb: Sandbox, ps: PostStack) -> None:
    result = ps.emails.send(MESSAGE)
    (email,) = sb.wait_for_emails(1)
    assert result["id"] == email.id
    assert email.to == ("user@example.com",)
    assert email.html == "<h1>Welcome!</h1>"
    request = sb.requests[0]
    assert request.headers["authorization"] == f"Bearer {sb.api_key}"
    assert request.idempotency_key
    assert request.json == MESSAGE


def test_get_list_events_batch(sb: Sandbox, ps: PostStack) -> None:
    sent = ps.emails.send(MESSAGE)["id"]
    got = ps.emails.get(sent)["email"]
    assert got["publicId"] == sent
    assert got["status"] == "delivered"
    events = ps.emails.get_events(sent)["events"]
    assert [e["type"] for e in events] == ["queued", "sent", "delivered"]
    batch = ps.emails.batch({"emails": [MESSAGE, MESSAGE]})
    assert len(batch["data"]) == 2
    page = ps.emails.list({"per_page": 2})
    assert page["pagination"]["total"] == 3
    assert len(page["emails"]) == 2
    every = list(ps.emails.list_all({"per_page": 1}))
    assert len(every) == 3
    assert len(sb.outbox) == 3


def test_schedule_reschedule_cancel(sb: Sandbox, ps: PostStack) -> None:
    scheduled: Any = {**MESSAGE, "scheduled_at": "2999-01-01T00:00:00Z"}
    email_id = ps.emails.send(scheduled)["id"]
    ps.emails.reschedule(email_id, "2998-01-01T00:00:00Z")
    assert sb.outbox[0].scheduled_at == "2998-01-01T00:00:00.000Z"
    ps.emails.cancel(email_id)
    assert sb.outbox[0].status == "cancelled"
    with pytest.raises(PostStackError) as info:
        ps.emails.cancel(email_id)
    assert info.value.status_code == 409
    assert info.value.code == "conflict"


def test_api_errors_surface_code_and_request_id(sb: Sandbox) -> None:
    with (
        PostStack(api_key="sk_test_wrong", base_url=sb.base_url) as wrong,
        pytest.raises(PostStackError) as info,
    ):
        wrong.emails.send(MESSAGE)
    assert info.value.status_code == 401
    assert info.value.code == "unauthorized"
    assert info.value.request_id is not None
    assert info.value.request_id.startswith("req_")
    assert len(sb.requests) == 1  # 401 is not retried


def test_unverified_domain_is_a_422(sb: Sandbox) -> None:
    with (
        Sandbox(require_verified_domain=True) as strict,
        PostStack(api_key=strict.api_key, base_url=strict.base_url) as client,
    ):
        with pytest.raises(PostStackError) as info:
            client.emails.send(MESSAGE)
        assert info.value.status_code == 422
        assert info.value.error == "Domain not verified: yourdomain.com"


def test_503_is_retried_with_the_same_idempotency_key(sb: Sandbox, ps: PostStack) -> None:
    sb.faults.next(status=503)
    ps.emails.send(MESSAGE)
    assert len(sb.outbox) == 1
    first, second = sb.requests
    assert first.fault is not None
    assert first.idempotency_key == second.idempotency_key


def test_lost_response_is_retried_without_a_duplicate(sb: Sandbox, ps: PostStack) -> None:
    sb.faults.next(reset=True, process=True)
    result = ps.emails.send(MESSAGE)
    assert len(sb.outbox) == 1
    assert result["id"] == sb.outbox[0].id
    assert len(sb.requests) == 2


def test_caller_idempotency_key(sb: Sandbox, ps: PostStack) -> None:
    one = ps.emails.send(MESSAGE, idempotency_key="order-1")
    two = ps.emails.send(MESSAGE, idempotency_key="order-1")
    assert one["id"] == two["id"]
    assert len(sb.outbox) == 1


def test_retry_after_is_honoured(sb: Sandbox, ps: PostStack) -> None:
    sb.faults.next(status=429, retry_after=0)
    ps.emails.send(MESSAGE)
    assert len(sb.requests) == 2


def test_rate_limit_without_retry_after_is_not_retried(sb: Sandbox, ps: PostStack) -> None:
    sb.faults.next(status=429)
    with pytest.raises(PostStackError) as info:
        ps.emails.send(MESSAGE)
    assert info.value.code == "rate_limit_exceeded"
    assert len(sb.requests) == 1
    assert sb.outbox == []


def test_resets_exhaust_into_a_connection_error(sb: Sandbox) -> None:
    sb.faults.always(reset=True)
    with (
        PostStack(api_key=sb.api_key, base_url=sb.base_url, max_retries=1) as client,
        pytest.raises(PostStackConnectionError) as info,
    ):
        client.emails.send(MESSAGE)
    assert info.value.status_code == 0
    assert len(sb.requests) == 2
    assert sb.outbox == []


def test_slow_server_times_out(sb: Sandbox) -> None:
    sb.faults.next(delay=2.0)
    with (
        PostStack(api_key=sb.api_key, base_url=sb.base_url, timeout=0.2, max_retries=0) as client,
        pytest.raises(PostStackTimeoutError),
    ):
        client.emails.get("em_x")


def test_async_client(sb: Sandbox) -> None:
    async def main() -> str:
        async with AsyncPostStack(api_key=sb.api_key, base_url=sb.base_url) as client:
            sb.faults.next(status=500)
            result = await client.emails.send(MESSAGE)
            return result["id"]

    email_id = asyncio.run(main())
    assert [e.id for e in sb.outbox] == [email_id]


def test_webhook_signature_verifies_with_the_sdk(sb: Sandbox, ps: PostStack) -> None:
    received: list[tuple[bytes, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((body, self.headers["X-PostStack-Signature"]))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        import httpx

        created = httpx.post(
            f"{sb.base_url}/webhooks",
            json={
                "url": f"http://127.0.0.1:{server.server_address[1]}/",
                "events": ["email.delivered"],
            },
            headers={"Authorization": f"Bearer {sb.api_key}"},
        ).json()
        ps.emails.send(MESSAGE)
        (delivery,) = sb.wait_for_deliveries(1)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert delivery.ok
    body, signature = received[0]
    assert verify(body, signature, created["signingSecret"])
    assert not verify(body, signature, "whsec_other")

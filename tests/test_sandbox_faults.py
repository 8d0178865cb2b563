"""Fault injection of poststack.testing.Sandbox, seen from an httpx client."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from poststack.testing import Fault, Sandbox

KEY = "sk_test_faults"
MESSAGE: dict[str, Any] = {
    "from": "hello@yourdomain.com",
    "to": ["alice@example.org"],
    "subject": "Hello",
    "text": "Hi",
}


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(KEY) as sandbox:
        yield sandbox


@pytest.fixture
def client(sb: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=sb.base_url, headers={"Authorization": f"Bearer {KEY}"}, timeout=5
    ) as c:
        yield c


def test_status_fault_answers_once_and_creates_nothing(sb: Sandbox, client: httpx.Client) -> None:
    sb.faults.next(status=503)
    response = client.post("/emails", json=MESSAGE)
    assert response.status_code == 503
    assert response.json() == {"error": "Service Unavailable", "code": "internal_error"}
    assert response.headers["x-request-id"].startswith("req_")
    assert sb.outbox == []
    assert sb.requests[0].fault is not None
    assert sb.requests[0].json == MESSAGE
    assert client.post("/emails", json=MESSAGE).status_code == 202
    assert len(sb.outbox) == 1


def test_status_fault_comes_before_auth(sb: Sandbox) -> None:
    sb.faults.next(status=502)
    assert httpx.get(f"{sb.base_url}/emails").status_code == 502


def test_retry_after_and_default_codes(sb: Sandbox, client: httpx.Client) -> None:
    sb.faults.next(status=429, retry_after=2)
    sb.faults.next(status=429, retry_after=1.5, code="monthly_limit_exceeded", error="Quota")
    sb.faults.next(status=503, retry_after="Wed, 21 Oct 2015 07:28:00 GMT")
    sb.faults.next(status=422)
    first = client.get("/emails")
    assert first.status_code == 429
    assert first.headers["retry-after"] == "2"
    assert first.json()["code"] == "rate_limit_exceeded"
    second = client.get("/emails")
    assert second.headers["retry-after"] == "1.5"
    assert second.json() == {"error": "Quota", "code": "monthly_limit_exceeded"}
    third = client.get("/emails")
    assert third.headers["retry-after"] == "Wed, 21 Oct 2015 07:28:00 GMT"
    assert client.get("/emails").json()["code"] == "unprocessable_entity"
    assert client.get("/emails").status_code == 200


def test_raw_body_and_extra_headers(sb: Sandbox, client: httpx.Client) -> None:
    sb.faults.next(
        status=502, body=b"<html>Bad Gateway</html>", content_type="text/html", headers={"x-a": "1"}
    )
    sb.faults.next(status=429, body=b"")
    response = client.get("/emails")
    assert response.status_code == 502
    assert response.text == "<html>Bad Gateway</html>"
    assert response.headers["content-type"] == "text/html"
    assert response.headers["x-a"] == "1"
    bare = client.get("/emails")
    assert bare.status_code == 429
    assert bare.content == b""
    assert "retry-after" not in bare.headers


def test_count_and_scoping(sb: Sandbox, client: httpx.Client) -> None:
    sb.faults.next(status=500, method="POST", path="/emails", count=2)
    assert client.get("/emails").status_code == 200  # other method: untouched
    assert client.post("/emails/batch", json={"emails": [MESSAGE]}).status_code == 202
    assert client.post("/emails", json=MESSAGE).status_code == 500
    assert client.post("/emails", json=MESSAGE).status_code == 500
    assert client.post("/emails", json=MESSAGE).status_code == 202
    assert len(sb.outbox) == 2


def test_path_patterns(sb: Sandbox, client: httpx.Client) -> None:
    sb.faults.next(status=404, path="/emails/*")
    assert client.get("/emails").status_code == 200
    assert client.get("/emails/em_1").json() == {"error": "Not Found", "code": "not_found"}


def test_faults_apply_in_the_order_armed(sb: Sandbox, client: httpx.Client) -> None:
    sb.faults.next(status=500)
    sb.faults.next(status=503)
    assert [client.get("/emails").status_code for _ in range(3)] == [500, 503, 200]


def test_always_until_cleared(sb: Sandbox, client: httpx.Client) -> None:
    fault = sb.faults.always(status=503)
    assert [client.get("/emails").status_code for _ in range(3)] == [503, 503, 503]
    assert sb.faults.pending == [(fault, None)]
    sb.faults.clear()
    assert client.get("/emails").status_code == 200


def test_reset_gives_a_connection_error(sb: Sandbox, client: httpx.Client) -> None:
    sb.faults.next(reset=True)
    with pytest.raises(httpx.TransportError):
        client.post("/emails", json=MESSAGE)
    assert sb.outbox == []
    assert len(sb.requests) == 1
    assert sb.requests[0].fault is not None
    assert sb.requests[0].fault.reset
    # The client recovers on a fresh connection.
    assert client.post("/emails", json=MESSAGE).status_code == 202


def test_reset_after_processing_is_a_lost_response(sb: Sandbox, client: httpx.Client) -> None:
    sb.faults.next(reset=True, process=True)
    headers = {"Idempotency-Key": "retry-me"}
    with pytest.raises(httpx.TransportError):
        client.post("/emails", json=MESSAGE, headers=headers)
    assert len(sb.outbox) == 1  # it landed
    retry = client.post("/emails", json=MESSAGE, headers=headers)
    assert retry.status_code == 202
    assert retry.json()["id"] == sb.outbox[0].id
    assert retry.headers["idempotent-replayed"] == "true"
    assert len(sb.outbox) == 1


def test_status_after_processing(sb: Sandbox, client: httpx.Client) -> None:
    sb.faults.next(status=500, process=True)
    assert client.post("/emails", json=MESSAGE).status_code == 500
    assert len(sb.outbox) == 1


def test_delay_then_normal_answer(sb: Sandbox, client: httpx.Client) -> None:
    sb.faults.next(delay=0.3)
    started = time.monotonic()
    response = client.post("/emails", json=MESSAGE)
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 202
    assert len(sb.outbox) == 1


def test_delay_beyond_the_client_timeout(sb: Sandbox, client: httpx.Client) -> None:
    sb.faults.next(delay=1.0, status=503)
    with pytest.raises(httpx.ReadTimeout):
        client.get("/emails", timeout=0.2)
    assert client.get("/emails").status_code == 200


def test_delay_with_status(sb: Sandbox, client: httpx.Client) -> None:
    sb.faults.next(delay=0.2, status=504)
    started = time.monotonic()
    assert client.get("/emails").status_code == 504
    assert time.monotonic() - started >= 0.2


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"status": 99},
        {"status": 600},
        {"status": 500, "reset": True},
        {"retry_after": 1},
        {"delay": -1},
        {"delay": 0.1, "process": True},
    ],
)
def test_invalid_faults_are_rejected(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"status|reset|delay|need"):
        Fault(**kwargs)


def test_count_must_be_positive(sb: Sandbox) -> None:
    with pytest.raises(ValueError, match="count"):
        sb.faults.next(status=500, count=0)


def test_method_matching_is_case_insensitive() -> None:
    fault = Fault(status=500, method="post", path="/emails")
    assert fault.matches("POST", "/emails")
    assert not fault.matches("GET", "/emails")
    assert not fault.matches("POST", "/emails/batch")

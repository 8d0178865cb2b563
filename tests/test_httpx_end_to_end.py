"""Both httpx drivers against a real HTTP server on loopback, with faults."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import pytest
import trio

from poststack import (
    AsyncPostStack,
    PostStack,
    PostStackConnectionError,
    PostStackError,
    PostStackTimeoutError,
)
from poststack.transports.httpx import AsyncHttpxTransport, HttpxTransport
from tests.faultserver import Drip, FaultServer, Hang, Reply, Reset, unused_port

EMAIL = {
    "from": "hello@yourdomain.com",
    "to": ["user@example.com"],
    "subject": "Hello",
    "html": "<h1>Hi</h1>",
}
KEY = "sk_test_e2e"


def send_sync(base_url: str, **options: Any) -> object:
    with PostStack(api_key=KEY, base_url=base_url, **options) as ps:
        return ps.emails.send(EMAIL)  # type: ignore[arg-type]


async def _send_async(base_url: str, **options: Any) -> object:
    async with AsyncPostStack(api_key=KEY, base_url=base_url, **options) as ps:
        return await ps.emails.send(EMAIL)  # type: ignore[arg-type]


def send_asyncio(base_url: str, **options: Any) -> object:
    return asyncio.run(_send_async(base_url, **options))


def send_trio(base_url: str, **options: Any) -> object:
    return trio.run(lambda: _send_async(base_url, **options))


Sender = Callable[..., object]


@pytest.fixture(params=[send_sync, send_asyncio, send_trio], ids=["sync", "asyncio", "trio"])
def send(request: pytest.FixtureRequest) -> Sender:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def server() -> Any:
    with FaultServer() as srv:
        yield srv


def keys(srv: FaultServer) -> list[str | None]:
    return [r.headers.get("idempotency-key") for r in srv.requests]


def test_success(send: Sender, server: FaultServer) -> None:
    server.script(Reply(202, {"id": "em_1"}))
    assert send(server.url) == {"id": "em_1"}
    (request,) = server.requests
    assert (request.method, request.path) == ("POST", "/emails")
    assert request.json == EMAIL
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("poststack-python/")
    assert len(keys(server)[0] or "") == 36
    assert server.created_emails == 1


def test_500_500_200_reuses_one_key(send: Sender, server: FaultServer) -> None:
    server.script(
        Reply(500, {"error": "x"}), Reply(500, {"error": "x"}), Reply(202, {"id": "em_2"})
    )
    assert send(server.url) == {"id": "em_2"}
    assert len(server.requests) == 3
    assert len(set(keys(server))) == 1
    assert server.created_emails == 1


def test_503_until_retries_run_out(send: Sender, server: FaultServer) -> None:
    server.default = Reply(503, {"error": "Service down", "code": "internal_error"})
    with pytest.raises(PostStackError) as info:
        send(server.url)
    error = info.value
    assert (error.status_code, error.error, error.code) == (503, "Service down", "internal_error")
    assert error.request_id == server_request_ids(server)[-1]
    assert len(server.requests) == 4
    assert len(set(keys(server))) == 1
    assert server.created_emails == 1


def server_request_ids(srv: FaultServer) -> list[str]:
    return [f"req_{n}" for n in range(1, len(srv.requests) + 1)]


def test_max_retries_zero(send: Sender, server: FaultServer) -> None:
    server.default = Reply(503, {"error": "down"})
    with pytest.raises(PostStackError):
        send(server.url, max_retries=0)
    assert len(server.requests) == 1


def test_429_with_retry_after_seconds(send: Sender, server: FaultServer) -> None:
    server.script(
        Reply(429, {"error": "slow down", "code": "rate_limit_exceeded"}, {"Retry-After": "0.3"}),
        Reply(202, {"id": "em_3"}),
    )
    started = time.monotonic()
    assert send(server.url) == {"id": "em_3"}
    assert time.monotonic() - started >= 0.3
    assert len(set(keys(server))) == 1
    assert len(server.requests) == 2


def test_429_with_retry_after_http_date(send: Sender, server: FaultServer) -> None:
    soon = datetime.fromtimestamp(time.time() + 1, timezone.utc)
    date = soon.strftime("%a, %d %b %Y %H:%M:%S GMT")
    server.script(
        Reply(429, {"error": "slow down", "code": "rate_limit_exceeded"}, {"Retry-After": date}),
        Reply(202, {"id": "em_4"}),
    )
    assert send(server.url) == {"id": "em_4"}
    assert len(server.requests) == 2


def test_quota_429_is_not_retried(send: Sender, server: FaultServer) -> None:
    server.script(
        Reply(
            429, {"error": "Monthly limit", "code": "monthly_limit_exceeded"}, {"Retry-After": "5"}
        )
    )
    with pytest.raises(PostStackError) as info:
        send(server.url)
    assert (info.value.status_code, info.value.code, info.value.retry_after) == (
        429,
        "monthly_limit_exceeded",
        5.0,
    )
    assert len(server.requests) == 1


def test_retry_after_over_the_cap_raises_at_once(send: Sender, server: FaultServer) -> None:
    server.script(Reply(503, {"error": "maintenance"}, {"Retry-After": "120"}))
    with pytest.raises(PostStackError) as info:
        send(server.url)
    assert info.value.retry_after == 120.0
    assert len(server.requests) == 1


def test_422(send: Sender, server: FaultServer) -> None:
    server.script(Reply(422, {"error": "Domain not verified", "code": "unprocessable_entity"}))
    with pytest.raises(PostStackError) as info:
        send(server.url)
    assert (info.value.status_code, info.value.error, info.value.code) == (
        422,
        "Domain not verified",
        "unprocessable_entity",
    )
    assert info.value.request_id == "req_1"
    assert len(server.requests) == 1
    assert server.created_emails == 1


def test_reset_before_the_response_is_retried_with_the_same_key(
    send: Sender, server: FaultServer
) -> None:
    server.script(Reset(), Reply(202, {"id": "em_5"}))
    assert send(server.url) == {"id": "em_5"}
    assert len(server.requests) == 2
    assert len(set(keys(server))) == 1
    assert server.created_emails == 1


def test_resets_until_retries_run_out(send: Sender, server: FaultServer) -> None:
    server.default = Reset()
    with pytest.raises(PostStackConnectionError) as info:
        send(server.url, max_retries=1)
    assert info.value.status_code == 0
    assert not isinstance(info.value, PostStackTimeoutError)
    assert info.value.__cause__ is not None
    assert len(server.requests) == 2
    assert server.created_emails == 1


def test_hung_server_times_out(send: Sender, server: FaultServer) -> None:
    server.default = Hang()
    started = time.monotonic()
    with pytest.raises(PostStackTimeoutError) as info:
        send(server.url, timeout=0.3, max_retries=1)
    elapsed = time.monotonic() - started
    assert info.value.status_code == 0
    assert isinstance(info.value, PostStackConnectionError)
    assert info.value.__cause__ is not None
    # The server reads each request in its own thread, which under load may come
    # after the client has given up: wait for both, then check there was no third.
    server.wait_for_requests(2)
    server.wait_for_open_connections(0)
    assert len(server.requests) == 2
    assert len(set(keys(server))) == 1
    assert 0.6 <= elapsed < 5.0


def test_timeout_bounds_the_whole_attempt_not_each_read(send: Sender, server: FaultServer) -> None:
    # One byte every 0.2 s for 40 bytes would take 8 s; the attempt must end near 0.5 s.
    server.default = Drip(200, b'{"id": "em_' + b"x" * 28 + b'"}', interval=0.2)
    started = time.monotonic()
    with pytest.raises(PostStackTimeoutError):
        send(server.url, timeout=0.5, max_retries=0)
    assert time.monotonic() - started < 3.0


def test_headers_dripped_slowly_are_bounded_too(send: Sender, server: FaultServer) -> None:
    server.default = Drip(200, b'{"id": "em_6"}', interval=0.2, headers_too=True)
    started = time.monotonic()
    with pytest.raises(PostStackTimeoutError):
        send(server.url, timeout=0.5, max_retries=0)
    assert time.monotonic() - started < 3.0


def test_refused_connection(send: Sender) -> None:
    url = f"http://127.0.0.1:{unused_port()}"
    with pytest.raises(PostStackConnectionError) as info:
        send(url, max_retries=1)
    assert info.value.status_code == 0
    assert info.value.code == "connect_error"
    assert info.value.__cause__ is not None


def test_html_from_a_proxy_is_invalid_response_and_not_retried(
    send: Sender, server: FaultServer
) -> None:
    server.script(Reply(200, b"<html>captive portal</html>", {"Content-Type": "text/html"}))
    with pytest.raises(PostStackError) as info:
        send(server.url)
    assert (info.value.status_code, info.value.code) == (200, "invalid_response")
    assert len(server.requests) == 1


def test_no_content_where_json_is_promised_is_invalid(send: Sender, server: FaultServer) -> None:
    server.script(Reply(204))
    with pytest.raises(PostStackError) as info:
        send(server.url)
    assert (info.value.status_code, info.value.code) == (204, "invalid_response")
    assert len(server.requests) == 1


def test_callers_idempotency_key_is_used_on_every_attempt(server: FaultServer) -> None:
    server.script(Reply(500, {}), Reply(202, {"id": "em_7"}))
    with PostStack(api_key=KEY, base_url=server.url) as ps:
        ps.emails.send(EMAIL, idempotency_key="order-1234")  # type: ignore[arg-type]
    assert keys(server) == ["order-1234", "order-1234"]


def test_two_calls_get_two_keys(server: FaultServer) -> None:
    server.default = Reply(202, {"id": "em_8"})
    with PostStack(api_key=KEY, base_url=server.url) as ps:
        ps.emails.send(EMAIL)  # type: ignore[arg-type]
        ps.emails.send(EMAIL)  # type: ignore[arg-type]
        ps.emails.get("em_8")
    first, second, get = keys(server)
    assert first != second
    assert get is None
    assert server.connections == 1  # keep-alive


def test_user_supplied_httpx_clients_are_used_and_left_open(server: FaultServer) -> None:
    import httpx

    server.default = Reply(202, {"id": "em_9"})
    with httpx.Client(headers={"X-Trace": "t1"}) as client:
        with PostStack(api_key=KEY, base_url=server.url, transport=HttpxTransport(client)) as ps:
            assert ps.emails.send(EMAIL) == {"id": "em_9"}  # type: ignore[arg-type]
        assert not client.is_closed
        assert server.requests[-1].headers["x-trace"] == "t1"
        assert server.requests[-1].headers["user-agent"].startswith("poststack-python/")

    async def main() -> None:
        async with httpx.AsyncClient() as client:
            transport = AsyncHttpxTransport(client)
            async with AsyncPostStack(api_key=KEY, base_url=server.url, transport=transport) as ps:
                assert await ps.emails.send(EMAIL) == {"id": "em_9"}  # type: ignore[arg-type]
            assert not client.is_closed

    asyncio.run(main())


def test_user_client_attempt_deadline_between_reads(server: FaultServer) -> None:
    import httpx

    server.default = Drip(200, b'{"id": "em_' + b"x" * 28 + b'"}', interval=0.2)
    started = time.monotonic()
    with httpx.Client() as client:
        ps = PostStack(
            api_key=KEY,
            base_url=server.url,
            timeout=0.5,
            max_retries=0,
            transport=HttpxTransport(client),
        )
        with pytest.raises(PostStackTimeoutError):
            ps.emails.send(EMAIL)  # type: ignore[arg-type]
    # A user's client times each read, so the bound is the deadline plus one read.
    assert time.monotonic() - started < 3.0

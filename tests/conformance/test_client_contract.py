"""What the clients promise around their transports: no exception but a PostStackError
out of a call, a closed client refuses to send, and the transport options."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import trio

from poststack import AsyncPostStack, PostStack, PostStackConnectionError
from poststack.transports import Request, Response
from poststack.transports.httpx import AsyncHttpxTransport, HttpxTransport
from tests.faultserver import FaultServer

from .runtimes import API_KEY

URL = "http://127.0.0.1:9"  # never reached: the transports below answer themselves


class Raising:
    """A transport whose library fails in a way no transport should let through."""

    def __init__(self, exc: Exception) -> None:
        self.exc = exc
        self.sent: list[Request] = []

    def send(self, request: Request, timeout: float) -> Response:
        self.sent.append(request)
        raise self.exc

    def close(self) -> None:
        pass


class AsyncRaising(Raising):
    async def send(self, request: Request, timeout: float) -> Response:  # type: ignore[override]  # noqa: ASYNC109
        self.sent.append(request)
        raise self.exc

    async def aclose(self) -> None:
        pass


@pytest.mark.parametrize(
    "exc",
    [RuntimeError("Event loop is closed"), ValueError("bad"), KeyError("x"), TypeError()],
    ids=lambda e: type(e).__name__,
)
def test_an_unexpected_exception_is_a_connection_error_with_its_cause(exc: Exception) -> None:
    transport = Raising(exc)
    with (
        PostStack(API_KEY, URL, max_retries=2, transport=transport) as ps,
        pytest.raises(PostStackConnectionError) as info,
    ):
        ps.emails.send({"from": "a@acme.test", "to": ["b@example.com"], "subject": "x"})
    error = info.value
    assert (error.status_code, error.code) == (0, "connection_error")
    assert error.__cause__ is exc
    # Judged as a broken connection: retried, every time with the same Idempotency-Key.
    assert len(transport.sent) == 3
    assert len({r.header("Idempotency-Key") for r in transport.sent}) == 1


@pytest.mark.parametrize("loop", ["asyncio", "trio"])
def test_async_calls_too(loop: str) -> None:
    transport = AsyncRaising(RuntimeError("Event loop is closed"))

    async def main() -> None:
        async with AsyncPostStack(API_KEY, URL, max_retries=1, transport=transport) as ps:
            with pytest.raises(PostStackConnectionError) as info:
                await ps.emails.get("em_1")
            assert isinstance(info.value.__cause__, RuntimeError)

    asyncio.run(main()) if loop == "asyncio" else trio.run(main)
    assert len(transport.sent) == 2


def test_cancellation_is_not_swallowed() -> None:
    class Slow:
        async def send(self, request: Request, timeout: float) -> Response:  # noqa: ASYNC109
            await trio.sleep_forever()
            raise AssertionError

        async def aclose(self) -> None:
            pass

    async def main() -> None:
        ps = AsyncPostStack(API_KEY, URL, transport=Slow())
        with trio.move_on_after(0.01) as scope:
            await ps.emails.get("em_1")
        assert scope.cancelled_caught

    trio.run(main)


def test_a_closed_client_refuses_to_send() -> None:
    with FaultServer() as server:
        ps = PostStack(API_KEY, server.url)
        assert ps.emails.get("em_1") == {"ok": True}
        pages = ps.emails.list_all()
        ps.close()
        for attempt in (lambda: ps.emails.get("em_1"), lambda: next(iter(pages))):
            with pytest.raises(RuntimeError, match="closed"):
                attempt()
        with pytest.raises(RuntimeError, match="closed"), ps:
            pass
        ps.close()  # closing again is fine
        assert len(server.requests) == 1


def test_a_closed_client_refuses_a_transport_of_ones_own_too() -> None:
    with FaultServer() as server:
        transport = HttpxTransport()
        ps = PostStack(API_KEY, server.url, transport=transport)
        ps.close()
        with pytest.raises(RuntimeError, match="closed"):
            ps.emails.get("em_1")
        # The transport is the caller's, and still open.
        assert PostStack(API_KEY, server.url, transport=transport).emails.get("em_1")
        transport.close()


def test_a_closed_async_client_refuses_to_send() -> None:
    async def main(url: str) -> None:
        async with AsyncPostStack(API_KEY, url) as ps:
            await ps.emails.get("em_1")
        with pytest.raises(RuntimeError, match="closed"):
            await ps.emails.get("em_1")
        with pytest.raises(RuntimeError, match="closed"):
            async with ps:
                pass

    with FaultServer() as server:
        asyncio.run(main(server.url))
        assert len(server.requests) == 1


@pytest.mark.parametrize("make", [HttpxTransport, AsyncHttpxTransport])
def test_trust_env_goes_with_the_transport_the_client_creates(make: Any) -> None:
    cls = PostStack if make is HttpxTransport else AsyncPostStack
    with pytest.raises(ValueError, match="trust_env"):
        cls(API_KEY, transport=make(), trust_env=False)
    with pytest.raises(TypeError, match="trust_env"):
        cls(API_KEY, trust_env="no")


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "64"])
def test_max_response_bytes_is_checked_at_construction(value: object) -> None:
    with pytest.raises(ValueError, match="max_response_bytes"):
        PostStack(API_KEY, max_response_bytes=value)  # type: ignore[arg-type]


def test_a_bad_proxy_variable_fails_at_construction_without_showing_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "socks5://user:hunter2@127.0.0.1:1080")
    with pytest.raises(ValueError, match="HTTPS_PROXY") as info:
        PostStack(API_KEY)
    assert "hunter2" not in str(info.value)
    # Not read at all when the environment is not trusted, or the transport is one's own.
    PostStack(API_KEY, trust_env=False)
    PostStack(API_KEY, transport=HttpxTransport(trust_env=False))

"""TrioTransport beyond the conformance suite: pool, cancellation, idle closes, TLS."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import struct
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

import h11
import pytest
import trio

from poststack import AsyncPostStack, PostStackConnectionError, PostStackTimeoutError
from poststack.transports.trio import TrioTransport
from tests.faultserver import FaultServer, Hang, Reply
from tests.selfsigned import self_signed_certificate

API_KEY = "sk_test_trio"
PAYLOAD = {"from": "hello@acme.test", "to": ["ana@example.com"], "subject": "Hi"}


async def _in_thread(wait: Callable[[], None]) -> None:
    """Run one of FaultServer's blocking waits (a Condition) without blocking trio."""
    await trio.to_thread.run_sync(wait)


def test_outside_trio_is_a_clear_error() -> None:
    async def main() -> None:
        transport = TrioTransport()
        async with AsyncPostStack(API_KEY, "http://127.0.0.1:9", transport=transport) as ps:
            await ps.emails.get("em_1", timeout=5)

    # Like any exception from a transport, a PostStackError that names the cause.
    with pytest.raises(PostStackConnectionError, match=r"only inside trio\.run") as info:
        asyncio.run(main())
    assert isinstance(info.value.__cause__, RuntimeError)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_connections": 0},
        {"max_connections": 1.5},
        {"max_connections": True},
        {"keepalive_expiry": -1},
        {"keepalive_expiry": float("nan")},
        {"keepalive_expiry": "5"},
    ],
)
def test_bad_arguments(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be"):
        TrioTransport(**kwargs)


def test_bad_ssl_context() -> None:
    with pytest.raises(TypeError, match=r"ssl\.SSLContext"):
        TrioTransport(ssl_context=object())  # type: ignore[arg-type]


def _run(main: Callable[[str, TrioTransport], Awaitable[None]], **kwargs: Any) -> FaultServer:
    with FaultServer() as server:
        transport = TrioTransport(**kwargs)
        trio.run(main, server.url, transport)
        server.wait_for_open_connections(0)  # closed by aclose or by the failure
    return server


def test_keep_alive_reuses_one_connection() -> None:
    async def main(url: str, transport: TrioTransport) -> None:
        async with AsyncPostStack(API_KEY, url, transport=transport) as ps:
            for _ in range(5):
                await ps.emails.send(PAYLOAD)
        await transport.aclose()

    assert _run(main).connections == 1


def test_keepalive_expiry_zero_never_reuses() -> None:
    async def main(url: str, transport: TrioTransport) -> None:
        async with AsyncPostStack(API_KEY, url, transport=transport) as ps:
            for _ in range(3):
                await ps.emails.send(PAYLOAD)
        await transport.aclose()

    assert _run(main, keepalive_expiry=0).connections == 3


def test_caller_cancellation_closes_the_connection() -> None:
    async def main(url: str, transport: TrioTransport) -> None:
        async with AsyncPostStack(API_KEY, url, timeout=60, transport=transport) as ps:
            with trio.CancelScope() as scope:
                # Cancel from outside once the server holds the request.
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(_cancel_when, scope, lambda: server.wait_for_requests(1))
                    await ps.emails.send(PAYLOAD)
            assert scope.cancelled_caught
            assert transport._open == 0
            await _in_thread(lambda: server.wait_for_open_connections(0))
            assert await ps.emails.send(PAYLOAD) == {"ok": True}
        await transport.aclose()

    with FaultServer() as server:
        server.script(Hang())
        trio.run(main, server.url, TrioTransport())
        assert server.connections == 2


async def _cancel_when(scope: trio.CancelScope, wait: Callable[[], None]) -> None:
    await _in_thread(wait)
    scope.cancel()


def test_timed_out_attempt_frees_its_slot_for_a_waiting_task() -> None:
    """max_connections=1: B waits while A hangs; A's timeout closes it and B goes on."""
    outcomes: dict[str, Any] = {}

    async def main(url: str, transport: TrioTransport) -> None:
        async with AsyncPostStack(API_KEY, url, max_retries=0, transport=transport) as ps:

            async def a() -> None:
                try:
                    await ps.emails.send(PAYLOAD, timeout=0.5)
                except PostStackTimeoutError as exc:
                    outcomes["a"] = exc

            async def b() -> None:
                await _in_thread(lambda: server.wait_for_requests(1))  # A holds the connection
                outcomes["b"] = await ps.emails.get("em_1", timeout=30)

            async with trio.open_nursery() as nursery:
                nursery.start_soon(a)
                nursery.start_soon(b)
        await transport.aclose()

    with FaultServer() as server:
        server.script(Hang(), Reply(200, {"id": "em_1"}))
        trio.run(main, server.url, TrioTransport(max_connections=1))
        assert isinstance(outcomes["a"], PostStackTimeoutError)
        assert outcomes["b"] == {"id": "em_1"}
        assert server.max_concurrent_connections == 1


def test_each_waiting_attempt_ends_at_its_own_deadline() -> None:
    """Waits are woken by the transport's alarm: a shorter deadline than one in flight,
    and a second one left after the first fired, still end their attempts."""
    ended: list[tuple[str, BaseException]] = []

    async def main(url: str, transport: TrioTransport) -> None:
        both_ended = trio.Event()
        async with AsyncPostStack(API_KEY, url, max_retries=0, transport=transport) as ps:

            async def send(name: str, seconds: float) -> None:
                try:
                    await ps.emails.send(PAYLOAD, timeout=seconds)
                except PostStackTimeoutError as exc:
                    ended.append((name, exc))
                    if len(ended) == 2:
                        both_ended.set()

            with trio.fail_after(20):  # a wait nobody wakes fails the test, not pytest
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(send, "long", 600)
                    await _in_thread(lambda: server.wait_for_requests(1))
                    nursery.start_soon(send, "short", 0.2)
                    nursery.start_soon(send, "shorter", 0.1)
                    await _in_thread(lambda: server.wait_for_requests(3))
                    await both_ended.wait()
                    nursery.cancel_scope.cancel()  # the 600 s one
        await transport.aclose()

    with FaultServer() as server:
        server.script(Hang(), Hang(), Hang())
        trio.run(main, server.url, TrioTransport())
        assert sorted(name for name, _ in ended) == ["short", "shorter"]
        assert all("no whole response within" in str(exc) for _, exc in ended)
        server.wait_for_open_connections(0)


def test_a_run_that_refuses_the_alarm_task_is_not_taken_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """trio refuses new system tasks in a run that is closing down: nothing is sent
    without the alarm that ends overdue waits, and every send says why."""

    def closing(*args: object, **kwargs: object) -> None:
        raise RuntimeError("Nursery is closed to new arrivals")

    async def main(url: str, transport: TrioTransport) -> None:
        async with AsyncPostStack(API_KEY, url, max_retries=1, transport=transport) as ps:
            for _ in range(2):
                with pytest.raises(PostStackConnectionError, match="closed to new arrivals"):
                    await ps.emails.send(PAYLOAD, timeout=5)

    monkeypatch.setattr(trio.lowlevel, "spawn_system_task", closing)
    with FaultServer() as server:
        trio.run(main, server.url, TrioTransport())
        assert server.connections == 0


def test_one_transport_across_trio_runs() -> None:
    async def main(url: str, transport: TrioTransport) -> None:
        ps = AsyncPostStack(API_KEY, url, transport=transport)
        assert await ps.emails.send(PAYLOAD) == {"ok": True}

    with FaultServer() as server:
        transport = TrioTransport()
        trio.run(main, server.url, transport)
        trio.run(main, server.url, transport)  # the first run's idle connection is dropped
        server.wait_for_open_connections(1)
        assert server.connections == 2
        trio.run(transport.aclose)
        server.wait_for_open_connections(0)


# --------------------------------------------------------------------------- raw servers


async def _serve_h11(stream: trio.abc.Stream, *, close_after: bool, served: list[int]) -> None:
    """Answer every request with 200 ``{}``; with ``close_after``, close silently after one."""
    conn = h11.Connection(h11.SERVER)
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            data = await stream.receive_some(65536)
            if not data:
                return
            conn.receive_data(data)
        elif isinstance(event, h11.EndOfMessage):
            served.append(1)
            reply = conn.send(h11.Response(status_code=200, headers=[("content-length", "2")]))
            await stream.send_all((reply or b"") + b"{}")
            conn.send(h11.Data(data=b"{}"))
            conn.send(h11.EndOfMessage())
            if close_after:
                # No "Connection: close": the connection dies while the client keeps it idle.
                await stream.aclose()
                return
            conn.start_next_cycle()


async def _client_of(
    nursery: trio.Nursery, handler: Callable[[trio.SocketStream], Awaitable[None]]
) -> tuple[TrioTransport, AsyncPostStack]:
    """Serve ``handler`` on a loopback port; a client (no retries) on a TrioTransport to it."""
    [listener] = await nursery.start(partial(trio.serve_tcp, handler, 0, host="127.0.0.1"))
    port = listener.socket.getsockname()[1]
    transport = TrioTransport()
    url = f"http://127.0.0.1:{port}"
    return transport, AsyncPostStack(API_KEY, url, max_retries=0, transport=transport)


def test_connection_closed_by_the_server_while_idle_is_replaced_without_a_retry() -> None:
    served: list[int] = []
    send_closed, closed = trio.open_memory_channel[None](10)

    async def handler(stream: trio.SocketStream) -> None:
        await _serve_h11(stream, close_after=True, served=served)
        await send_closed.send(None)

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            transport, ps = await _client_of(nursery, handler)
            for _ in range(3):
                assert await ps.emails.get("em_1") == {}
                await closed.receive()  # the server has closed the now idle connection
            await transport.aclose()
            nursery.cancel_scope.cancel()

    trio.run(main)
    assert len(served) == 3  # each call found the idle one dead and opened another, no retry


async def _answer_once_then(stream: trio.SocketStream, ending: str) -> None:
    """Answer one request with 200 ``{}``, then ``ending``.

    ``"unasked_bytes"`` writes, in the same write as the answer, what looks like
    another response (as servers that time an idle connection out do), and keeps
    the connection open: the client reads both at once. ``"unasked_bytes_later"``
    writes it separately, so it may arrive while the connection is idle.
    ``"reset"`` resets the connection.
    """
    conn = h11.Connection(h11.SERVER)
    while not isinstance(event := conn.next_event(), h11.EndOfMessage):
        if event is h11.NEED_DATA:
            conn.receive_data(await stream.receive_some(65536))
    reply = conn.send(h11.Response(status_code=200, headers=[("content-length", "2")]))
    unasked = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\n\r\n"
    if ending == "unasked_bytes":
        await stream.send_all((reply or b"") + b"{}" + unasked)
        return
    await stream.send_all((reply or b"") + b"{}")
    if ending == "unasked_bytes_later":
        await stream.send_all(unasked)
    else:
        # SO_LINGER with a zero timeout: close() sends a reset, not a FIN.
        stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        stream.socket.close()


@pytest.mark.parametrize("ending", ["unasked_bytes", "unasked_bytes_later", "reset"])
def test_an_idle_connection_the_server_wrote_to_or_reset_is_never_reused(ending: str) -> None:
    served: list[int] = []
    opened: list[int] = []
    send_ended, ended = trio.open_memory_channel[None](10)

    async def handler(stream: trio.SocketStream) -> None:
        opened.append(1)
        if len(opened) > 1:
            await _serve_h11(stream, close_after=False, served=served)
            return
        await _answer_once_then(stream, ending)
        served.append(1)
        await send_ended.send(None)
        await trio.sleep_forever()  # the unasked bytes stay unread on an open connection

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            transport, ps = await _client_of(nursery, handler)
            assert await ps.emails.get("em_1") == {}
            await ended.receive()  # the 408 was sent, or the connection reset
            # Reused, it would answer with the 408 meant for no request, or fail (no retries).
            assert await ps.emails.get("em_2") == {}
            await transport.aclose()
            nursery.cancel_scope.cancel()

    trio.run(main)
    assert len(opened) == 2
    assert len(served) == 2


def test_tls_verifies_certificates(tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    trusted = ssl.create_default_context(cafile=str(cert))
    served: list[int] = []

    async def handler(stream: trio.SSLStream[trio.SocketStream]) -> None:
        # The client that does not trust us hangs up during the handshake.
        with contextlib.suppress(trio.BrokenResourceError):
            await _serve_h11(stream, close_after=False, served=served)

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            [listener] = await nursery.start(
                partial(trio.serve_ssl_over_tcp, handler, 0, server_context, host="127.0.0.1")
            )
            port = listener.transport_listener.socket.getsockname()[1]
            url = f"https://127.0.0.1:{port}"

            default = TrioTransport()
            ps = AsyncPostStack(API_KEY, url, max_retries=0, transport=default)
            with pytest.raises(PostStackConnectionError) as info:
                await ps.emails.get("em_1")
            assert info.value.code == "connect_error"  # the request never left
            assert isinstance(info.value.__cause__, ssl.SSLCertVerificationError)
            assert default._open == 0

            mine = TrioTransport(ssl_context=trusted)
            ps = AsyncPostStack(API_KEY, url, max_retries=0, transport=mine)
            assert await ps.emails.get("em_1") == {}
            assert await ps.emails.send(PAYLOAD) == {}
            await mine.aclose()
            nursery.cancel_scope.cancel()

    trio.run(main)
    assert len(served) == 2

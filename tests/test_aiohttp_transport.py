"""AiohttpTransport beyond the conformance suite: its sessions, loops, forks and refusals.

The conformance suite (tests/conformance/) runs every scenario through the
transport's own session and through a user's ``aiohttp.ClientSession``;
here are the promises only this transport makes: one own session per event
loop, closed when the loop ends; a user's session used as it is, never
closed, and refused in another loop or process; and a clear error under trio.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import os
import socket
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import aiohttp
import pytest
import trio

from poststack import AsyncPostStack, PostStackConnectionError, PostStackError
from poststack.transports.aiohttp import AiohttpTransport
from tests.faultserver import FaultServer, RecordedRequest, Reply, Reset

API_KEY = "sk_test_aiohttp"
PAYLOAD = {"from": "hello@acme.test", "to": ["ana@example.com"], "subject": "Hi"}
QUEUED = {"id": "em_1", "status": "queued"}


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        srv.default = Reply(202, QUEUED)
        yield srv


def _send(ps: AsyncPostStack, subject: str = "Hi") -> Any:
    return ps.emails.send({**PAYLOAD, "subject": subject})


# --- refusals, before anything is sent --------------------------------------------------


def test_under_trio_every_call_fails_saying_so(server: FaultServer) -> None:
    async def main() -> None:
        transport = AiohttpTransport()
        async with AsyncPostStack(API_KEY, server.url, max_retries=0, transport=transport) as ps:
            await ps.emails.get("em_1")

    with pytest.raises(PostStackConnectionError, match=r"only under asyncio, not trio") as info:
        trio.run(main)
    assert isinstance(info.value.__cause__, RuntimeError)
    assert "TrioTransport" in str(info.value)
    assert server.requests == []


def test_outside_an_event_loop_it_says_so() -> None:
    transport = AiohttpTransport()
    coroutine = transport.send(None, 1.0)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="needs a running asyncio event loop"):
        coroutine.send(None)


async def _closed_session() -> aiohttp.ClientSession:
    session = aiohttp.ClientSession()
    await session.close()
    return session


async def _session_with_auth() -> aiohttp.ClientSession:
    with warnings.catch_warnings():  # aiohttp deprecates auth= (4.0 drops it)
        warnings.simplefilter("ignore", DeprecationWarning)
        return aiohttp.ClientSession(auth=aiohttp.BasicAuth("user", "secret"))


@pytest.mark.parametrize(
    ("make", "error", "words"),
    [
        (lambda: AiohttpTransport(object()), TypeError, "must be an aiohttp.ClientSession"),  # type: ignore[arg-type]
        (lambda: AiohttpTransport(trust_env="no"), TypeError, "trust_env"),  # type: ignore[arg-type]
    ],
    ids=["not-a-session", "trust_env-not-a-bool"],
)
def test_bad_arguments(make: Any, error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words):
        make()


def test_a_session_it_cannot_use_is_refused_at_construction() -> None:
    async def main() -> None:
        with pytest.raises(ValueError, match="is closed"):
            AiohttpTransport(await _closed_session())
        session = await _session_with_auth()
        try:
            with pytest.raises(ValueError, match="auth=") as info:
                AiohttpTransport(session)
            assert "secret" not in str(info.value)
        finally:
            await session.close()
        async with aiohttp.ClientSession() as ok:
            with pytest.raises(ValueError, match="trust_env"):
                AiohttpTransport(ok, trust_env=False)

    asyncio.run(main())


def test_a_bad_proxy_variable_is_refused_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "socks5://user:hunter2@127.0.0.1:1080")
    with pytest.raises(ValueError, match="HTTPS_PROXY") as info:
        AiohttpTransport()
    assert "hunter2" not in str(info.value)
    AiohttpTransport(trust_env=False)  # not read at all


def test_a_closed_transport_sends_nothing_more(server: FaultServer) -> None:
    async def main() -> None:
        transport = AiohttpTransport()
        ps = AsyncPostStack(API_KEY, server.url, max_retries=0, transport=transport)
        assert await _send(ps) == QUEUED
        await transport.aclose()
        await transport.aclose()  # closing again is fine
        with pytest.raises(PostStackConnectionError, match="AiohttpTransport is closed"):
            await _send(ps)

    asyncio.run(main())
    assert len(server.requests) == 1
    server.wait_for_open_connections(0)


# --- the transport's own session: one per event loop ------------------------------------


def test_each_asyncio_run_closes_its_connections_as_it_ends(server: FaultServer) -> None:
    transport = AiohttpTransport()
    ps = AsyncPostStack(API_KEY, server.url, max_retries=0, transport=transport)

    async def batch(tag: str) -> list[Any]:
        return list(await asyncio.gather(*(_send(ps, f"{tag}-{i}") for i in range(4))))

    for run in range(3):
        assert asyncio.run(batch(f"run{run}")) == [QUEUED] * 4
        # Nobody closed the transport or the client: the loop's end closed its connections.
        server.wait_for_open_connections(0)
    connections = {r.connection_id for r in server.requests}
    assert len(connections) == server.connections  # none was shared between two loops
    assert server.connections >= 3


def test_a_loop_closed_by_hand_leaves_nothing_open_for_the_next(
    server: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A loop closed without ``shutdown_asyncgens()``: the next loop closes what it left."""
    transport = AiohttpTransport()
    ps = AsyncPostStack(API_KEY, server.url, max_retries=0, transport=transport)
    old = asyncio.new_event_loop()
    try:
        assert old.run_until_complete(_send(ps, "old")) == QUEUED
    finally:
        old.close()  # no shutdown_asyncgens(): the transport is not told
    assert server.open_connections == 1
    with warnings.catch_warnings(record=True) as seen, caplog.at_level(logging.DEBUG):
        warnings.simplefilter("always")
        assert asyncio.run(_send(ps, "new")) == QUEUED
        server.wait_for_open_connections(0)  # the old loop's connection too
        del old
        gc.collect()
    # The session was closed (aiohttp would log "Unclosed client session" otherwise); only
    # asyncio's own transport object, which a closed loop can no longer close, is reported.
    assert not [r for r in caplog.records if "nclosed" in r.getMessage()]
    assert {str(w.message).split(" <")[0] for w in seen} <= {"unclosed transport"}
    first, second = server.requests
    assert first.connection_id != second.connection_id


def test_loops_in_two_threads_each_use_their_own_session(server: FaultServer) -> None:
    import threading

    transport = AiohttpTransport()
    ps = AsyncPostStack(API_KEY, server.url, max_retries=0, transport=transport)
    both_sending = threading.Barrier(2)
    results: dict[str, list[Any]] = {}

    async def sends(tag: str) -> list[Any]:
        first = await _send(ps, f"{tag}-0")
        await asyncio.to_thread(both_sending.wait, 30)  # both loops hold a session now
        return [first, *await asyncio.gather(*(_send(ps, f"{tag}-{i}") for i in range(1, 5)))]

    def thread(tag: str) -> None:
        results[tag] = asyncio.run(sends(tag))

    threads = [threading.Thread(target=thread, args=(tag,)) for tag in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == {"a": [QUEUED] * 5, "b": [QUEUED] * 5}
    by_connection: dict[int, set[str]] = {}
    for request in server.requests:
        by_connection.setdefault(request.connection_id, set()).add(request.json["subject"][0])
    assert all(len(tags) == 1 for tags in by_connection.values()), by_connection
    server.wait_for_open_connections(0)


def _sockets_connected_to(port: int) -> int:
    """How many of this process's file descriptors are TCP connections to ``port``."""
    count = 0
    for name in os.listdir("/proc/self/fd"):
        try:
            sock = socket.socket(fileno=os.dup(int(name)))
        except OSError:  # not a socket (or gone meanwhile)
            continue
        with sock, contextlib.suppress(OSError):
            count += sock.getpeername()[:2] == ("127.0.0.1", port)
    return count


def _quiet_collection() -> list[str]:
    """Collect garbage; what it warned or logged about (asyncio and aiohttp objects)."""
    said: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            said.append(record.getMessage())

    handler = Collect()
    logging.getLogger("asyncio").addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            gc.collect()
    finally:
        logging.getLogger("asyncio").removeHandler(handler)
    return said + [str(w.message) for w in seen]


def _in_a_forked_child(work: Callable[[], Any]) -> Any:
    """What ``work()`` returned (JSON) in a child forked from here, which then leaves."""
    result_r, result_w = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # forking with threads (3.12+)
        pid = os.fork()
    if pid == 0:  # leave without running any of pytest's cleanup
        code = 1
        try:
            os.close(result_r)
            os.write(result_w, json.dumps(work()).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(result_w)
    with os.fdopen(result_r, "rb") as pipe:
        reported = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return json.loads(reported)


def test_a_forked_child_never_uses_the_parents_connections(server: FaultServer) -> None:
    """The parent's loop still open at the fork: its sockets are the parent's to use.

    The child closes its copies of them at once (the parent's stay open) and leaves
    the parent's aiohttp objects alone, so that collecting them says nothing.
    """

    def answer(request: RecordedRequest) -> Reply:
        return Reply(202, {"id": f"em_{request.json['subject']}"})

    server.handler = answer
    transport = AiohttpTransport()
    ps = AsyncPostStack(API_KEY, server.url, max_retries=0, transport=transport)

    async def calls(tag: str, count: int) -> list[tuple[str, Any]]:
        async def one(i: int) -> tuple[str, Any]:
            try:
                return f"{tag}-{i}", (await _send(ps, f"{tag}-{i}"))["id"]
            except PostStackError as exc:
                return f"{tag}-{i}", repr(exc)

        return list(await asyncio.gather(*(one(i) for i in range(count))))

    loop = asyncio.new_event_loop()  # kept open across the fork
    try:
        loop.run_until_complete(calls("warm", 4))
        warm_connections = server.connections
        assert _sockets_connected_to(server.port) == warm_connections

        def child_work() -> dict[str, Any]:
            inherited = _sockets_connected_to(server.port)
            complaints = _quiet_collection()
            outcome = asyncio.run(calls("child", 8))
            return {"inherited": inherited, "complaints": complaints, "calls": outcome}

        report = _in_a_forked_child(child_work)
        assert (report["inherited"], report["complaints"]) == (0, [])
        child = report["calls"]
        # The parent goes on with its warm connections, which the child left alone.
        parent = loop.run_until_complete(calls("parent", 4))
        loop.run_until_complete(transport.aclose())
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
    assert [(s, got) for s, got in child if got != f"em_{s}"] == []
    assert [(s, got) for s, got in parent if got != f"em_{s}"] == []
    by_tag: dict[str, set[int]] = {}
    for request in server.requests:
        by_tag.setdefault(request.json["subject"].split("-")[0], set()).add(request.connection_id)
    assert by_tag["parent"] <= by_tag["warm"]  # reused, unbroken by the child
    assert not by_tag["child"] & by_tag["warm"]
    assert server.connections > warm_connections
    server.wait_for_open_connections(0)


def test_aiohttp_does_not_send_a_request_again_behind_the_core(server: FaultServer) -> None:
    """A GET that meets a reset on a kept-alive connection fails once; the core decides."""
    server.script(Reply(200, {"email": QUEUED}), Reset(), Reply(200, {"email": QUEUED}))

    async def main() -> None:
        transport = AiohttpTransport()
        async with AsyncPostStack(API_KEY, server.url, max_retries=0, transport=transport) as ps:
            assert await ps.emails.get("em_1") == {"email": QUEUED}
            with pytest.raises(PostStackConnectionError) as info:
                await ps.emails.get("em_1")
            assert info.value.code == "connection_error"
        await transport.aclose()

    asyncio.run(main())
    assert len(server.requests) == 2


# --- a user's session: used as it is, never closed --------------------------------------


def test_a_users_session_is_used_as_is_and_never_closed(server: FaultServer) -> None:
    async def main() -> None:
        async with aiohttp.ClientSession(
            headers={"X-Tenant": "acme"}, raise_for_status=True
        ) as session:
            transport = AiohttpTransport(session)
            async with AsyncPostStack(API_KEY, server.url, transport=transport) as ps:
                assert await _send(ps) == QUEUED
                server.script(Reply(422, {"error": "Bad from", "code": "validation_error"}))
                # raise_for_status=True is the session's, not the SDK's: the error is parsed.
                with pytest.raises(PostStackError) as info:
                    await _send(ps)
                assert (info.value.status_code, info.value.code) == (422, "validation_error")
            await transport.aclose()
            assert not session.closed
            async with session.get(server.url + "/still-mine") as response:
                assert response.status == 202

    asyncio.run(main())
    sent = server.requests[0]
    assert sent.headers["x-tenant"] == "acme"
    assert sent.headers["authorization"] == f"Bearer {API_KEY}"


def test_a_users_session_in_another_loop_is_refused(server: FaultServer) -> None:
    holder: dict[str, Any] = {}

    async def first() -> None:
        holder["session"] = session = aiohttp.ClientSession()
        holder["ps"] = ps = AsyncPostStack(
            API_KEY, server.url, max_retries=0, transport=AiohttpTransport(session)
        )
        assert await _send(ps) == QUEUED

    async def second() -> None:
        with pytest.raises(PostStackConnectionError, match="belongs to another event loop"):
            await _send(holder["ps"])

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(first())
        asyncio.run(second())
        loop.run_until_complete(holder["session"].close())
    finally:
        loop.close()
    assert len(server.requests) == 1


def test_a_users_session_in_a_forked_child_is_refused(server: FaultServer) -> None:
    loop = asyncio.new_event_loop()
    holder: dict[str, Any] = {}

    async def make() -> None:
        holder["session"] = session = aiohttp.ClientSession()
        holder["ps"] = AsyncPostStack(
            API_KEY, server.url, max_retries=0, transport=AiohttpTransport(session)
        )
        assert await _send(holder["ps"]) == QUEUED

    async def refused() -> str:
        try:
            await _send(holder["ps"], "child")
        except PostStackConnectionError as exc:
            return str(exc)
        return "sent"

    try:
        loop.run_until_complete(make())
        said = _in_a_forked_child(lambda: asyncio.run(refused()))
        assert "inherited from the parent process" in said
        assert loop.run_until_complete(_send(holder["ps"], "parent")) == QUEUED
        loop.run_until_complete(holder["session"].close())
    finally:
        loop.close()
    assert [r.json["subject"] for r in server.requests] == ["Hi", "parent"]


def test_a_users_session_keeps_two_habits_of_aiohttp(server: FaultServer) -> None:
    """Documented: a bodyless DELETE says Content-Length: 0, and a GET is sent again once."""
    server.script(
        Reply(200, {"success": True}),  # the DELETE
        Reply(200, {"email": QUEUED}),
        Reset(),  # aiohttp sends the GET again, on a new connection
        Reply(200, {"email": QUEUED}),
    )

    async def main() -> None:
        async with aiohttp.ClientSession() as session:
            transport = AiohttpTransport(session)
            ps = AsyncPostStack(API_KEY, server.url, max_retries=0, transport=transport)
            await ps.api_keys.revoke(7)
            await ps.emails.get("em_1")
            assert await ps.emails.get("em_1") == {"email": QUEUED}

    asyncio.run(main())
    delete, *gets = server.requests
    assert (delete.method, delete.headers.get("content-length")) == ("DELETE", "0")
    assert len(gets) == 3


def test_the_own_session_frames_a_bodyless_delete_as_the_core_does(server: FaultServer) -> None:
    server.default = Reply(200, {"success": True})

    async def main() -> None:
        transport = AiohttpTransport()
        async with AsyncPostStack(API_KEY, server.url, transport=transport) as ps:
            await ps.api_keys.revoke(7)
        await transport.aclose()

    asyncio.run(main())
    [delete] = server.requests
    assert delete.method == "DELETE"
    assert "content-length" not in delete.headers
    assert "content-type" not in delete.headers


def test_the_fastapi_page_sends_through_the_transport_made_in_the_lifespan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """docs/fastapi.md's aiohttp block: the app sends through it, and shutdown closes it."""
    from fastapi.testclient import TestClient

    from poststack.testing import Sandbox
    from tests.contrib.conftest import doc_blocks

    block = doc_blocks("fastapi")[-1]
    assert "AiohttpTransport()" in block
    with Sandbox(api_key="sk_test_docs_aiohttp") as sb:
        monkeypatch.setenv("POSTSTACK_API_KEY", sb.api_key)
        monkeypatch.setenv("POSTSTACK_BASE_URL", sb.base_url)
        namespace: dict[str, Any] = {"__name__": "docs_fastapi_aiohttp"}
        exec(block, namespace)
        with TestClient(namespace["app"]) as http:
            client = namespace["app"].state.poststack
            transport = client._transport
            assert isinstance(transport, AiohttpTransport)
            response = http.post("/signup", params={"email": "new@example.org"})
            assert response.status_code == 200, response.text
        assert [(e.id, e.to) for e in sb.outbox] == [
            (response.json()["email_id"], ("new@example.org",))
        ]
        assert transport._closed
        assert transport._loops == {}  # its session closed with the lifespan

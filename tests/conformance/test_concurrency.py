"""Many sends at once through one client: all succeed, keys are distinct, no connection leaks."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest
import trio

from poststack import AsyncPostStack, PostStack
from poststack.transports.aiohttp import AiohttpTransport
from poststack.transports.httpx import AsyncHttpxTransport, HttpxTransport
from poststack.transports.requests import RequestsTransport
from poststack.transports.trio import TrioTransport
from tests.faultserver import FaultServer, RecordedRequest, Reply

from .runtimes import API_KEY

SENDS = 200
THREADS = 8


def _payload(i: int) -> dict[str, Any]:
    return {"from": "hello@acme.test", "to": [f"user{i}@example.com"], "subject": f"#{i}"}


def _serve(server: FaultServer) -> None:
    def answer(request: RecordedRequest) -> Reply:
        return Reply(202, {"id": f"em_{request.json['subject'][1:]}"})

    server.handler = answer


def _check(server: FaultServer, results: list[Any], bound: int) -> None:
    assert sorted(r["id"] for r in results) == sorted(f"em_{i}" for i in range(SENDS))
    requests = server.requests
    assert len(requests) == SENDS  # nothing was retried
    keys = {r.headers["idempotency-key"] for r in requests}
    assert len(keys) == SENDS
    assert server.created_emails == SENDS
    assert server.max_concurrent_connections <= bound
    assert server.connections <= bound  # kept alive and reused, never reopened
    # The client is closed: every connection it opened is gone.
    server.wait_for_open_connections(0, timeout=30)


@pytest.mark.parametrize(
    ("make", "bound"),
    [(AsyncHttpxTransport, 100), (lambda: TrioTransport(max_connections=20), 20)],
    ids=["httpx", "trio-h11"],
)
def test_200_concurrent_sends_under_trio(make: Callable[[], Any], bound: int) -> None:
    results: list[Any] = []

    async def main(url: str) -> None:
        transport = make()
        async with AsyncPostStack(API_KEY, url, timeout=30, transport=transport) as ps:

            async def one(i: int) -> None:
                results.append(await ps.emails.send(_payload(i)))

            async with trio.open_nursery() as nursery:
                for i in range(SENDS):
                    nursery.start_soon(one, i)
        await transport.aclose()

    with FaultServer() as server:
        _serve(server)
        trio.run(main, server.url)
        _check(server, results, bound)


async def _gather_sends(url: str, transport: Any) -> list[Any]:
    async with AsyncPostStack(API_KEY, url, timeout=30, transport=transport) as ps:
        return list(await asyncio.gather(*(ps.emails.send(_payload(i)) for i in range(SENDS))))


@pytest.mark.parametrize("make", [lambda: None, AiohttpTransport], ids=["default", "aiohttp"])
def test_200_concurrent_sends_under_asyncio(make: Callable[[], Any]) -> None:
    async def main(url: str) -> list[Any]:
        transport = make()  # None: the client's own AsyncHttpxTransport
        try:
            return await _gather_sends(url, transport)
        finally:
            if transport is not None:
                await transport.aclose()

    with FaultServer() as server:
        _serve(server)
        results = asyncio.run(main(server.url))
        _check(server, results, 100)


def test_200_concurrent_sends_through_a_users_aiohttp_session() -> None:
    import aiohttp

    async def main(url: str) -> list[Any]:
        # A connector of the user's own, with its own bound on connections.
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=20)) as session:
            return await _gather_sends(url, AiohttpTransport(session))

    with FaultServer() as server:
        _serve(server)
        results = asyncio.run(main(server.url))
        _check(server, results, 20)


@pytest.mark.parametrize("make", [HttpxTransport, RequestsTransport], ids=["httpx", "requests"])
def test_threads_share_one_client(make: Callable[[], Any]) -> None:
    results: list[Any] = []
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def worker(ps: PostStack, first: int) -> None:
        try:
            start.wait(timeout=30)
            for i in range(first, SENDS, THREADS):
                results.append(ps.emails.send(_payload(i)))
        except BaseException as exc:
            errors.append(exc)

    with FaultServer() as server:
        _serve(server)
        transport = make()
        with PostStack(API_KEY, server.url, timeout=30, transport=transport) as ps:
            threads = [threading.Thread(target=worker, args=(ps, n)) for n in range(THREADS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
        transport.close()
        assert not errors
        # One connection per thread at most, each kept alive for the thread's next send.
        _check(server, results, THREADS)

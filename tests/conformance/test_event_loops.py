"""One AsyncPostStack across event loops: successive ``asyncio.run()`` calls, asyncio and trio.

A program may run each batch of work in its own ``asyncio.run()`` (a task
queue worker, a CLI command) or move between asyncio and trio, and keep one
client. Connections made under one loop are bound to it (or it is gone): the
next loop must get new connections, never the old ones, and no error.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
import trio

from poststack import AsyncPostStack, PostStackError
from poststack.transports._runtime import running_under_trio
from tests.faultserver import FaultServer, RecordedRequest, Reply

from .runtimes import API_KEY, RUNTIMES, Runtime

# A user's aiohttp session belongs to one loop: tests/test_aiohttp_transport.py checks
# that another loop is refused.
ASYNC_RUNTIMES = [
    runtime for runtime in RUNTIMES if runtime.loop != "sync" and not runtime.one_loop
]
CALLS = 6


def _loops(runtime: Runtime) -> list[str]:
    if runtime.name == "trio-h11":  # TrioTransport works only under trio
        return ["trio", "trio", "trio"]
    if runtime.name == "aiohttp":  # and aiohttp only under asyncio
        return ["asyncio", "asyncio", "asyncio"]
    return ["asyncio", "asyncio", "trio", "asyncio", "trio"]


async def _batch(ps: AsyncPostStack, tag: str) -> list[Any]:
    """CALLS sends, three at a time (so each loop opens several connections)."""
    results: list[Any] = []

    async def worker(first: int) -> None:
        for i in range(first, CALLS, 3):
            subject = f"{tag}-{i}"
            try:
                reply = await ps.emails.send(
                    {"from": "a@acme.test", "to": ["b@example.com"], "subject": subject}
                )
                results.append((subject, reply["id"]))
            except PostStackError as exc:
                results.append((subject, exc))

    if running_under_trio():
        async with trio.open_nursery() as nursery:
            for first in range(3):
                nursery.start_soon(worker, first)
    else:
        await asyncio.gather(*(worker(first) for first in range(3)))
    return results


@pytest.fixture
def server() -> Iterator[FaultServer]:
    def answer(request: RecordedRequest) -> Reply:
        return Reply(202, {"id": f"em_{request.json['subject']}"})

    with FaultServer() as srv:
        srv.handler = answer
        yield srv


@pytest.mark.parametrize("runtime", ASYNC_RUNTIMES, ids=lambda r: r.name)
def test_one_client_in_one_loop_after_another(runtime: Runtime, server: FaultServer) -> None:
    transport, cleanup = runtime.make(True)
    # Retries off: an old loop's connection must not even fail once.
    ps = AsyncPostStack(API_KEY, server.url, timeout=10, max_retries=0, transport=transport)
    opened = []
    for n, loop in enumerate(_loops(runtime)):
        tag = f"run{n}-{loop}"
        results = asyncio.run(_batch(ps, tag)) if loop == "asyncio" else trio.run(_batch, ps, tag)
        assert sorted(results) == sorted((f"{tag}-{i}", f"em_{tag}-{i}") for i in range(CALLS))
        opened.append(server.connections)
    # Every loop opened connections of its own: none was carried over from the one before.
    assert all(later > earlier for earlier, later in itertools.pairwise(opened))
    requests = server.requests
    assert len(requests) == CALLS * len(_loops(runtime))
    # Each connection served one loop only.
    loops_of_connection: dict[int, set[str]] = {}
    for request in requests:
        loops_of_connection.setdefault(request.connection_id, set()).add(
            request.json["subject"].split("-")[0]
        )
    assert all(len(runs) == 1 for runs in loops_of_connection.values()), loops_of_connection

    async def close() -> None:
        await transport.aclose()
        if cleanup is not None:
            await cleanup()

    trio.run(close) if runtime.name == "trio-h11" else asyncio.run(close())
    # The last loop closes its own; every earlier loop's were closed when the next began.
    server.wait_for_open_connections(0)


def test_the_default_transport_closes_an_ended_loops_connections_on_the_next_loop(
    server: FaultServer,
) -> None:
    ps = AsyncPostStack(API_KEY, server.url, timeout=10, max_retries=0)
    asyncio.run(_batch(ps, "first"))
    first_loop_connections = server.connections
    assert server.open_connections == first_loop_connections  # idle, kept for reuse
    asyncio.run(_batch(ps, "second"))
    # The first loop's were closed when the second began; only the second's remain.
    server.wait_for_open_connections(server.connections - first_loop_connections)
    asyncio.run(ps.aclose())
    server.wait_for_open_connections(0)

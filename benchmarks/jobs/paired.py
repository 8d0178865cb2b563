"""Our transports against their floors side by side, in one process.

Two jobs run minutes apart on a machine that others load see different
loads, and their ratio says as much about the machine as about the code.
A paired job runs both sides in ONE event loop, in alternating blocks of
sends (``ctx.warmup`` sends of ours, then as many of the floor's, or the
other way round, ``ctx.n // ctx.warmup`` times), and reports the median of
the per-block ratios: what the targets on TrioTransport and AiohttpTransport
use. Ours is ``AsyncPostStack.emails.send`` over the transport, as in the
``ours-*`` jobs; the floor is exactly what the ``raw-*`` job of the same
library times (``floors.py``). A paired job reports::

    {"cpu_ratio": ..,   # ours CPU/send over the floor's
     "rps_ratio": ..,   # ours req/s over the floor's (wall time, the floor's over ours)
     "ours_cpu_us": .., "floor_cpu_us": .., "ours_rps": .., "floor_rps": ..,
     "n": ..}           # rounds

``benchmarks/ab.py`` runs the same comparisons from the command line, and
either side alone (for a profiler).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

from ._measure import API_KEY, CONCURRENCY, PAYLOAD, check, need, ours
from ._registry import Context, job
from .floors import aiohttp_sender, h11_trio_sender

Send = Callable[[], Awaitable[Any]]


class Round(NamedTuple):
    """One block of each side: CPU and wall seconds per send."""

    ours_cpu: float
    ours_wall: float
    floor_cpu: float
    floor_wall: float

    @property
    def cpu_ratio(self) -> float:
        return self.ours_cpu / self.floor_cpu

    @property
    def rps_ratio(self) -> float:
        return self.floor_wall / self.ours_wall


# Runs one worker coroutine per count, all at once, and returns when all are done.
Concurrently = Callable[[Callable[[int], Awaitable[None]], list[int]], Awaitable[None]]


async def block(send: Send, n: int, tasks: int, concurrently: Concurrently) -> tuple[float, float]:
    """CPU and wall seconds per send of ``n`` sends, by ``tasks`` tasks at once."""
    if tasks == 1:
        c0, w0 = time.process_time(), time.perf_counter()
        for _ in range(n):
            await send()
        return (time.process_time() - c0) / n, (time.perf_counter() - w0) / n

    async def worker(count: int) -> None:
        for _ in range(count):
            await send()

    counts = [n // tasks + (1 if i < n % tasks else 0) for i in range(tasks)]
    c0, w0 = time.process_time(), time.perf_counter()
    await concurrently(worker, counts)
    return (time.process_time() - c0) / n, (time.perf_counter() - w0) / n


async def alternate(
    ours_send: Send,
    floor_send: Send,
    *,
    tasks: int,
    size: int,
    rounds: int,
    concurrently: Concurrently,
) -> list[Round]:
    """Blocks of ``size`` sends of each side, ``rounds`` times: each round's figures."""
    for send in (ours_send, floor_send):  # warm up: every task's connection open, caches hot
        check(await send())
        await block(send, max(size, 2 * tasks), tasks, concurrently)
    measured = []
    for i in range(rounds):
        # Alternate which goes first, so that neither always follows the other's garbage.
        if i % 2:
            f_cpu, f_wall = await block(floor_send, size, tasks, concurrently)
            o_cpu, o_wall = await block(ours_send, size, tasks, concurrently)
        else:
            o_cpu, o_wall = await block(ours_send, size, tasks, concurrently)
            f_cpu, f_wall = await block(floor_send, size, tasks, concurrently)
        measured.append(Round(o_cpu, o_wall, f_cpu, f_wall))
    check(await ours_send())
    check(await floor_send())
    return measured


def summary(measured: list[Round]) -> dict[str, Any]:
    """A paired job's figures: the medians over its rounds."""
    median = statistics.median
    return {
        "n": len(measured),
        "cpu_ratio": median(r.cpu_ratio for r in measured),
        "rps_ratio": median(r.rps_ratio for r in measured),
        "ours_cpu_us": median(r.ours_cpu for r in measured) * 1e6,
        "floor_cpu_us": median(r.floor_cpu for r in measured) * 1e6,
        "ours_rps": 1 / median(r.ours_wall for r in measured),
        "floor_rps": 1 / median(r.floor_wall for r in measured),
    }


def _shape(ctx: Context) -> tuple[int, int]:
    """(block size, rounds): ``ctx.warmup`` sends per block, ``ctx.n`` in all."""
    size = max(1, ctx.warmup)
    return size, max(1, ctx.n // size)


# --- trio: TrioTransport against h11 over trio ---------------------------------------


async def trio_concurrently(worker: Callable[[int], Awaitable[None]], counts: list[int]) -> None:
    trio = need("trio")
    async with trio.open_nursery() as nursery:
        for count in counts:
            nursery.start_soon(worker, count)


def run_trio(url: str, body: Callable[[Send, Send], Awaitable[Any]]) -> Any:
    """``body(ours, floor)`` in one ``trio.run``, with TrioTransport and the h11 floor."""
    trio = need("trio")
    poststack = ours()
    transport = need("poststack.transports.trio").TrioTransport()

    async def main() -> Any:
        floor, opened = h11_trio_sender(url)
        try:
            async with poststack.AsyncPostStack(
                api_key=API_KEY, base_url=url, transport=transport
            ) as ps:
                return await body(lambda: ps.emails.send(PAYLOAD), floor)
        finally:
            await transport.aclose()
            for stream in opened:
                await stream.aclose()

    return trio.run(main)


# --- asyncio: AiohttpTransport against raw aiohttp -----------------------------------


async def asyncio_concurrently(worker: Callable[[int], Awaitable[None]], counts: list[int]) -> None:
    import asyncio

    await asyncio.gather(*(worker(count) for count in counts))


def run_aiohttp(url: str, body: Callable[[Send, Send], Awaitable[Any]]) -> Any:
    """``body(ours, floor)`` in one ``asyncio.run``, with AiohttpTransport and raw aiohttp."""
    import asyncio

    aiohttp = need("aiohttp")
    poststack = ours()
    transport = need("poststack.transports.aiohttp").AiohttpTransport()

    async def main() -> Any:
        async with aiohttp.ClientSession() as session:
            try:
                async with poststack.AsyncPostStack(
                    api_key=API_KEY, base_url=url, transport=transport
                ) as ps:
                    return await body(lambda: ps.emails.send(PAYLOAD), aiohttp_sender(session, url))
            finally:
                await transport.aclose()

    return asyncio.run(main())


# --- the jobs -------------------------------------------------------------------------


Runner = Callable[[str, Callable[[Send, Send], Awaitable[Any]]], Any]
PAIRS: dict[str, tuple[Runner, Concurrently]] = {
    "trio": (run_trio, trio_concurrently),
    "aiohttp": (run_aiohttp, asyncio_concurrently),
}
"""Each pair's runner (its event loop, ours and the floor) and how it runs tasks at once."""


def _paired(ctx: Context, pair: str, tasks: int) -> dict[str, Any]:
    run, concurrently = PAIRS[pair]
    size, rounds = _shape(ctx)

    async def body(ours_send: Send, floor_send: Send) -> dict[str, Any]:
        measured = await alternate(
            ours_send, floor_send, tasks=tasks, size=size, rounds=rounds, concurrently=concurrently
        )
        return summary(measured)

    result: dict[str, Any] = run(ctx.url, body)
    return result


@job("ab-trio-seq", "TrioTransport vs h11 over trio, sequential", kind="paired")
def ab_trio_seq(ctx: Context) -> dict[str, Any]:
    return _paired(ctx, "trio", 1)


@job("ab-trio-64", "TrioTransport vs h11 over trio, 64 tasks", kind="paired")
def ab_trio_64(ctx: Context) -> dict[str, Any]:
    return _paired(ctx, "trio", CONCURRENCY)


@job("ab-aiohttp-seq", "AiohttpTransport vs raw aiohttp, sequential", kind="paired")
def ab_aiohttp_seq(ctx: Context) -> dict[str, Any]:
    return _paired(ctx, "aiohttp", 1)


@job("ab-aiohttp-64", "AiohttpTransport vs raw aiohttp, 64 tasks", kind="paired")
def ab_aiohttp_64(ctx: Context) -> dict[str, Any]:
    return _paired(ctx, "aiohttp", CONCURRENCY)

"""What the jobs share: the request they send, the timed loops and the result record.

Send jobs run ``warmup`` sends, then ``n`` timed sends on ONE keep-alive
connection (the 64-task jobs: 64 concurrent tasks sharing the client's pool),
timing the loop with ``time.process_time()`` (CPU, all threads) and
``time.perf_counter()`` (wall). A job reports::

    {"cpu_us_per_req": .., "wall_us_per_req": .., "rps": .., "peak_rss_kb": .., "n": ..}

A job whose library or SDK cannot be imported raises :class:`Unavailable`,
which the report shows as a "not available" row instead of failing the run.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

API_KEY = "sk_test_bench"
PAYLOAD: dict[str, Any] = {
    "from": "Bench <bench@example.com>",
    "to": ["user@example.com"],
    "subject": "Benchmark",
    "html": "<p>Hello from the poststack benchmark</p>",
}
EXPECTED = {"id": "em_bench"}
CONCURRENCY = 64


class Unavailable(Exception):
    """The job cannot run in this interpreter (SDK or library missing)."""


def need(name: str) -> Any:
    """Import ``name``, or raise Unavailable saying why not."""
    try:
        __import__(name)
    except Exception as exc:  # ImportError, or an SDK that fails at import
        raise Unavailable(f"cannot import {name}: {type(exc).__name__}: {exc}") from exc
    return sys.modules[name]


def static_headers() -> dict[str, str]:
    """The headers every floor sends besides its fresh Idempotency-Key."""
    return {
        "Authorization": f"Bearer {API_KEY}",
        "Content-Type": "application/json",
        "User-Agent": "poststack-bench/raw",
    }


def check(result: Any) -> None:
    if result != EXPECTED:
        raise RuntimeError(f"unexpected result: {result!r}")


def report(n: int, cpu: float, wall: float, **extra: Any) -> dict[str, Any]:
    """The figures of ``n`` timed sends that took ``cpu`` and ``wall`` seconds."""
    return {
        "n": n,
        "cpu_us_per_req": cpu / n * 1e6,
        "wall_us_per_req": wall / n * 1e6,
        "rps": n / wall if wall > 0 else 0.0,
        "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        **extra,
    }


# --- identity checks: never time the wrong "poststack" ------------------------------


def ours() -> Any:
    """Our façade; raises Unavailable unless it is really ours (has poststack_core)."""
    need("poststack_core")
    poststack = need("poststack")
    if not hasattr(poststack, "PostStack"):
        raise Unavailable("poststack has no PostStack yet")
    return poststack


def official_env() -> dict[str, str]:
    """The environment for the official SDK's interpreter: nothing of ours leaks in."""
    env = dict(os.environ)
    for var in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP"):
        env.pop(var, None)
    return env


def official() -> Any:
    """The official SDK; raises Unavailable when this interpreter has ours instead."""
    poststack = need("poststack")
    try:
        __import__("poststack_core")
    except ImportError:
        pass
    else:
        raise Unavailable("this interpreter has our poststack, not the official SDK")
    return poststack


# --- sequential and concurrent loops -------------------------------------------------


def run_sync(send: Callable[[], Any], n: int, warmup: int) -> dict[str, Any]:
    for _ in range(warmup):
        check(send())
    c0, w0 = time.process_time(), time.perf_counter()
    for _ in range(n):
        send()
    w1, c1 = time.perf_counter(), time.process_time()
    check(send())
    return report(n, c1 - c0, w1 - w0)


async def run_async_seq(send: Callable[[], Awaitable[Any]], n: int, warmup: int) -> dict[str, Any]:
    for _ in range(warmup):
        check(await send())
    c0, w0 = time.process_time(), time.perf_counter()
    for _ in range(n):
        await send()
    w1, c1 = time.perf_counter(), time.process_time()
    check(await send())
    return report(n, c1 - c0, w1 - w0)


def _split(n: int, parts: int) -> list[int]:
    return [n // parts + (1 if i < n % parts else 0) for i in range(parts)]


async def run_asyncio_concurrent(
    send: Callable[[], Awaitable[Any]], n: int, warmup: int
) -> dict[str, Any]:
    import asyncio

    async def worker(count: int) -> None:
        for _ in range(count):
            await send()

    # Warm-up: every task sends at least once, so the pool holds its connections.
    per_task = max(1, warmup // CONCURRENCY)
    await asyncio.gather(*(worker(per_task) for _ in range(CONCURRENCY)))
    c0, w0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker(k) for k in _split(n, CONCURRENCY)))
    w1, c1 = time.perf_counter(), time.process_time()
    check(await send())
    return report(n, c1 - c0, w1 - w0, concurrency=CONCURRENCY)


async def run_trio_concurrent(
    send: Callable[[], Awaitable[Any]], n: int, warmup: int
) -> dict[str, Any]:
    import trio

    async def worker(count: int) -> None:
        for _ in range(count):
            await send()

    async def all_of(counts: list[int]) -> None:
        async with trio.open_nursery() as nursery:
            for k in counts:
                nursery.start_soon(worker, k)

    per_task = max(1, warmup // CONCURRENCY)
    await all_of([per_task] * CONCURRENCY)
    c0, w0 = time.process_time(), time.perf_counter()
    await all_of(_split(n, CONCURRENCY))
    w1, c1 = time.perf_counter(), time.process_time()
    check(await send())
    return report(n, c1 - c0, w1 - w0, concurrency=CONCURRENCY)

"""Our TrioTransport against the h11-over-trio floor, side by side in one process.

On a machine others load, two jobs run minutes apart see different loads, so
their ratio says little. This script runs both in ONE ``trio.run``, in
alternating blocks (``--block`` sends of ours, then as many of the floor,
``--rounds`` times), and reports the median of the per-block ratios of CPU
time, with its quartiles::

    python benchmarks/ab.py                 # sequential and 64 tasks
    python benchmarks/ab.py --mode seq --rounds 50
    python benchmarks/ab.py --mode ours-only --seconds 20   # one side alone, for py-spy

The floor is ``floors._h11_exchange`` on one trio stream per task, exactly
what ``raw-h11-trio`` and ``raw-h11-trio-64`` time; ours is
``AsyncPostStack.emails.send`` over ``TrioTransport``, as ``ours-trio-*``.
The server is the benchmarks' own (nginx when installed).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import h11
import trio

from benchmarks.jobs._measure import API_KEY, CONCURRENCY, PAYLOAD, check
from benchmarks.jobs.floors import _h11_exchange
from benchmarks.server import start_server
from poststack import AsyncPostStack
from poststack.transports.trio import TrioTransport

Send = Callable[[], Awaitable[Any]]


def _floor(url: str) -> tuple[Send, list[trio.SocketStream]]:
    parts = urlsplit(url)
    assert parts.hostname is not None
    assert parts.port is not None
    host, port = parts.hostname, parts.port
    idle: list[tuple[trio.SocketStream, h11.Connection]] = []
    opened: list[trio.SocketStream] = []

    async def send() -> Any:
        if idle:
            stream, conn = idle.pop()
        else:
            stream = await trio.open_tcp_stream(host, port)
            conn = h11.Connection(h11.CLIENT)
            opened.append(stream)
        result = await _h11_exchange(h11, conn, parts.netloc, stream.send_all, stream.receive_some)
        idle.append((stream, conn))
        return result

    return send, opened


async def _block(send: Send, n: int, tasks: int) -> float:
    """CPU seconds per send of ``n`` sends, by ``tasks`` tasks at once (1: in this task)."""
    if tasks == 1:
        c0 = time.process_time()
        for _ in range(n):
            await send()
        return (time.process_time() - c0) / n

    async def worker(count: int) -> None:
        for _ in range(count):
            await send()

    c0 = time.process_time()
    async with trio.open_nursery() as nursery:
        for i in range(tasks):
            nursery.start_soon(worker, n // tasks + (1 if i < n % tasks else 0))
    return (time.process_time() - c0) / n


async def _compare(ours: Send, floor: Send, *, tasks: int, block: int, rounds: int) -> None:
    for send in (ours, floor):  # warm up: every task's connection open, caches hot
        check(await send())
        await _block(send, max(block, 2 * tasks), tasks)
    ratios, ours_us, floor_us = [], [], []
    for i in range(rounds):
        # Alternate which goes first, so neither always follows the other's garbage.
        if i % 2:
            f = await _block(floor, block, tasks)
            o = await _block(ours, block, tasks)
        else:
            o = await _block(ours, block, tasks)
            f = await _block(floor, block, tasks)
        ratios.append(o / f)
        ours_us.append(o * 1e6)
        floor_us.append(f * 1e6)
    q1, med, q3 = statistics.quantiles(ratios, n=4)
    label = "sequential" if tasks == 1 else f"{tasks} tasks"
    print(
        f"{label:>10}: ours/floor median {med:.3f}x (quartiles {q1:.3f}-{q3:.3f}, "
        f"min {min(ratios):.3f}, max {max(ratios):.3f}); "
        f"median µs/send ours {statistics.median(ours_us):.0f}, "
        f"floor {statistics.median(floor_us):.0f}; {rounds} rounds of {block}",
        flush=True,
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    modes = ["both", "seq", "64", "ours-only", "floor-only"]
    parser.add_argument("--mode", choices=modes, default="both")
    parser.add_argument("--block", type=int, default=300, help="sends per block")
    parser.add_argument("--rounds", type=int, default=30, help="blocks of each")
    parser.add_argument("--seconds", type=float, default=20.0, help="one side alone: how long")
    parser.add_argument("--tasks", type=int, default=1, help="one side alone: concurrent tasks")
    parser.add_argument("--fallback-server", action="store_true", help="do not use nginx")
    args = parser.parse_args(argv)

    with start_server(force_fallback=args.fallback_server) as server:
        url = server.base_url

        async def run() -> None:
            transport = TrioTransport()
            floor, opened = _floor(url)
            try:
                async with AsyncPostStack(api_key=API_KEY, base_url=url, transport=transport) as ps:

                    async def ours() -> Any:
                        return await ps.emails.send(PAYLOAD)

                    if args.mode in ("ours-only", "floor-only"):
                        alone = ours if args.mode == "ours-only" else floor
                        end = time.monotonic() + args.seconds
                        while time.monotonic() < end:
                            await _block(alone, args.block, args.tasks)
                        return
                    if args.mode in ("both", "seq"):
                        await _compare(ours, floor, tasks=1, block=args.block, rounds=args.rounds)
                    if args.mode in ("both", "64"):
                        await _compare(
                            ours, floor, tasks=CONCURRENCY, block=args.block, rounds=args.rounds
                        )
            finally:
                await transport.aclose()
                for stream in opened:
                    await stream.aclose()

        print(f"server: {server.name}", file=sys.stderr)
        trio.run(run)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

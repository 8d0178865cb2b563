"""A transport against its floor, side by side in one process, from the command line.

The paired jobs of the benchmark (``jobs/paired.py``) with their knobs: both
sides in ONE event loop, in alternating blocks (``--block`` sends of ours,
then as many of the floor's, ``--rounds`` times), reporting the medians of
the per-block ratios, with quartiles; or one side alone, for a profiler::

    python benchmarks/ab.py                       # TrioTransport, sequential and 64 tasks
    python benchmarks/ab.py --pair aiohttp --mode 64 --rounds 100
    python benchmarks/ab.py --mode ours-only --seconds 20   # then py-spy record ...

The server is the benchmarks' own (nginx when installed), pinned as in the full
run: the server on the last CPU, this process on the first. Unlike the full run,
which times the installed package, this times the working tree (the checkout
this file is in comes first on ``sys.path``), and says so in its first line.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the working tree's poststack
sys.path.insert(0, str(Path(__file__).resolve().parent))

from jobs._measure import CONCURRENCY, check, need
from jobs.paired import PAIRS, Send, alternate, block
from runner import pinning
from server import start_server


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pair", choices=sorted(PAIRS), default="trio")
    modes = ["both", "seq", "64", "ours-only", "floor-only"]
    parser.add_argument("--mode", choices=modes, default="both")
    parser.add_argument("--block", type=int, default=300, help="sends per block")
    parser.add_argument("--rounds", type=int, default=40, help="blocks of each")
    parser.add_argument("--seconds", type=float, default=20.0, help="one side alone: how long")
    parser.add_argument("--tasks", type=int, default=1, help="one side alone: concurrent tasks")
    parser.add_argument("--fallback-server", action="store_true", help="do not use nginx")
    args = parser.parse_args(argv)
    run, concurrently = PAIRS[args.pair]

    async def body(ours: Send, floor: Send) -> None:
        if args.mode in ("ours-only", "floor-only"):
            alone = ours if args.mode == "ours-only" else floor
            check(await alone())
            end = time.monotonic() + args.seconds
            while time.monotonic() < end:
                await block(alone, args.block, args.tasks, concurrently)
            return
        for tasks in {"both": (1, CONCURRENCY), "seq": (1,), "64": (CONCURRENCY,)}[args.mode]:
            await compare(ours, floor, tasks)

    async def compare(ours: Send, floor: Send, tasks: int) -> None:
        measured = await alternate(
            ours, floor, tasks=tasks, size=args.block, rounds=args.rounds, concurrently=concurrently
        )
        label = "sequential" if tasks == 1 else f"{tasks} tasks"
        cpu = _spread("CPU ratio", [r.cpu_ratio for r in measured])
        rps = _spread("req/s ratio", [r.rps_ratio for r in measured])
        print(f"{label:>10}: {cpu}; {rps}", flush=True)

    # As the full run does: the server on the last CPU, this process on the first.
    server_cpu, own_cpu = pinning()
    if own_cpu is not None:
        os.sched_setaffinity(0, {own_cpu})
    with start_server(force_fallback=args.fallback_server, cpu=server_cpu) as server:
        print(f"server: {server.name}; {args.pair}, {args.rounds} rounds of {args.block}")
        print(f"timing {Path(need('poststack_core').__file__ or '').parent}")
        run(server.base_url, body)
    return 0


def _spread(name: str, values: list[Any]) -> str:
    q1, med, q3 = statistics.quantiles(values, n=4)
    return f"{name} {med:.3f} (quartiles {q1:.3f}-{q3:.3f})"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

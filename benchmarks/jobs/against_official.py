"""Ours against the official SDK side by side: two processes, alternating blocks.

The official SDK cannot share a process with ours (both distributions are
called ``poststack``), so its side runs in a second process with its own
interpreter: ``benchmarks/blocks.py SIDE`` builds the client, then runs a
block of sends each time it reads a count on its standard input and answers
with its CPU and wall seconds per send. The job (in our interpreter) runs
its own blocks in between, alternating which goes first, exactly as the
paired jobs do (``paired.py``). Both processes are pinned to the same CPU,
and only one of them sends at a time: the other waits on its pipe.

The runner names the official SDK's interpreter in ``OFFICIAL_PYTHON``; the
job is not available without it. It reports the paired jobs' figures, with
``official_*`` in place of ``floor_*``::

    {"cpu_ratio": .., "rps_ratio": .., "ours_cpu_us": .., "official_cpu_us": ..,
     "ours_rps": .., "official_rps": .., "n": ..}
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from ._measure import API_KEY, PAYLOAD, Unavailable, check, official, official_env, ours
from ._registry import Context, job
from .paired import Round, summary

OFFICIAL_PYTHON = "POSTSTACK_BENCH_OFFICIAL_PYTHON"
BLOCKS = Path(__file__).resolve().parent.parent / "blocks.py"

Block = Callable[[int], tuple[float, float]]  # n sends -> (CPU s, wall s) per send


def timed_block(send: Callable[[], Any], n: int) -> tuple[float, float]:
    """CPU and wall seconds per send of ``n`` sends."""
    c0, w0 = time.process_time(), time.perf_counter()
    for _ in range(n):
        send()
    return (time.process_time() - c0) / n, (time.perf_counter() - w0) / n


# --- the official SDK's side, in its own process ---------------------------------


@contextlib.contextmanager
def official_sync(url: str) -> Iterator[Callable[[], Any]]:
    """The official sync client's ``emails.send`` of the payload."""
    poststack = official()
    with poststack.PostStack(api_key=API_KEY, base_url=url) as ps:
        yield lambda: ps.emails.send(PAYLOAD)


SIDES: dict[str, Callable[[str], contextlib.AbstractContextManager[Callable[[], Any]]]] = {
    "official-sync": official_sync,
}
"""What ``blocks.py SIDE`` can run: a context manager giving one send."""


def serve_blocks(send: Callable[[], Any], requests: IO[str], answers: IO[str]) -> None:
    """For each count read from ``requests``, that many sends; their figures to ``answers``."""
    check(send())
    for line in requests:
        cpu, wall = timed_block(send, int(line))
        answers.write(f"{cpu!r} {wall!r}\n")
        answers.flush()
    check(send())


@contextlib.contextmanager
def other_process(python: str, side: str, url: str) -> Iterator[Block]:
    """``blocks.py side`` running in ``python``: a function that runs one block of its sends."""
    with (
        tempfile.TemporaryFile("w+") as errors,
        subprocess.Popen(
            [python, str(BLOCKS), side, "--url", url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env=official_env(),
            cwd=tempfile.gettempdir(),
        ) as proc,
    ):
        requests, answers = proc.stdin, proc.stdout
        assert requests is not None
        assert answers is not None

        def ended() -> RuntimeError:
            proc.wait(timeout=60)
            errors.seek(0)
            tail = "\n".join(errors.read().strip().splitlines()[-8:])
            return RuntimeError(f"the official SDK's process ended ({proc.returncode}): {tail}")

        def block(n: int) -> tuple[float, float]:
            try:
                requests.write(f"{n}\n")
                requests.flush()
            except BrokenPipeError:
                raise ended() from None
            line = answers.readline()
            if not line:
                raise ended()
            cpu, wall = line.split()
            return float(cpu), float(wall)

        try:
            yield block
        except BaseException:
            proc.kill()
            raise
        requests.close()
        if proc.wait(timeout=60) != 0:
            raise ended()


def alternate(ours_block: Block, theirs_block: Block, *, size: int, rounds: int) -> list[Round]:
    """Blocks of ``size`` sends of each side, ``rounds`` times, alternating which goes first."""
    ours_block(size)  # warm-up
    theirs_block(size)
    measured = []
    for i in range(rounds):
        if i % 2:
            t_cpu, t_wall = theirs_block(size)
            o_cpu, o_wall = ours_block(size)
        else:
            o_cpu, o_wall = ours_block(size)
            t_cpu, t_wall = theirs_block(size)
        measured.append(Round(o_cpu, o_wall, t_cpu, t_wall))
    return measured


def _against_official(ctx: Context, side: str, send: Callable[[], Any]) -> dict[str, Any]:
    python = os.environ.get(OFFICIAL_PYTHON)
    if not python:
        raise Unavailable(f"no interpreter with the official SDK ({OFFICIAL_PYTHON} unset)")
    size = max(1, ctx.warmup)
    check(send())
    with other_process(python, side, ctx.url) as theirs:
        rounds = max(1, ctx.n // size)
        measured = alternate(lambda n: timed_block(send, n), theirs, size=size, rounds=rounds)
    check(send())
    return {k.replace("floor_", "official_"): v for k, v in summary(measured).items()}


@job(
    "ab-official-sync",
    "ours · httpx sync vs official 0.9.0 · sync (httpx)",
    kind="against_official",
)
def ab_official_sync(ctx: Context) -> dict[str, Any]:
    poststack = ours()
    with poststack.PostStack(api_key=API_KEY, base_url=ctx.url) as ps:
        return _against_official(ctx, "official-sync", lambda: ps.emails.send(PAYLOAD))

"""Cold imports in fresh interpreters, and the peak RSS of a sending process."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

from ._measure import API_KEY, PAYLOAD, Unavailable, official, official_env, ours, run_sync
from ._registry import Context, job
from .against_official import OFFICIAL_PYTHON

CONSTRUCT = f"import poststack; poststack.PostStack(api_key={API_KEY!r})"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class _Interpreter:
    """Fresh runs of one interpreter, in a neutral working directory.

    The directory keeps a checkout's folders from shadowing the installed
    package; ``sdk`` ("ours" or "official") is checked to be the one its
    ``poststack`` is.
    """

    def __init__(self, python: str, env: dict[str, str], cwd: str, sdk: str) -> None:
        self._python = python
        self._env = {k: v for k, v in env.items() if not k.startswith("PYTHONDONTWRITE")}
        self._cwd = cwd
        check = "import poststack, sys; sys.exit(0 if {cond} else 3)".format(
            cond="'poststack_core' not in sys.modules and __import__('importlib.util').util."
            "find_spec('poststack_core') is None"
            if sdk == "official"
            else "__import__('importlib.util').util.find_spec('poststack_core') is not None"
        )
        if self._start(check).returncode != 0:
            raise Unavailable(f"{python}'s poststack is not the {sdk} SDK (or none)")

    def _start(self, code: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [self._python, "-c", code],
            cwd=self._cwd,
            env=self._env,
            capture_output=True,
            check=False,
        )

    def run(self, code: str) -> tuple[float, float]:
        """(wall, CPU) seconds of one fresh interpreter running ``code``."""
        c0, t0 = _children_cpu(), time.perf_counter()
        proc = self._start(code)
        elapsed, cpu = time.perf_counter() - t0, _children_cpu() - c0
        if proc.returncode != 0:
            err = proc.stderr.decode(errors="replace").strip().splitlines()
            raise Unavailable(f"`{code}` failed: {err[-1] if err else proc.returncode}")
        return elapsed, cpu


def cold_import(ctx: Context, stmt: str, sdk: str) -> dict[str, Any]:
    """Wall time of ``python -c STMT`` minus ``python -c pass``, paired, median."""
    cwd = tempfile.mkdtemp(prefix="poststack-bench-import-")
    try:
        python = _Interpreter(sys.executable, dict(os.environ), cwd, sdk)
        python.run(stmt)  # writes .pyc files if anything was missing, warms the page cache
        bare, total, delta, cpu_delta = [], [], [], []
        for _ in range(ctx.n):
            b, b_cpu = python.run("pass")
            t, t_cpu = python.run(stmt)
            bare.append(b)
            total.append(t)
            delta.append(t - b)
            cpu_delta.append(t_cpu - b_cpu)
    finally:
        os.rmdir(cwd)
    return {
        "n": ctx.n,
        "import_ms": statistics.median(delta) * 1e3,
        "import_cpu_ms": statistics.median(cpu_delta) * 1e3,
        "total_ms": statistics.median(total) * 1e3,
        "bare_ms": statistics.median(bare) * 1e3,
    }


@job("ours-import", "ours · import poststack", kind="import")
def ours_import(ctx: Context) -> dict[str, Any]:
    return cold_import(ctx, "import poststack", "ours")


@job("ours-import-core", "ours · import poststack_core", kind="import")
def ours_import_core(ctx: Context) -> dict[str, Any]:
    return cold_import(ctx, "import poststack_core", "ours")


@job("ours-import-construct", "ours · import poststack; PostStack(api_key=...)", kind="import")
def ours_import_construct(ctx: Context) -> dict[str, Any]:
    return cold_import(ctx, CONSTRUCT, "ours")


@job("official-import", "official · import poststack", kind="import", env="official")
def official_import(ctx: Context) -> dict[str, Any]:
    return cold_import(ctx, "import poststack", "official")


@job(
    "official-import-construct",
    "official · import poststack; PostStack(api_key=...)",
    kind="import",
    env="official",
)
def official_import_construct(ctx: Context) -> dict[str, Any]:
    return cold_import(ctx, CONSTRUCT, "official")


@job(
    "ab-official-import",
    "ours · import poststack; PostStack(api_key=...) vs official · import poststack",
    kind="import_against_official",
)
def ab_official_import(ctx: Context) -> dict[str, Any]:
    """Both cold imports in turns, each round with a bare interpreter of each beside them.

    A round runs ``pass`` and the statement in each SDK's interpreter, the
    two SDKs in alternating order, so that both see the same moment of the
    machine; the ratio is taken per round (ours over the official's time
    above its bare interpreter), then the median.
    """
    python = os.environ.get(OFFICIAL_PYTHON)
    if not python:
        raise Unavailable(f"no interpreter with the official SDK ({OFFICIAL_PYTHON} unset)")
    cwd = tempfile.mkdtemp(prefix="poststack-bench-import-")
    try:
        sides = [
            (_Interpreter(sys.executable, dict(os.environ), cwd, "ours"), CONSTRUCT),
            (_Interpreter(python, official_env(), cwd, "official"), "import poststack"),
        ]
        for interpreter, stmt in sides:
            interpreter.run(stmt)  # .pyc files, the page cache
        ratios, ours_ms, official_ms = [], [], []
        for i in range(ctx.n):
            above = [0.0, 0.0]  # seconds above bare Python: ours, the official's
            for side in (0, 1) if i % 2 == 0 else (1, 0):
                interpreter, stmt = sides[side]
                bare, _ = interpreter.run("pass")
                took, _ = interpreter.run(stmt)
                above[side] = took - bare
            ratios.append(above[0] / above[1])
            ours_ms.append(above[0] * 1e3)
            official_ms.append(above[1] * 1e3)
    finally:
        os.rmdir(cwd)
    median = statistics.median
    return {
        "n": ctx.n,
        "ratio": median(ratios),
        "ours_ms": median(ours_ms),
        "official_ms": median(official_ms),
    }


def _rss(ctx: Context, poststack: Any) -> dict[str, Any]:
    """Peak RSS of a process that imports the SDK and sends with its default client."""
    with poststack.PostStack(api_key=API_KEY, base_url=ctx.url) as ps:
        return run_sync(lambda: ps.emails.send(PAYLOAD), ctx.n, ctx.warmup)


@job("ours-rss", "ours · PostStack sending (default httpx)", kind="rss")
def ours_rss(ctx: Context) -> dict[str, Any]:
    return _rss(ctx, ours())


@job("official-rss", "official 0.9.0 · PostStack sending", kind="rss", env="official")
def official_rss(ctx: Context) -> dict[str, Any]:
    return _rss(ctx, official())

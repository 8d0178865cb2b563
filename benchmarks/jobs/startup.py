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

from ._measure import API_KEY, PAYLOAD, Unavailable, official, ours, run_sync
from ._registry import Context, job

CONSTRUCT = f"import poststack; poststack.PostStack(api_key={API_KEY!r})"


def cold_import(ctx: Context, stmt: str, sdk: str) -> dict[str, Any]:
    """Wall time of ``python -c STMT`` minus ``python -c pass``, paired, median.

    Runs in a neutral working directory so a checkout's folders never shadow
    the installed package, after checking that this interpreter's poststack
    is the ``sdk`` one ("ours" or "official").
    """
    check = "import poststack, sys; sys.exit(0 if {cond} else 3)".format(
        cond="'poststack_core' not in sys.modules and __import__('importlib.util').util."
        "find_spec('poststack_core') is None"
        if sdk == "official"
        else "__import__('importlib.util').util.find_spec('poststack_core') is not None"
    )
    cwd = tempfile.mkdtemp(prefix="poststack-bench-import-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHONDONTWRITE")}

    def children_cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    def run(code: str) -> tuple[float, float]:
        """(wall, CPU) seconds of one fresh interpreter running ``code``."""
        c0, t0 = children_cpu(), time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, check=False
        )
        elapsed, cpu = time.perf_counter() - t0, children_cpu() - c0
        if proc.returncode != 0:
            err = proc.stderr.decode(errors="replace").strip().splitlines()
            raise Unavailable(f"`{code}` failed: {err[-1] if err else proc.returncode}")
        return elapsed, cpu

    try:
        if (
            subprocess.run(
                [sys.executable, "-c", check], cwd=cwd, env=env, capture_output=True, check=False
            ).returncode
            != 0
        ):
            raise Unavailable(f"this interpreter's poststack is not the {sdk} SDK (or none)")
        run(stmt)  # writes .pyc files if anything was missing, warms the page cache
        bare, total, delta, cpu_delta = [], [], [], []
        for _ in range(ctx.n):
            b, b_cpu = run("pass")
            t, t_cpu = run(stmt)
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

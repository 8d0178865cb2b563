"""What the benchmarks measure: every job, defined once, with the code that measures it.

A job is one decorated function in one of the modules below::

    @job("raw-aiohttp-seq", "floor · aiohttp.ClientSession.post, sequential", kind="send")
    def raw_aiohttp_seq(ctx: Context) -> dict[str, Any]:
        aiohttp = need("aiohttp")  # Unavailable (a "not available" row) when missing
        ...
        return run_sync(send, ctx.n, ctx.warmup)  # or the async loops in _measure

The runner (``runner.py``) starts ``worker.py KEY`` once per repeat with the
job's interpreter, the report (``report.py``) gives it a row in its kind's
table, and ``--only KEY`` runs it alone. Targets over jobs are in
``targets.py``.
"""

from __future__ import annotations

import importlib

from ._measure import Unavailable, official_env
from ._registry import ENVS, FULL, JOBS, KIND_REPEATS, KINDS, QUICK, Context, Job, Profile, job

# Importing a module registers its jobs. This order (not the alphabetical one an
# import statement gets from the formatter) is the order of each repeat and of
# the report's rows.
for _module in (
    "ours",
    "observed",
    "official",
    "against_official",
    "floors",
    "paired",
    "core",
    "startup",
    "bulk",
):
    importlib.import_module(f"{__name__}.{_module}")

JOB_BY_KEY = {j.key: j for j in JOBS}

__all__ = [
    "ENVS",
    "FULL",
    "JOBS",
    "JOB_BY_KEY",
    "KINDS",
    "KIND_REPEATS",
    "QUICK",
    "Context",
    "Job",
    "Profile",
    "Unavailable",
    "job",
    "official_env",
]

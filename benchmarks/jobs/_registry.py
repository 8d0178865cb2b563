"""The vocabulary of the benchmarks: jobs, their kinds, the run profiles, and ``@job``.

This module is imported by the worker process too, whose own imports count in
the peak-RSS jobs: it uses nothing beyond what the worker needs anyway (no
dataclasses, no pathlib), so records here are ``NamedTuple``s.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple


class Context(NamedTuple):
    """What a job's measure function gets: the server and how much to do."""

    url: str  # the benchmark server, http://127.0.0.1:PORT
    n: int  # timed sends (imports: fresh-interpreter pairs)
    warmup: int  # untimed sends first


Measure = Callable[[Context], dict[str, Any]]


class Job(NamedTuple):
    """One measurement, run once per repeat in a fresh worker process."""

    key: str  # unique; the worker's argument and the results' key
    label: str  # its row in RESULTS.md
    kind: str  # one of KINDS: how much it does, which table it is in
    env: str  # "ours" (the benchmark's interpreter) or "official" (the official SDK's venv)
    measure: Measure


class Profile(NamedTuple):
    """How much each kind of job does: the full run, or the smoke (``--quick``)."""

    repeats: int
    n_seq: int  # timed sends per sequential measurement
    n_conc: int  # timed sends per 64-task measurement
    warmup: int
    warmup_conc: int  # 64-task runs: opening 64 connections costs far more than a send
    import_pairs: int  # (bare, import) interpreter pairs per import measurement
    n_core: int
    n_rss: int
    n_bulk: int  # emails per bulk run (at the sandbox's rate limit: minutes, not seconds)
    bulk_repeats: int  # bulk runs take minutes: fewer repeats than the rest
    paired_block: int  # paired jobs: sends per block of each side
    paired_rounds: int  # paired jobs: blocks of each side


FULL = Profile(
    repeats=5,
    n_seq=2000,
    n_conc=2560,
    warmup=200,
    warmup_conc=640,
    import_pairs=10,
    n_core=20000,
    n_rss=500,
    n_bulk=5000,
    bulk_repeats=1,
    paired_block=300,
    paired_rounds=40,
)
QUICK = Profile(
    repeats=2,
    n_seq=60,
    n_conc=128,
    warmup=10,
    warmup_conc=128,
    import_pairs=2,
    n_core=500,
    n_rss=30,
    n_bulk=200,
    bulk_repeats=1,
    paired_block=64,
    paired_rounds=2,
)

# Each kind of measurement: (n, warmup) for one run of one of its jobs. The
# report has a table per kind (report.TABLES); tests/test_benchmarks.py checks
# that every kind has one.
KINDS: dict[str, Callable[[Profile], tuple[int, int]]] = {
    "send": lambda p: (p.n_seq, p.warmup),
    "send64": lambda p: (p.n_conc, p.warmup_conc),
    "core": lambda p: (p.n_core, p.n_core // 10),
    "import": lambda p: (p.import_pairs, 0),
    "import_against_official": lambda p: (p.import_pairs, 0),
    "rss": lambda p: (p.n_rss, p.warmup),
    "bulk": lambda p: (p.n_bulk, 0),
    # n: the sends of each side in all; warmup: one block (see jobs/paired.py).
    "paired": lambda p: (p.paired_block * p.paired_rounds, p.paired_block),
    # The same, with the official SDK's blocks in a second process (jobs/against_official.py).
    "against_official": lambda p: (p.paired_block * p.paired_rounds, p.paired_block),
}
# Kinds that run fewer repeats than the profile's (each of their runs takes minutes).
KIND_REPEATS: dict[str, Callable[[Profile], int]] = {"bulk": lambda p: p.bulk_repeats}
ENVS = ("ours", "official")

# Every job, in the order of definition: the order of each repeat and of the
# report's rows. Filled by @job in the modules jobs/__init__.py imports.
JOBS: list[Job] = []


def job(key: str, label: str, *, kind: str, env: str = "ours") -> Callable[[Measure], Measure]:
    """Register the decorated function as the measurement of a new job."""
    if kind not in KINDS:
        raise ValueError(f"job {key!r}: unknown kind {kind!r} (one of {sorted(KINDS)})")
    if env not in ENVS:
        raise ValueError(f"job {key!r}: env must be one of {ENVS}, not {env!r}")
    if any(j.key == key for j in JOBS):
        raise ValueError(f"job {key!r} is defined twice")

    def register(measure: Measure) -> Measure:
        JOBS.append(Job(key, label, kind, env, measure))
        return measure

    return register

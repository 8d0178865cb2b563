"""RESULTS.md: the Markdown report of one run.

``render`` is a pure function of the outcomes, the checks and the run's
metadata. Every job appears in the table of its kind (``TABLES``); a new kind
of job needs a table here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jobs import JOBS
from results import CheckResult, Outcome, Stat, metric, stat


@dataclass(frozen=True)
class Column:
    header: str
    metric: str
    digits: int = 0
    scale: float = 1.0


@dataclass(frozen=True)
class Table:
    """A section of the report: one row per job of its kinds, in the jobs' order."""

    title: str
    kinds: tuple[str, ...]
    first: str  # the header of the label column
    columns: tuple[Column, ...]
    intro: str = ""


def _side_by_side(other: str) -> tuple[Column, ...]:
    """The columns of a side-by-side table: the ratios, then each side's CPU and req/s."""
    return (
        Column("CPU ratio", "cpu_ratio", 3),
        Column("req/s ratio", "rps_ratio", 3),
        Column("ours CPU µs/send", "ours_cpu_us"),
        Column(f"{other} CPU µs/send", f"{other}_cpu_us"),
        Column("ours req/s", "ours_rps"),
        Column(f"{other} req/s", f"{other}_rps"),
    )


TABLES: tuple[Table, ...] = (
    Table(
        "Per send",
        ("send", "send64"),
        "runtime",
        (
            Column("CPU µs/send", "cpu_us_per_req"),
            Column("wall µs/send", "wall_us_per_req"),
            Column("req/s", "rps"),
            Column("peak RSS MiB", "peak_rss_kb", 1, 1 / 1024),
        ),
    ),
    Table(
        "Side by side in one process",
        ("paired",),
        "comparison",
        _side_by_side("floor"),
        intro=(
            "Ours (`AsyncPostStack.emails.send` over the transport) and the floor of the "
            "same library in one event loop, in alternating blocks of sends, so that both "
            "see the same load (`jobs/paired.py`). Each cell: the median over blocks in a "
            "repeat, then median (min–max) over repeats. The ratios are ours over the "
            "floor's; the targets on TrioTransport and AiohttpTransport use them."
        ),
    ),
    Table(
        "Side by side with the official SDK",
        ("against_official",),
        "comparison",
        _side_by_side("official"),
        intro=(
            "Ours and the official SDK in two processes on the same CPU, taking turns: a "
            "block of sends of one, then of the other, alternating which goes first "
            "(`jobs/against_official.py`). Each cell: the median over blocks in a repeat, "
            "then median (min–max) over repeats. The ratios are ours over the official's; "
            "the target on httpx sync uses them."
        ),
    ),
    Table(
        "Core alone",
        ("core",),
        "measurement",
        (
            Column("CPU µs/call", "cpu_us_per_req", 2),
            Column("wall µs/call", "wall_us_per_req", 2),
        ),
    ),
    Table(
        "Cold import (fresh interpreter)",
        ("import",),
        "statement",
        (
            Column("wall ms above bare Python", "import_ms", 1),
            Column("CPU ms above bare Python", "import_cpu_ms", 1),
            Column("wall ms total", "total_ms", 1),
            Column("bare Python wall ms", "bare_ms", 1),
        ),
        intro=(
            "Wall time of `python -c STMT` minus `python -c pass`, paired runs in a neutral "
            "directory, median per repeat; then median (min–max) over repeats. The CPU column "
            "is the children's user + system time, steadier than wall on a busy machine; the "
            "targets use wall."
        ),
    ),
    Table(
        "Cold import side by side with the official SDK",
        ("import_against_official",),
        "comparison",
        (
            Column("ratio", "ratio", 2),
            Column("ours wall ms above bare Python", "ours_ms", 1),
            Column("official wall ms above bare Python", "official_ms", 1),
        ),
        intro=(
            "Each round runs `python -c pass` and the statement with each SDK's interpreter, "
            "the two SDKs in alternating order; the ratio is taken per round, then the median "
            "per repeat, then median (min–max) over repeats. The target on the import uses it."
        ),
    ),
    Table(
        "Peak RSS of a sending process",
        ("rss",),
        "process",
        (Column("peak RSS MiB", "peak_rss_kb", 1, 1 / 1024),),
        intro=(
            "`resource.getrusage(RUSAGE_SELF).ru_maxrss` after importing the SDK, building "
            "the default sync client and sending."
        ),
    ),
    Table(
        "Bulk sending at the sandbox's rate limit (20 requests/s)",
        ("bulk",),
        "run",
        (
            Column("emails", "emails"),
            Column("wall s", "wall_s", 2),
            Column("ideal s", "ideal_s", 2),
            Column("requests", "requests"),
            Column("429s", "throttled"),
            Column("429 %", "share_429_pct", 2),
            Column("outbox", "outbox"),
            Column("killed at", "killed_at"),
            Column("rerun created", "rerun_created"),
            Column("rerun requests", "rerun_requests"),
            Column("outbox after rerun", "outbox_after_rerun"),
        ),
        intro=(
            "`poststack send-many` (a child process, on the other CPU) against a sandbox "
            "with `rate_limit=20` in the worker process, emails left queued. Wall is the "
            "run's own elapsed time; ideal is what the limit allows: the last window of R "
            "requests (every chunk and the run's plan) starts (R - 1) // 20 s after the "
            "first, and the sandbox serves each request of that window in one round trip "
            "(timed alone on an idle sandbox), one after the other. Then the same run, killed "
            "with SIGKILL once half the emails are in a fresh sandbox's outbox, is run again "
            "with the same `--run-id` and `--journal`: the outbox must end with every email "
            "exactly once, the rerun creating only the missing ones."
        ),
    ),
)

METHOD = (
    "Method: each measurement is its own process (`benchmarks/worker.py JOB`); the "
    "official SDK runs in its own virtual environment because its distribution is "
    "also called `poststack`. CPU is `time.process_time()` around the timed loop, wall "
    "is `time.perf_counter()`; the floors send the same JSON body and headers "
    "(with a fresh Idempotency-Key) and decode the JSON reply, with nothing else. "
    "Why some figures move between runs, and profiles of the missed targets: NOTES.md.\n"
)


def fmt(s: Stat | None, digits: int = 0, scale: float = 1.0, unit: str = "") -> str:
    """``median (min–max)``, bold when it carries a unit (the targets' cells)."""
    if s is None:
        return "–"
    f = f"{{:,.{digits}f}}"
    sep = " " if unit and unit != "×" else ""
    med, lo, hi = (f.format(x * scale) + sep + unit for x in (s.median, s.lo, s.hi))
    return f"**{med}** ({lo}–{hi})" if unit else f"{med} ({lo}–{hi})"


def status_cell(out: Outcome) -> str | None:
    """Why a job has no figures (failed, not available), or None when it has them."""
    if out.error:
        return "**failed**: " + out.error.splitlines()[-1][:120].replace("|", "\\|")
    if out.unavailable or not out.values:
        return "not available: " + (out.unavailable or "no data").replace("|", "\\|")[:140]
    return None


def _header(meta: dict[str, Any]) -> list[str]:
    prof = meta["profile"]
    lines = ["# poststack benchmarks\n"]
    if meta["quick"]:
        lines.append(
            "> **Smoke run (`--quick`)**: tiny sample sizes, figures are not meaningful.\n"
        )
    lines += ["Command:\n", f"```\n{meta['command']}\n```\n", f"- Date: {meta['date']}"]
    lines += [f"- {k}: {v}" for k, v in meta["machine"].items()]
    lines += [
        f"- Server: {meta['server']} on loopback, pinned to CPU {meta['server_cpu']}; "
        f"workers pinned to CPU {meta['worker_cpu']}",
        f"- Our environment: {meta['ours_versions']}",
        f"- Official SDK: {meta['official_reason']}; {meta['official_versions']}",
        f"- Repeats: {prof.repeats}, interleaved (every measurement once per repeat, "
        f"in the same order); sequential runs time {prof.n_seq} sends after "
        f"{prof.warmup} warm-up sends on one keep-alive connection; 64-task runs time "
        f"{prof.n_conc} sends after {prof.warmup_conc} warm-up sends (64 connections); "
        f"imports: {prof.import_pairs} fresh-interpreter pairs per "
        f"repeat; core alone: {prof.n_core} calls; peak RSS after {prof.n_rss} sends.",
        f"- Load average (1 min) at start / end: {meta['load_start']} / {meta['load_end']} "
        "(anything else running on the machine makes wall times noisy; CPU times less so)",
        *(f"- Measured again later: {note}" for note in meta.get("remeasured", [])),
        f"- Total run time: {meta['elapsed']:.0f} s\n",
        "Cells: median over repeats (min–max). Ratios are taken per repeat pair "
        "(A_i / B_i, measured next to each other), then the median.\n",
    ]
    return lines


def _checks(checks: list[CheckResult], chart: str | None) -> list[str]:
    lines = ["## Targets\n", "| check | target | measured | verdict |", "| --- | --- | --- | --- |"]
    for r in checks:
        c = r.check
        if c.op is None:
            continue
        target = f"{c.op} {c.limit:g}{c.unit}"
        unit = c.unit if c.den is None else "×"
        digits = 2 if unit == "×" else 1
        value = "–" if r.value is None else fmt(r.value, digits, unit=unit.strip())
        lines.append(f"| {c.label} | {target} | {value} | {r.verdict} |")
    lines += ["", "Informative ratios:\n", "| ratio | measured |", "| --- | --- |"]
    for r in checks:
        if r.check.op is None:
            value = r.verdict if r.value is None else fmt(r.value, 2, unit="×")
            lines.append(f"| {r.check.label} | {value} |")
    lines.append("")
    if chart:
        lines.append(f"![ratios]({chart})\n")
    return lines


def _table(table: Table, outcomes: dict[str, Outcome]) -> list[str]:
    lines = [f"## {table.title}\n"]
    if table.intro:
        lines.append(table.intro + "\n")
    lines.append("| " + " | ".join([table.first, *(c.header for c in table.columns)]) + " |")
    lines.append("|" + " --- |" * (1 + len(table.columns)))
    for job in JOBS:
        if job.kind not in table.kinds:
            continue
        bad = status_cell(outcomes[job.key])
        if bad:
            lines.append(f"| {job.label} | {bad} |" + " |" * (len(table.columns) - 1))
            continue
        cells = [
            fmt(stat(metric(outcomes, job.key, c.metric)), c.digits, c.scale) for c in table.columns
        ]
        lines.append(f"| {job.label} | " + " | ".join(cells) + " |")
    lines.append("")
    return lines


def render(
    outcomes: dict[str, Outcome],
    checks: list[CheckResult],
    meta: dict[str, Any],
    chart: str | None,
) -> str:
    """The whole report; ``chart`` is the PNG's file name, or None when there is none."""
    lines = _header(meta) + _checks(checks, chart)
    for table in TABLES:
        lines += _table(table, outcomes)
    lines.append(METHOD)
    return "\n".join(lines)

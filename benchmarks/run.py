"""Benchmark orchestrator: ``nox -s bench`` (full) or ``nox -s bench_smoke`` (--quick).

    python benchmarks/run.py            # full run, writes benchmarks/RESULTS.md + ratios.png
    python benchmarks/run.py --quick    # smoke: a few hundred sends, results to a temp dir

Starts one fast loopback server (nginx when installed, else a fallback that
is named in the output), builds the official SDK (``poststack==0.9.0``) into
its own virtual environment when the package index is reachable, then runs
every measurement as a separate worker process (``worker.py``), interleaved:
repeat 1 runs A B C ..., repeat 2 runs A B C ... again, and so on. Each figure
is the median over the repeats with the min–max beside it; each ratio is
computed per repeat (A_i / B_i, measured next to each other) and then its
median is taken.

Targets are checked and reported as PASS/MISS with the margin, never by the
exit status: the process exits 0 when every measurement ran (rows that are
not available, such as a runtime not built yet, are fine), 1 when a worker
crashed or the server did not start.
"""

# ruff: noqa: RUF001, RUF002, RUF003, PLR0915

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORKER = HERE / "worker.py"
WORK = HERE / ".work"
OFFICIAL_VENV = WORK / "official-venv"
OFFICIAL_SPEC = "poststack==0.9.0"
OFFICIAL_VERSION = "0.9.0"

sys.path.insert(0, str(HERE))
import server as bench_server  # noqa: E402

# --- what is measured ---------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    key: str  # unique id, also the row's anchor
    label: str
    mode: str  # worker.py mode
    env: str  # "ours" (this interpreter) or "official" (the official venv)
    kind: str  # "send", "send64", "core", "import", "rss"
    group: str


JOBS: list[Job] = [
    Job("ours-httpx-sync", "ours · httpx sync", "ours-httpx-sync", "ours", "send", "ours"),
    Job("ours-requests", "ours · requests", "ours-requests", "ours", "send", "ours"),
    Job(
        "ours-httpx-async-seq",
        "ours · httpx async (asyncio), sequential",
        "ours-httpx-async-seq",
        "ours",
        "send",
        "ours",
    ),
    Job(
        "ours-httpx-async-64",
        "ours · httpx async (asyncio), 64 tasks",
        "ours-httpx-async-64",
        "ours",
        "send64",
        "ours",
    ),
    Job("ours-trio-seq", "ours · trio + h11, sequential", "ours-trio-seq", "ours", "send", "ours"),
    Job("ours-trio-64", "ours · trio + h11, 64 tasks", "ours-trio-64", "ours", "send64", "ours"),
    Job(
        "official-sync",
        "official 0.9.0 · sync (httpx)",
        "official-sync",
        "official",
        "send",
        "official",
    ),
    Job(
        "official-async-seq",
        "official 0.9.0 · async (httpx), sequential",
        "official-async-seq",
        "official",
        "send",
        "official",
    ),
    Job(
        "official-async-64",
        "official 0.9.0 · async (httpx), 64 tasks",
        "official-async-64",
        "official",
        "send64",
        "official",
    ),
    Job("raw-httpx", "floor · httpx.Client.post", "raw-httpx", "ours", "send", "floor"),
    Job("raw-requests", "floor · requests.Session.post", "raw-requests", "ours", "send", "floor"),
    Job(
        "raw-h11-socket",
        "floor · h11 over a blocking socket",
        "raw-h11-socket",
        "ours",
        "send",
        "floor",
    ),
    Job("raw-h11-trio", "floor · h11 over trio", "raw-h11-trio", "ours", "send", "floor"),
    Job(
        "core-only",
        "ours · core alone (Call + request build + response parse)",
        "core-only",
        "ours",
        "core",
        "core",
    ),
    Job("ours-import", "ours · import poststack", "import-poststack", "ours", "import", "import"),
    Job(
        "ours-import-core",
        "ours · import poststack_core",
        "import-core",
        "ours",
        "import",
        "import",
    ),
    Job(
        "ours-import-construct",
        "ours · import poststack; PostStack(api_key=...)",
        "import-and-construct",
        "ours",
        "import",
        "import",
    ),
    Job(
        "official-import",
        "official · import poststack",
        "import-poststack",
        "official",
        "import",
        "import",
    ),
    Job(
        "official-import-construct",
        "official · import poststack; PostStack(api_key=...)",
        "import-and-construct",
        "official",
        "import",
        "import",
    ),
    Job("ours-rss", "ours · PostStack sending (default httpx)", "rss", "ours", "rss", "rss"),
    Job("official-rss", "official 0.9.0 · PostStack sending", "rss", "official", "rss", "rss"),
]
JOB_BY_KEY = {j.key: j for j in JOBS}


@dataclass(frozen=True)
class Check:
    """A ratio of two jobs' metrics (pair by pair), or one job's absolute metric."""

    label: str
    num: tuple[str, str]  # (job key, metric)
    den: tuple[str, str] | None  # None: absolute value
    op: str | None = None  # "<=" or ">="; None: informative only
    limit: float | None = None
    unit: str = "×"


CHECKS: list[Check] = [
    Check(
        "httpx sync CPU/send vs official sync",
        ("ours-httpx-sync", "cpu_us_per_req"),
        ("official-sync", "cpu_us_per_req"),
        "<=",
        0.70,
    ),
    Check(
        "httpx async sequential CPU/send vs official async sequential",
        ("ours-httpx-async-seq", "cpu_us_per_req"),
        ("official-async-seq", "cpu_us_per_req"),
        "<=",
        0.70,
    ),
    Check(
        "httpx async 64 tasks req/s vs official 64 tasks",
        ("ours-httpx-async-64", "rps"),
        ("official-async-64", "rps"),
        ">=",
        2.0,
    ),
    Check(
        "trio + h11 sequential CPU/send vs official sync",
        ("ours-trio-seq", "cpu_us_per_req"),
        ("official-sync", "cpu_us_per_req"),
        "<=",
        0.40,
    ),
    Check(
        "trio + h11 sequential CPU/send vs h11-over-trio floor",
        ("ours-trio-seq", "cpu_us_per_req"),
        ("raw-h11-trio", "cpu_us_per_req"),
        "<=",
        1.30,
    ),
    Check(
        "requests CPU/send vs raw requests.Session.post",
        ("ours-requests", "cpu_us_per_req"),
        ("raw-requests", "cpu_us_per_req"),
        "<=",
        1.10,
    ),
    Check("core alone, µs per call", ("core-only", "cpu_us_per_req"), None, "<=", 25.0, " µs"),
    Check(
        "import poststack; PostStack() vs official import poststack",
        ("ours-import-construct", "import_ms"),
        ("official-import", "import_ms"),
        "<=",
        0.70,
    ),
    Check(
        "import poststack_core, ms above bare Python",
        ("ours-import-core", "import_ms"),
        None,
        "<=",
        15.0,
        " ms",
    ),
    Check(
        "peak RSS of a sending process vs official",
        ("ours-rss", "peak_rss_kb"),
        ("official-rss", "peak_rss_kb"),
        "<=",
        1.0,
    ),
    # Informative: no target.
    Check(
        "trio + h11 64 tasks req/s vs official 64 tasks",
        ("ours-trio-64", "rps"),
        ("official-async-64", "rps"),
    ),
    Check(
        "httpx sync wall/send vs official sync",
        ("ours-httpx-sync", "wall_us_per_req"),
        ("official-sync", "wall_us_per_req"),
    ),
    Check(
        "httpx sync CPU/send vs raw httpx floor",
        ("ours-httpx-sync", "cpu_us_per_req"),
        ("raw-httpx", "cpu_us_per_req"),
    ),
    Check(
        "official sync CPU/send vs raw httpx floor",
        ("official-sync", "cpu_us_per_req"),
        ("raw-httpx", "cpu_us_per_req"),
    ),
    Check(
        "official async sequential CPU/send vs official sync",
        ("official-async-seq", "cpu_us_per_req"),
        ("official-sync", "cpu_us_per_req"),
    ),
    Check(
        "import poststack vs official import poststack",
        ("ours-import", "import_ms"),
        ("official-import", "import_ms"),
    ),
]


@dataclass(frozen=True)
class Profile:
    repeats: int
    n_seq: int  # timed sends per sequential measurement
    n_conc: int  # timed sends per 64-task measurement
    warmup: int
    warmup_conc: int  # 64-task runs: opening 64 connections costs far more than a send
    import_pairs: int  # (bare, import) interpreter pairs per import measurement
    n_core: int
    n_rss: int


FULL = Profile(
    repeats=5,
    n_seq=2000,
    n_conc=2560,
    warmup=200,
    warmup_conc=640,
    import_pairs=10,
    n_core=20000,
    n_rss=500,
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
)


# --- environments -------------------------------------------------------------------------


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def official_ok(python: Path) -> bool:
    code = (
        "import importlib.util as u, importlib.metadata as m, sys; "
        f"sys.exit(0 if m.version('poststack') == {OFFICIAL_VERSION!r} "
        "and u.find_spec('poststack_core') is None else 1)"
    )
    try:
        proc = subprocess.run(
            [str(python), "-c", code],
            check=False,
            capture_output=True,
            timeout=60,
            cwd=tempfile.gettempdir(),
            env=official_env(),
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def official_env() -> dict[str, str]:
    env = dict(os.environ)
    for var in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP"):
        env.pop(var, None)
    return env


def ensure_official(explicit: str | None, skip: bool) -> tuple[Path | None, str]:
    """The official SDK's interpreter, building its venv if needed; or (None, why not)."""
    if skip:
        return None, "skipped (--no-official)"
    if explicit:
        python = Path(explicit)
        if official_ok(python):
            return python, f"given: {python}"
        return None, f"{python} has no {OFFICIAL_SPEC}"
    python = venv_python(OFFICIAL_VENV)
    if python.exists() and official_ok(python):
        return python, f"reused {OFFICIAL_VENV.relative_to(ROOT)}"
    log(f"building {OFFICIAL_VENV.relative_to(ROOT)} with {OFFICIAL_SPEC} ...")
    shutil.rmtree(OFFICIAL_VENV, ignore_errors=True)
    WORK.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run(
            [sys.executable, "-m", "venv", str(OFFICIAL_VENV)],
            check=True,
            capture_output=True,
            timeout=300,
            env=official_env(),
        )
        proc = subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "-q",
                OFFICIAL_SPEC,
            ],
            check=False,
            capture_output=True,
            text=True,
            timeout=600,
            env=official_env(),
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"could not build its venv: {exc!r}"
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["?"]
        return None, f"pip install {OFFICIAL_SPEC} failed (package index unreachable?): {tail[0]}"
    if not official_ok(python):
        return None, f"{OFFICIAL_SPEC} installed but not importable"
    return python, f"built {OFFICIAL_VENV.relative_to(ROOT)}"


def versions_in(python: str, dists: list[str], env: dict[str, str]) -> dict[str, str]:
    code = (
        "import importlib.metadata as m, json, sys\n"
        "out = {}\n"
        "for d in sys.argv[1:]:\n"
        "    try: dist = m.distribution(d)\n"
        "    except m.PackageNotFoundError: out[d] = '-'; continue\n"
        "    url = json.loads(dist.read_text('direct_url.json') or '{}')\n"
        "    editable = url.get('dir_info', {}).get('editable')\n"
        "    out[d] = dist.version + (' (editable install)' if editable else '')\n"
        "print(json.dumps(out))"
    )
    try:
        proc = subprocess.run(
            [python, "-c", code, *dists],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            cwd=tempfile.gettempdir(),
        )
        return json.loads(proc.stdout)
    except (OSError, ValueError, subprocess.SubprocessError):
        return {}


def load_average() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except (AttributeError, OSError):
        return "?"


def machine_info() -> dict[str, str]:
    cpu = platform.processor() or "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with contextlib.suppress(OSError, ValueError, IndexError):
        kb = int(Path("/proc/meminfo").read_text().split("\n")[0].split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    return {
        "OS": platform.platform(),
        "CPU": f"{cpu} × {os.cpu_count()} logical CPUs",
        "Memory": mem,
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
    }


# --- running workers ----------------------------------------------------------------------


@dataclass
class Outcome:
    values: list[dict[str, Any]] = field(default_factory=list)  # one per repeat
    unavailable: str | None = None
    error: str | None = None


def pinning() -> tuple[int | None, int | None]:
    """(server CPU, worker CPU): split across two CPUs when the machine has them."""
    if not hasattr(os, "sched_getaffinity"):
        return None, None
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None, None
    return cpus[-1], cpus[0]


def run_job(
    job: Job,
    prof: Profile,
    url: str,
    pythons: dict[str, str],
    envs: dict[str, dict[str, str]],
    cpu: int | None,
) -> dict[str, Any]:
    n, warmup = {
        "send": (prof.n_seq, prof.warmup),
        "send64": (prof.n_conc, prof.warmup_conc),
        "core": (prof.n_core, prof.n_core // 10),
        "import": (prof.import_pairs, 0),
        "rss": (prof.n_rss, prof.warmup),
    }[job.kind]
    cmd = [
        pythons[job.env],
        str(WORKER),
        job.mode,
        "--url",
        url,
        "--n",
        str(n),
        "--warmup",
        str(warmup),
        "--sdk",
        job.env,
    ]
    preexec = None
    if cpu is not None:

        def preexec() -> None:
            with contextlib.suppress(OSError):
                os.sched_setaffinity(0, {cpu})

    proc = subprocess.run(
        cmd,
        check=False,
        capture_output=True,
        text=True,
        timeout=900,
        env=envs[job.env],
        cwd=tempfile.gettempdir(),
        preexec_fn=preexec,
    )
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
        return {"error": f"exit {proc.returncode}: {tail}"}
    try:
        return json.loads(lines[-1])
    except ValueError:
        return {"error": f"bad worker output: {lines[-1][:200]!r}"}


def run_all(
    prof: Profile,
    url: str,
    pythons: dict[str, str | None],
    envs: dict[str, dict[str, str]],
    official_reason: str,
    only: set[str] | None,
) -> dict[str, Outcome]:
    _, worker_cpu = pinning()
    outcomes = {j.key: Outcome() for j in JOBS}
    for job in JOBS:
        if only and job.key not in only:
            outcomes[job.key].unavailable = "not selected (--only)"
        elif pythons.get(job.env) is None:
            outcomes[job.key].unavailable = f"official SDK {official_reason}"
    ready = {k: v for k, v in pythons.items() if v is not None}
    for rep in range(prof.repeats):
        t0 = time.perf_counter()
        for job in JOBS:
            out = outcomes[job.key]
            if out.unavailable or out.error:
                continue
            result = run_job(job, prof, url, ready, envs, worker_cpu)
            if "unavailable" in result:
                out.unavailable = result["unavailable"]
            elif "error" in result:
                out.error = result["error"]
                log(f"{job.key}: FAILED {result['error']}")
            else:
                out.values.append(result)
        log(f"repeat {rep + 1}/{prof.repeats} done in {time.perf_counter() - t0:.1f} s")
    return outcomes


# --- statistics ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Stat:
    median: float
    lo: float
    hi: float
    n: int


def stat(xs: list[float]) -> Stat | None:
    return Stat(statistics.median(xs), min(xs), max(xs), len(xs)) if xs else None


def metric(outcomes: dict[str, Outcome], key: str, name: str) -> list[float]:
    return [float(v[name]) for v in outcomes[key].values if name in v]


@dataclass(frozen=True)
class CheckResult:
    check: Check
    value: Stat | None
    verdict: str  # "PASS ...", "MISS ...", "info", "not available: ..."


def evaluate(check: Check, outcomes: dict[str, Outcome]) -> CheckResult:
    keys = [check.num[0]] + ([check.den[0]] if check.den else [])
    for key in keys:
        out = outcomes[key]
        if out.error:
            return CheckResult(check, None, f"not available: {key} failed")
        if out.unavailable or not out.values:
            return CheckResult(check, None, f"not available: {key}")
    nums = metric(outcomes, *check.num)
    if check.den:
        dens = metric(outcomes, *check.den)
        # Pair by pair: repeat i of one with repeat i of the other, run side by side.
        xs = [a / b for a, b in zip(nums, dens, strict=False) if b]
    else:
        xs = nums
    s = stat(xs)
    if s is None:
        return CheckResult(check, None, "not available: no data")
    if check.op is None or check.limit is None:
        return CheckResult(check, s, "info")
    ok = s.median <= check.limit if check.op == "<=" else s.median >= check.limit
    margin = abs(s.median - check.limit) / check.limit * 100
    verdict = f"PASS ({margin:.0f} % margin)" if ok else f"MISS (by {margin:.0f} %)"
    return CheckResult(check, s, verdict)


# --- report -------------------------------------------------------------------------------


def fmt(s: Stat | None, digits: int = 0, scale: float = 1.0, unit: str = "") -> str:
    if s is None:
        return "–"
    f = f"{{:,.{digits}f}}"
    sep = " " if unit and unit != "×" else ""
    med, lo, hi = (f.format(x * scale) + sep + unit for x in (s.median, s.lo, s.hi))
    return f"**{med}** ({lo}–{hi})" if unit else f"{med} ({lo}–{hi})"


def status_cell(out: Outcome) -> str | None:
    if out.error:
        return "**failed**: " + out.error.splitlines()[-1][:120].replace("|", "\\|")
    if out.unavailable or not out.values:
        return "not available: " + (out.unavailable or "no data").replace("|", "\\|")[:140]
    return None


def render(
    outcomes: dict[str, Outcome], checks: list[CheckResult], meta: dict[str, Any], chart: str | None
) -> str:
    prof: Profile = meta["profile"]
    L: list[str] = []
    L.append("# poststack benchmarks\n")
    if meta["quick"]:
        L.append("> **Smoke run (`--quick`)**: tiny sample sizes, figures are not meaningful.\n")
    L.append("Command:\n")
    L.append(f"```\n{meta['command']}\n```\n")
    L.append(f"- Date: {meta['date']}")
    for k, v in meta["machine"].items():
        L.append(f"- {k}: {v}")
    L.append(
        f"- Server: {meta['server']} on loopback, pinned to CPU {meta['server_cpu']}; "
        f"workers pinned to CPU {meta['worker_cpu']}"
    )
    L.append(f"- Our environment: {meta['ours_versions']}")
    L.append(f"- Official SDK: {meta['official_reason']}; {meta['official_versions']}")
    L.append(
        f"- Repeats: {prof.repeats}, interleaved (every measurement once per repeat, "
        f"in the same order); sequential runs time {prof.n_seq} sends after "
        f"{prof.warmup} warm-up sends on one keep-alive connection; 64-task runs time "
        f"{prof.n_conc} sends after {prof.warmup_conc} warm-up sends (64 connections); "
        f"imports: {prof.import_pairs} fresh-interpreter pairs per "
        f"repeat; core alone: {prof.n_core} calls; peak RSS after {prof.n_rss} sends."
    )
    L.append(
        f"- Load average (1 min) at start / end: {meta['load_start']} / {meta['load_end']} "
        "(anything else running on the machine makes wall times noisy; CPU times less so)"
    )
    L.append(f"- Total run time: {meta['elapsed']:.0f} s\n")
    L.append(
        "Cells: median over repeats (min–max). Ratios are taken per repeat pair "
        "(A_i / B_i, measured next to each other), then the median.\n"
    )

    L.append("## Targets\n")
    L.append("| check | target | measured | verdict |")
    L.append("| --- | --- | --- | --- |")
    for r in checks:
        c = r.check
        if c.op is None:
            continue
        target = f"{c.op} {c.limit:g}{c.unit}"
        unit = c.unit if c.den is None else "×"
        value = "–" if r.value is None else fmt(r.value, 2 if c.den else 1, unit=unit.strip())
        L.append(f"| {c.label} | {target} | {value} | {r.verdict} |")
    L.append("")
    L.append("Informative ratios:\n")
    L.append("| ratio | measured |")
    L.append("| --- | --- |")
    for r in checks:
        if r.check.op is None:
            value = r.verdict if r.value is None else fmt(r.value, 2, unit="×")
            L.append(f"| {r.check.label} | {value} |")
    L.append("")
    if chart:
        L.append(f"![ratios]({chart})\n")

    L.append("## Per send\n")
    L.append("| runtime | CPU µs/send | wall µs/send | req/s | peak RSS MiB |")
    L.append("| --- | --- | --- | --- | --- |")
    for job in JOBS:
        if job.kind not in ("send", "send64"):
            continue
        out = outcomes[job.key]
        bad = status_cell(out)
        if bad:
            L.append(f"| {job.label} | {bad} | | | |")
            continue

        def col(name: str, digits: int = 0, scale: float = 1.0, key: str = job.key) -> str:
            return fmt(stat(metric(outcomes, key, name)), digits, scale)

        L.append(
            f"| {job.label} | {col('cpu_us_per_req')} | {col('wall_us_per_req')} | "
            f"{col('rps')} | {col('peak_rss_kb', 1, 1 / 1024)} |"
        )
    L.append("")

    L.append("## Core alone\n")
    L.append("| measurement | CPU µs/call | wall µs/call |")
    L.append("| --- | --- | --- |")
    out = outcomes["core-only"]
    bad = status_cell(out)
    if bad:
        L.append(f"| {JOB_BY_KEY['core-only'].label} | {bad} | |")
    else:
        L.append(
            f"| {JOB_BY_KEY['core-only'].label} | "
            f"{fmt(stat(metric(outcomes, 'core-only', 'cpu_us_per_req')), 2)} | "
            f"{fmt(stat(metric(outcomes, 'core-only', 'wall_us_per_req')), 2)} |"
        )
    L.append("")

    L.append("## Cold import (fresh interpreter)\n")
    L.append(
        "Wall time of `python -c STMT` minus `python -c pass`, paired runs in a neutral "
        "directory, median per repeat; then median (min–max) over repeats. The CPU column "
        "is the children's user + system time, steadier than wall on a busy machine; the "
        "targets use wall.\n"
    )
    L.append(
        "| statement | wall ms above bare Python | CPU ms above bare Python | wall ms total "
        "| bare Python wall ms |"
    )
    L.append("| --- | --- | --- | --- | --- |")
    for job in JOBS:
        if job.kind != "import":
            continue
        out = outcomes[job.key]
        bad = status_cell(out)
        if bad:
            L.append(f"| {job.label} | {bad} | | | |")
            continue
        L.append(
            f"| {job.label} | {fmt(stat(metric(outcomes, job.key, 'import_ms')), 1)} | "
            f"{fmt(stat(metric(outcomes, job.key, 'import_cpu_ms')), 1)} | "
            f"{fmt(stat(metric(outcomes, job.key, 'total_ms')), 1)} | "
            f"{fmt(stat(metric(outcomes, job.key, 'bare_ms')), 1)} |"
        )
    L.append("")

    L.append("## Peak RSS of a sending process\n")
    L.append(
        "`resource.getrusage(RUSAGE_SELF).ru_maxrss` after importing the SDK, building "
        "the default sync client and sending.\n"
    )
    L.append("| process | peak RSS MiB |")
    L.append("| --- | --- |")
    for job in JOBS:
        if job.kind != "rss":
            continue
        out = outcomes[job.key]
        bad = status_cell(out)
        cell = bad or fmt(stat(metric(outcomes, job.key, "peak_rss_kb")), 1, 1 / 1024)
        L.append(f"| {job.label} | {cell} |")
    L.append("")
    L.append(
        "Method: each measurement is its own process (`benchmarks/worker.py MODE`); the "
        "official SDK runs in its own virtual environment because its distribution is "
        "also called `poststack`. CPU is `time.process_time()` around the timed loop, wall "
        "is `time.perf_counter()`; the floors send the same JSON body and headers "
        "(with a fresh Idempotency-Key) and decode the JSON reply, with nothing else.\n"
    )
    return "\n".join(L)


def draw_chart(checks: list[CheckResult], path: Path) -> str | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed (nox -s bench installs it)"
    rows = [r for r in checks if r.check.den is not None]
    if not any(r.value is not None for r in rows):
        return "no ratio could be computed"
    fig, ax = plt.subplots(figsize=(10, 0.5 * len(rows) + 1.5))
    ys = list(range(len(rows)))[::-1]
    for y, r in zip(ys, rows, strict=True):
        v = r.value
        c = r.check
        if v is None:
            ax.text(1.03, y, "not available", va="center", fontsize=8, color="#757575")
            if c.limit is not None:
                ax.plot(
                    [c.limit, c.limit],
                    [y - 0.4, y + 0.4],
                    color="black",
                    linestyle="--",
                    linewidth=1.5,
                )
            continue
        if c.op is None:
            color = "#9e9e9e"
        elif r.verdict.startswith("PASS"):
            color = "#2e7d32"
        else:
            color = "#c62828"
        # Log scale, bars grow from 1× either way: 0.5× and 2× look equally far from parity.
        ax.barh(y, v.median - 1.0, left=1.0, color=color, height=0.6)
        ax.errorbar(
            v.median,
            y,
            xerr=[[v.median - v.lo], [v.hi - v.median]],
            fmt="none",
            ecolor="black",
            capsize=3,
            linewidth=1,
        )
        if c.limit is not None:
            ax.plot(
                [c.limit, c.limit], [y - 0.4, y + 0.4], color="black", linestyle="--", linewidth=1.5
            )
        ax.text(max(v.hi, 1.0) * 1.03, y, f"{v.median:.2f}×", va="center", fontsize=8)
    ax.set_yticks(ys)
    ax.set_yticklabels(
        [
            r.check.label + (f"  [{r.check.op} {r.check.limit:g}]" if r.check.op else "")
            for r in rows
        ],
        fontsize=8,
    )
    ax.axvline(1.0, color="#555555", linewidth=0.8)
    seen = [x for r in rows if r.value for x in (r.value.lo, r.value.hi) if x > 0]
    seen += [r.check.limit for r in rows if r.check.limit]
    ax.set_xscale("log")
    ax.set_xlim(min([*seen, 1.0]) / 1.3, max([*seen, 1.0]) * 1.6)
    ticks = [
        t
        for t in (0.125, 0.25, 0.5, 0.7, 1, 1.5, 2, 4, 8, 16, 32, 64)
        if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]
    ]
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{t:g}×" for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel("ratio (median of per-repeat pairs; whiskers min–max; dashed: target)")
    ax.set_title(
        "poststack: ratios to the official SDK and to library floors\n"
        "green: target met, red: missed, grey: informative",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


# --- main ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Run the poststack benchmarks.")
    p.add_argument(
        "--quick", action="store_true", help="smoke run: a few hundred sends, results to a temp dir"
    )
    p.add_argument("--repeats", type=int, help="interleaved repeats (default 5; quick 2)")
    p.add_argument("--n", type=int, help="timed sends per sequential measurement")
    p.add_argument(
        "--output", help="results file (default benchmarks/RESULTS.md; quick: a temp dir)"
    )
    p.add_argument("--no-official", action="store_true", help="skip the official SDK")
    p.add_argument("--official-python", help="an interpreter that has poststack==0.9.0")
    p.add_argument("--fallback-server", action="store_true", help="do not use nginx")
    p.add_argument("--only", help="comma-separated job keys to run (others not available)")
    a = p.parse_args(argv)

    prof = QUICK if a.quick else FULL
    if a.repeats:
        prof = Profile(**{**prof.__dict__, "repeats": a.repeats})
    if a.n:
        prof = Profile(**{**prof.__dict__, "n_seq": a.n, "n_conc": max(64, a.n)})
    if a.output:
        out_md = Path(a.output).resolve()
    elif a.quick:
        out_md = Path(tempfile.mkdtemp(prefix="poststack-bench-")) / "RESULTS.md"
    else:
        out_md = HERE / "RESULTS.md"
    out_png = out_md.with_name("ratios.png")
    out_json = out_md.with_name("results.json")  # every repeat's raw figures

    command = os.environ.get("POSTSTACK_BENCH_COMMAND") or shlex.join(
        ["python", os.path.relpath(__file__, os.getcwd()), *(argv or sys.argv[1:])]
    )
    started = time.perf_counter()
    load_start = load_average()

    official_py, official_reason = ensure_official(a.official_python, a.no_official)
    log(f"official SDK: {official_reason}")
    pythons: dict[str, str | None] = {
        "ours": sys.executable,
        "official": str(official_py) if official_py else None,
    }
    envs = {"ours": dict(os.environ), "official": official_env()}

    def interrupted(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # unwinds through the finally that stops the server

    signal.signal(signal.SIGTERM, interrupted)
    server_cpu, worker_cpu = pinning()
    try:
        srv = bench_server.start_server(force_fallback=a.fallback_server, cpu=server_cpu)
    except Exception as exc:
        log(f"server did not start: {exc!r}")
        return 1
    log(f"server: {srv.name} at {srv.base_url}")
    only = set(a.only.split(",")) if a.only else None
    try:
        outcomes = run_all(prof, srv.base_url, pythons, envs, official_reason, only)
    finally:
        srv.stop()

    checks = [evaluate(c, outcomes) for c in CHECKS]
    meta = {
        "quick": a.quick,
        "profile": prof,
        "command": command,
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine_info(),
        "server": srv.name,
        "server_cpu": server_cpu,
        "worker_cpu": worker_cpu,
        "official_reason": official_reason,
        "ours_versions": ", ".join(
            f"{k} {v}"
            for k, v in versions_in(
                sys.executable,
                ["poststack", "httpx", "httpcore", "h11", "requests", "trio"],
                envs["ours"],
            ).items()
        ),
        "official_versions": ", ".join(
            f"{k} {v}"
            for k, v in versions_in(
                str(official_py), ["poststack", "httpx", "httpcore", "pydantic"], envs["official"]
            ).items()
        )
        if official_py
        else "",
        "elapsed": time.perf_counter() - started,
        "load_start": load_start,
        "load_end": load_average(),
    }
    out_md.parent.mkdir(parents=True, exist_ok=True)
    chart_problem = draw_chart(checks, out_png)
    if chart_problem:
        log(f"no chart: {chart_problem}")
    raw = {
        "meta": {**meta, "profile": prof.__dict__},
        "outcomes": {k: o.__dict__ for k, o in outcomes.items()},
    }
    out_json.write_text(json.dumps(raw, indent=1, default=str) + "\n", encoding="utf-8")
    text = render(outcomes, checks, meta, None if chart_problem else out_png.name)
    out_md.write_text(text, encoding="utf-8")
    print(text)
    log(f"results written to {out_md}, {out_json}" + ("" if chart_problem else f", {out_png}"))

    failed = [k for k, o in outcomes.items() if o.error]
    if failed:
        log(f"failed measurements: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

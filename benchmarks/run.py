"""The benchmarks' command line: ``nox -s bench`` (full) or ``nox -s bench_smoke`` (--quick).

    python benchmarks/run.py            # full run: RESULTS.md, ratios.png, results.json here
    python benchmarks/run.py --quick    # smoke: a few hundred sends, one line of output
    python benchmarks/run.py --render benchmarks/results.json   # re-render, measure nothing

Starts one fast loopback server (nginx when installed, else a fallback that is
named in the output), builds the official SDK (``poststack==0.9.0``) into its
own virtual environment when the package index is reachable, then runs every
job (``jobs/``) in worker processes (``runner.py``) and writes the report
(``report.py``, ``chart.py``). Each figure is the median over the repeats with
the min–max beside it; each ratio is computed per repeat (A_i / B_i, measured
next to each other) and then its median is taken.

Targets (``targets.py``) are reported as PASS/MISS with the margin, never by
the exit status: the process exits 0 when every job ran (jobs that are not
available, such as a runtime not built yet, are fine), 1 when a worker crashed
or the server did not start.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import shlex
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import runner
import server as bench_server
from chart import draw_chart
from jobs import FULL, JOB_BY_KEY, JOBS, QUICK, Profile
from jobs.against_official import OFFICIAL_PYTHON
from report import render
from results import Outcome, evaluate
from targets import CHECKS

HERE = Path(__file__).resolve().parent
log = logging.getLogger("bench")


def write_report(
    outcomes: dict[str, Outcome], meta: dict[str, Any], out_md: Path, *, raw: bool = True
) -> str:
    """Write RESULTS.md, ratios.png and (unless re-rendering) results.json; return the text."""
    out_md.parent.mkdir(parents=True, exist_ok=True)
    out_png = out_md.with_name("ratios.png")
    checks = [evaluate(c, outcomes) for c in CHECKS]
    chart_problem = draw_chart(checks, out_png)
    if chart_problem:
        log.info("no chart: %s", chart_problem)
    if raw:  # every repeat's figures, from which --render rebuilds the report
        data = {
            "meta": {**meta, "profile": meta["profile"]._asdict()},
            "outcomes": {k: o.__dict__ for k, o in outcomes.items()},
        }
        out_md.with_name("results.json").write_text(
            json.dumps(data, indent=1, default=str) + "\n", encoding="utf-8"
        )
    text = render(outcomes, checks, meta, None if chart_problem else out_png.name)
    out_md.write_text(text, encoding="utf-8")
    return text


def read_results(path: Path) -> tuple[dict[str, Outcome], dict[str, Any]]:
    """The outcomes and metadata of a results.json written by a run."""
    data = json.loads(path.read_text(encoding="utf-8"))
    meta = {**data["meta"], "profile": Profile(**data["meta"]["profile"])}
    outcomes = {k: Outcome(**v) for k, v in data["outcomes"].items()}
    # A job added since that run has no figures in it: a "not available" row, not a KeyError.
    for job in JOBS:
        outcomes.setdefault(job.key, Outcome(unavailable="not in this run (added later)"))
    return outcomes, meta


def summary_line(outcomes: dict[str, Outcome], prof: Profile, elapsed: float, where: Path) -> str:
    """The smoke's one line of output."""
    failed = [k for k, o in outcomes.items() if o.error]
    missing = sum(1 for o in outcomes.values() if o.unavailable)
    ran = len(outcomes) - len(failed) - missing
    state = f"FAILED: {', '.join(failed)}" if failed else "ok"
    return (
        f"benchmark smoke {state}: {ran} of {len(outcomes)} jobs ran {prof.repeats}x, "
        f"{missing} not available, in {elapsed:.0f} s; report: {where}"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Run the poststack benchmarks.")
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: a few hundred sends; report and log to a temp dir, one line printed",
    )
    p.add_argument("--repeats", type=int, help="interleaved repeats (default 5; quick 2)")
    p.add_argument("--n", type=int, help="timed sends per sequential measurement")
    p.add_argument(
        "--output", help="results file (default benchmarks/RESULTS.md; quick: a temp dir)"
    )
    p.add_argument("--no-official", action="store_true", help="skip the official SDK")
    p.add_argument("--official-python", help="an interpreter that has poststack==0.9.0")
    p.add_argument(
        "--official-bare",
        action="store_true",
        help="the official SDK alone in its venv, without our trio and sniffio (runner.MIRRORED)",
    )
    p.add_argument("--fallback-server", action="store_true", help="do not use nginx")
    p.add_argument(
        "--only",
        help="comma-separated job keys to run, the others not available: " + ", ".join(JOB_BY_KEY),
    )
    p.add_argument(
        "--render",
        metavar="RESULTS_JSON",
        help="measure nothing: rebuild RESULTS.md and ratios.png from a run's results.json",
    )
    return p.parse_args(argv)


def output_path(a: argparse.Namespace) -> Path:
    if a.output:
        return Path(a.output).resolve()
    if a.quick:
        return Path(tempfile.mkdtemp(prefix="poststack-bench-")) / "RESULTS.md"
    return HERE / "RESULTS.md"


def setup_logging(quick: bool, out_md: Path) -> None:
    """Progress lines on stderr; the smoke's go to a file beside its report instead."""
    if quick:
        out_md.parent.mkdir(parents=True, exist_ok=True)
        logging.basicConfig(
            filename=out_md.with_name("bench.log"), format="[bench] %(message)s", level=logging.INFO
        )
    else:
        logging.basicConfig(format="[bench] %(message)s", level=logging.INFO)


def versions(python: str, dists: list[str], env: dict[str, str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in runner.versions_in(python, dists, env).items())


def benchmark(a: argparse.Namespace, prof: Profile, out_md: Path, command: str) -> int:
    """Measure every job, write the report; 0 when every job ran, 1 otherwise."""
    started = time.perf_counter()
    load_start = runner.load_average()
    official_py, official_reason = runner.ensure_official(
        a.official_python, a.no_official, a.official_bare
    )
    log.info("official SDK: %s", official_reason)
    pythons: dict[str, str | None] = {
        "ours": sys.executable,
        "official": str(official_py) if official_py else None,
    }
    envs = {"ours": dict(os.environ), "official": runner.official_env()}
    if official_py:  # for the jobs that run the official SDK beside ours
        envs["ours"][OFFICIAL_PYTHON] = str(official_py)

    def interrupted(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # unwinds through the finally that stops the server

    signal.signal(signal.SIGTERM, interrupted)
    server_cpu, worker_cpu = runner.pinning()
    try:
        srv = bench_server.start_server(force_fallback=a.fallback_server, cpu=server_cpu)
    except Exception as exc:
        log.error("server did not start: %r", exc)
        if a.quick:
            print(f"benchmark smoke FAILED: the server did not start: {exc!r}")
        return 1
    log.info("server: %s at %s", srv.name, srv.base_url)
    only = set(a.only.split(",")) if a.only else None
    try:
        outcomes = runner.run_all(prof, srv.base_url, pythons, envs, official_reason, only)
    finally:
        srv.stop()

    meta = {
        "quick": a.quick,
        "profile": prof,
        "command": command,
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": runner.machine_info(),
        "server": srv.name,
        "server_cpu": server_cpu,
        "worker_cpu": worker_cpu,
        "official_reason": official_reason,
        "ours_versions": versions(
            sys.executable,
            ["poststack", "httpx", "httpcore", "h11", "requests", "trio", "sniffio", "aiohttp"],
            envs["ours"],
        ),
        "official_versions": versions(
            str(official_py),
            ["poststack", "httpx", "httpcore", "pydantic", "trio", "sniffio"],
            envs["official"],
        )
        if official_py
        else "",
        "elapsed": time.perf_counter() - started,
        "load_start": load_start,
        "load_end": runner.load_average(),
    }
    text = write_report(outcomes, meta, out_md)
    failed = [k for k, o in outcomes.items() if o.error]
    if a.quick:
        print(summary_line(outcomes, prof, meta["elapsed"], out_md))
        for key in failed:  # enough to see why without opening the report
            print(f"  {key}: {outcomes[key].error}", file=sys.stderr)
    else:
        print(text)
        log.info("results written to %s (ratios.png, results.json beside it)", out_md)
    if failed:
        log.error("failed measurements: %s", ", ".join(failed))
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    if a.render:
        logging.basicConfig(format="[bench] %(message)s", level=logging.INFO)
        source = Path(a.render).resolve()
        outcomes, meta = read_results(source)
        out_md = Path(a.output).resolve() if a.output else source.with_name("RESULTS.md")
        write_report(outcomes, meta, out_md, raw=False)
        log.info("rendered %s from %s", out_md, source)
        return 0
    prof = QUICK if a.quick else FULL
    if a.repeats:
        prof = prof._replace(repeats=a.repeats)
    if a.n:
        prof = prof._replace(n_seq=a.n, n_conc=max(64, a.n))
    out_md = output_path(a)
    setup_logging(a.quick, out_md)
    command = os.environ.get("POSTSTACK_BENCH_COMMAND") or shlex.join(
        ["python", os.path.relpath(__file__, os.getcwd()), *(argv or sys.argv[1:])]
    )
    return benchmark(a, prof, out_md, command)


if __name__ == "__main__":
    sys.exit(main())

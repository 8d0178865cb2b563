"""The benchmark harness (benchmarks/) holds together: jobs, running, reporting.

No timing is asserted here (targets live in the report): these tests check
that every job is reportable, that the committed report is what the renderer
makes of the committed raw results, and that a tiny real run (a real server,
real worker processes) works end to end and prints one line.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module", autouse=True)
def _bench_on_path() -> Iterator[None]:
    """Import the harness's modules as its scripts do (benchmarks/ first on sys.path)."""
    before = set(sys.modules)
    sys.path.insert(0, str(BENCH))
    try:
        yield
    finally:
        sys.path.remove(str(BENCH))
        for name in set(sys.modules) - before:  # jobs, report, run, ...: not ours to keep
            if (getattr(sys.modules[name], "__file__", None) or "").startswith(str(BENCH)):
                del sys.modules[name]


def test_every_kind_has_one_table_and_every_job_a_row() -> None:
    import report
    from jobs import JOBS, KINDS

    tables = [kind for table in report.TABLES for kind in table.kinds]
    assert sorted(tables) == sorted(KINDS), "each kind of job needs exactly one table"
    assert {job.kind for job in JOBS} <= set(KINDS)
    assert len({job.key for job in JOBS}) == len(JOBS)


def test_targets_name_existing_jobs() -> None:
    from jobs import JOB_BY_KEY
    from targets import CHECKS

    for check in CHECKS:
        for side in (check.num, check.den):
            if side is not None:
                assert side[0] in JOB_BY_KEY, f"{check.label}: no job {side[0]!r}"
        assert (check.op is None) == (check.limit is None), check.label


def test_a_job_defined_twice_or_of_an_unknown_kind_is_refused() -> None:
    from jobs import job

    with pytest.raises(ValueError, match="defined twice"):
        job("ours-httpx-sync", "again", kind="send")
    with pytest.raises(ValueError, match="unknown kind 'stream'"):
        job("ours-stream", "stream", kind="stream")


def test_the_committed_report_is_the_rendering_of_the_committed_results() -> None:
    import run
    from report import render
    from results import evaluate
    from targets import CHECKS

    outcomes, meta = run.read_results(BENCH / "results.json")
    checks = [evaluate(c, outcomes) for c in CHECKS]
    chart = "ratios.png" if (BENCH / "ratios.png").exists() else None
    expected = (BENCH / "RESULTS.md").read_text(encoding="utf-8")
    assert render(outcomes, checks, meta, chart) == expected, (
        "re-render it: python benchmarks/run.py --render benchmarks/results.json"
    )


def test_a_smoke_run_prints_one_line_and_its_report_renders_again(tmp_path: Path) -> None:
    from jobs import JOBS

    only = "core-only,ours-httpx-sync,raw-httpx,official-sync"
    out = tmp_path / "RESULTS.md"
    run = [sys.executable, str(BENCH / "run.py")]
    done = subprocess.run(
        [*run, "--quick", "--no-official", "--repeats", "1", "--only", only, "--output", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == ""
    (line,) = done.stdout.splitlines()
    assert re.fullmatch(
        rf"benchmark smoke ok: 3 of {len(JOBS)} jobs ran 1x, {len(JOBS) - 3} not available, "
        r"in \d+ s; report: .+",
        line,
    ), line
    assert line.endswith(str(out))

    raw = json.loads((tmp_path / "results.json").read_text())
    sends = raw["outcomes"]["ours-httpx-sync"]["values"]
    assert [(v["job"], v["n"]) for v in sends] == [("ours-httpx-sync", 60)]
    assert sends[0]["cpu_us_per_req"] > 0
    assert "official SDK skipped" in raw["outcomes"]["official-sync"]["unavailable"]
    assert "[bench] server: " in (tmp_path / "bench.log").read_text()

    report = out.read_text()
    assert "| ours · httpx sync | " in report
    assert "| official 0.9.0 · sync (httpx) | not available: official SDK skipped" in report
    again = tmp_path / "again.md"
    subprocess.run(
        [*run, "--render", str(tmp_path / "results.json"), "--output", str(again)],
        capture_output=True,
        timeout=60,
        check=True,
    )
    assert again.read_text() == report


def test_a_job_whose_sdk_is_missing_is_not_available_not_failed() -> None:
    # The official SDK's jobs refuse to time our poststack under its name.
    done = subprocess.run(
        [sys.executable, str(BENCH / "worker.py"), "official-sync", "--url", "http://127.0.0.1:9"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result = json.loads(done.stdout)
    assert result["unavailable"] == "this interpreter has our poststack, not the official SDK"
    assert result["job"] == "official-sync"


def test_a_job_against_the_official_sdk_says_why_its_other_process_ended() -> None:
    # Started with our interpreter, the official SDK's side refuses to run: the job's
    # first block raises with the other process's own last words, rather than hanging.
    from jobs.against_official import other_process

    url = "http://127.0.0.1:9"
    with (
        pytest.raises(RuntimeError) as info,
        other_process(sys.executable, "official-sync", url) as block,
    ):
        block(10)
    assert "the official SDK's process ended (1)" in str(info.value)
    assert "this interpreter has our poststack, not the official SDK" in str(info.value)


def test_a_job_against_the_official_sdk_without_its_interpreter_is_not_available(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from jobs import Context, Unavailable
    from jobs.against_official import OFFICIAL_PYTHON, ab_official_sync

    monkeypatch.delenv(OFFICIAL_PYTHON, raising=False)
    with pytest.raises(Unavailable, match=OFFICIAL_PYTHON):
        ab_official_sync(Context("http://127.0.0.1:9", 10, 10))

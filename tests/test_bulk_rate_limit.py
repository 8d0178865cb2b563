"""The bulk benchmark's promises, smaller: a run at the sandbox's rate limit, killed and rerun.

The sandbox (in this process) admits 20 requests a second per key; the run is
``poststack send-many`` in a subprocess, as in the benchmark
(``benchmarks/jobs/bulk.py``, figures in benchmarks/RESULTS.md). Asserted
here: every email exactly once, under 2 % of the requests answered 429, never
faster than the limit allows, and a run killed with SIGKILL halfway then
rerun with the same run id ends with exactly every email, the rerun sending
only the missing ones. How close to the ideal time a run comes is the
benchmark's business, not a test's.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from poststack.testing import Sandbox, Timings

KEY = "sk_test_rate"
LIMIT = 20


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    # Emails stay queued (no delivery steps to simulate): the sandbox answers fast, so
    # the limit is what a run meets.
    with Sandbox(KEY, rate_limit=LIMIT, timings=Timings(send=10**9)) as sandbox:
        yield sandbox


def recipients(path: Path, n: int) -> Path:
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["email", "name"])
        writer.writerows([f"u{i}@example.com", f"User {i}"] for i in range(n))
    return path


def command(path: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "poststack", "send-many", str(path), "--from", "n@example.com",
        "--subject", "Hi {{name}}", "--text", "Hello {{name}}", "--json", *extra,
    ]  # fmt: skip


def environment(sandbox: Sandbox) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTSTACK_")}
    return env | {"POSTSTACK_API_KEY": KEY, "POSTSTACK_BASE_URL": sandbox.base_url}


def finish(args: list[str], sandbox: Sandbox) -> dict[str, Any]:
    done = subprocess.run(
        args, capture_output=True, text=True, env=environment(sandbox), timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    summary: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    assert summary["event"] == "summary"
    return summary


def kill_halfway(args: list[str], sandbox: Sandbox, half: int) -> None:
    process = subprocess.Popen(
        args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environment(sandbox)
    )
    try:
        sandbox.wait_for_emails(half, timeout=300)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL


@pytest.mark.parametrize(
    ("emails", "batch_size"), [(5000, 100), (300, 1)], ids=["batches", "one by one"]
)
def test_a_run_at_the_limit(sb: Sandbox, tmp_path: Path, emails: int, batch_size: int) -> None:
    path = recipients(tmp_path / "subs.csv", emails)
    summary = finish(command(path, "--run-id", "full", "--batch-size", str(batch_size)), sb)
    assert (summary["sent"], summary["failed"]) == (emails, 0)
    assert len(sb.outbox) == emails
    requests = summary["requests"]
    # Under 2 %; on a busy machine one window's edge can also meet a 429 of the sandbox's
    # own timing (it counts a request when a thread gets to it): one more is allowed.
    assert summary["throttled"] < 0.02 * requests + 1
    # Every request once (the plan's registration included), plus the 429s' retries.
    assert requests == -(-emails // batch_size) + 1 + summary["throttled"]
    answered = [r for r in sb.requests if r.path in ("/emails", "/emails/batch")]
    assert len({r.idempotency_key for r in answered}) == -(-emails // batch_size)


@pytest.mark.parametrize(
    ("emails", "batch_size", "journal"),
    [(5000, 100, False), (300, 1, True)],
    ids=["batches, the API's idempotency alone", "one by one, with a journal"],
)
def test_killed_halfway_and_rerun_with_the_same_run_id(
    sb: Sandbox, tmp_path: Path, emails: int, batch_size: int, journal: bool
) -> None:
    path = recipients(tmp_path / "subs.csv", emails)
    options = ["--run-id", "killed", "--batch-size", str(batch_size)]
    if journal:
        options += ["--journal", str(tmp_path / "killed.jsonl")]
    args = command(path, *options)
    kill_halfway(args, sb, emails // 2)
    summary = finish(args, sb)
    assert (summary["sent"], summary["failed"], summary["skipped"]) == (emails, 0, 0)
    assert len(sb.outbox) == emails  # exactly: nothing sent twice, nothing missing
    assert len({email.to for email in sb.outbox}) == emails
    if journal:
        # Only what the journal did not list was asked for again (and the plan).
        lines = (tmp_path / "killed.jsonl").read_text().splitlines()
        finished_before = summary["already_sent"]
        assert finished_before >= emails // 2 - 4  # the killed run's journal: all but in flight
        assert len(lines) == 1 + emails  # a header, and one line per (one-email) chunk
        assert summary["requests"] == 1 + (emails - finished_before) + summary["throttled"]

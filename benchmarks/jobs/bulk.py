"""Bulk sending at a rate limit: ``poststack send-many`` against the sandbox at 20 requests/s.

Each job starts a sandbox in the worker process (``rate_limit=20``, emails
left queued so the sandbox answers fast and the limit is what the run meets)
and runs the real command line in a child process on another CPU:

1. the whole run, timed by the run itself (its last progress event), with the
   answers and 429s it counted. The ideal is what the limit allows: the last
   window of requests may start ``(R - 1) // 20`` seconds after the first (of
   ``R`` requests: every chunk, and the run's plan), and the sandbox then
   takes one round trip (timed alone on an idle sandbox first) for each
   request of that window: it serves them one after the other, as the
   Python process it is;
2. the same run (a fresh sandbox) killed with SIGKILL once half the emails
   are in the outbox, then run again with the same run id and its journal:
   the outbox must end with every email exactly once, and the rerun creates
   only the missing ones.

``ctx.n`` is the number of emails (5,000 in the full run); the batch job
sends 100 per ``POST /emails/batch``, the other one ``POST /emails`` each.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ._measure import need, ours
from ._registry import Context, job

KEY = "sk_test_bench"
LIMIT = 20


@job("bulk-batch", "send-many · 100 per batch at 20 req/s", kind="bulk")
def bulk_batch(ctx: Context) -> dict[str, Any]:
    return _bulk(ctx, batch_size=100)


@job("bulk-single", "send-many · one by one at 20 req/s", kind="bulk")
def bulk_single(ctx: Context) -> dict[str, Any]:
    return _bulk(ctx, batch_size=1)


def _other_cpus() -> set[int] | None:
    """The CPUs this worker is not pinned to (the client runs there), if there are any."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    mine = os.sched_getaffinity(0)
    others = set(range(os.cpu_count() or 1)) - mine
    return others or None


def _command(path: Path, batch_size: int, run_id: str, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "poststack", "send-many", str(path),
        "--from", "bench@example.com", "--subject", "Hello {{name}}",
        "--text", "Hi {{name}}, this is the bulk benchmark.",
        "--batch-size", str(batch_size), "--run-id", run_id, "--json", *extra,
    ]  # fmt: skip


def _start(args: list[str], base_url: str, **kwargs: Any) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTSTACK_")}
    env |= {"POSTSTACK_API_KEY": KEY, "POSTSTACK_BASE_URL": base_url}
    process = subprocess.Popen(args, env=env, text=True, **kwargs)
    cpus = _other_cpus()
    if cpus:
        # Away from the sandbox's CPU (it starts on ours; the run's imports take longer).
        os.sched_setaffinity(process.pid, cpus)
    return process


def _finish(args: list[str], base_url: str) -> tuple[dict[str, Any], float]:
    """Run the command to its end: its summary, and the run's own elapsed seconds."""
    process = _start(args, base_url, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = process.communicate(timeout=3600)
    if process.returncode != 0:
        raise RuntimeError(f"send-many exited {process.returncode}: {err[-500:]}")
    events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    summary = events[-1]
    progress = [e for e in events if e["event"] == "progress"]
    return summary, progress[-1]["elapsed"]


def _round_trip(ps: Any, batch_size: int) -> float:
    """The median time of one request like the run's, on an idle sandbox."""
    times = []
    for n in range(5):
        emails = [
            {"from": "bench@example.com", "to": [f"rt{n}.{i}@example.com"], "subject": "rt",
             "text": "round trip"}
            for i in range(batch_size)
        ]  # fmt: skip
        start = time.perf_counter()
        if batch_size == 1:
            ps.emails.send(emails[0])
        else:
            ps.emails.batch({"emails": emails})
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def _bulk(ctx: Context, batch_size: int) -> dict[str, Any]:
    poststack = ours()
    testing = need("poststack.testing")
    n = ctx.n
    work = Path(tempfile.mkdtemp(prefix="poststack-bulk-"))
    recipients = work / "recipients.csv"
    with recipients.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["email", "name"])
        writer.writerows([f"user{i}@example.com", f"User {i}"] for i in range(n))
    requests = -(-n // batch_size) + 1  # every chunk, and the run's plan
    quiet = testing.Timings(send=10**9)

    with (
        testing.Sandbox(KEY, timings=quiet) as sb,
        poststack.PostStack(api_key=KEY, base_url=sb.base_url) as ps,
    ):
        round_trip = _round_trip(ps, batch_size)
    windows = (requests - 1) // LIMIT
    ideal = windows + (requests - LIMIT * windows) * round_trip

    with testing.Sandbox(KEY, rate_limit=LIMIT, timings=quiet) as sb:
        summary, elapsed = _finish(_command(recipients, batch_size, "full"), sb.base_url)
        outbox = len(sb.outbox)

    journal = work / "killed.jsonl"
    killed_args = _command(recipients, batch_size, "killed", "--journal", str(journal))
    with testing.Sandbox(KEY, rate_limit=LIMIT, timings=quiet) as sb:
        process = _start(killed_args, sb.base_url, stdout=subprocess.DEVNULL)
        try:
            sb.wait_for_emails(n // 2, timeout=3600)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=60)
        before_rerun = len(sb.outbox)
        rerun, rerun_elapsed = _finish(killed_args, sb.base_url)
        after_rerun = len(sb.outbox)
        distinct = len({email.to for email in sb.outbox})

    answered = summary["requests"]
    return {
        "n": n,
        "emails": n,
        "batch_size": batch_size,
        "wall_s": elapsed,
        "ideal_s": ideal,
        "round_trip_ms": round_trip * 1000,
        "emails_per_s": n / elapsed,
        "requests": answered,
        "throttled": summary["throttled"],
        "share_429_pct": 100 * summary["throttled"] / answered,
        "sent": summary["sent"],
        "outbox": outbox,
        "killed_at": before_rerun,
        "rerun_created": after_rerun - before_rerun,
        "rerun_missing": n - before_rerun,
        "rerun_already_sent": rerun["already_sent"],
        "rerun_requests": rerun["requests"],
        "rerun_throttled": rerun["throttled"],
        "rerun_wall_s": rerun_elapsed,
        "outbox_after_rerun": after_rerun,
        "distinct_recipients": distinct,
        "exactly_once": int(after_rerun == distinct == n and outbox == n),
    }

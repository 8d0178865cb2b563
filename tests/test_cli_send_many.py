"""``poststack send-many`` as a user runs it: a real subprocess against a sandbox.

Each test starts a sandbox in this process and the command in another, with
the sandbox's URL and key in the environment, as a user's shell would have
them. Waits are on the sandbox's outbox or on the process, never on sleeps.
"""

from __future__ import annotations

import csv
import json
import os
import pty
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from poststack import PostStack
from poststack.testing import Sandbox

KEY = "sk_test_cli"
COMMAND = [sys.executable, "-m", "poststack", "send-many"]


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(KEY) as sandbox:
        yield sandbox


def environment(sandbox: Sandbox | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTSTACK_")}
    if sandbox is not None:
        env |= {"POSTSTACK_API_KEY": KEY, "POSTSTACK_BASE_URL": sandbox.base_url}
    return env


def run(
    args: list[str], sandbox: Sandbox | None, cwd: Path, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, *args],
        capture_output=True,
        text=True,
        env=environment(sandbox),
        cwd=cwd,
        input=stdin,
        timeout=120,
        check=False,
    )


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def subscribers(n: int) -> list[dict[str, str]]:
    return [{"email": f"user{i}@example.com", "name": f"User {i}"} for i in range(n)]


BASIC = ["--from", "News <news@example.com>", "--subject", "Hello {{name}}"]


def test_a_csv_through_templates_to_the_outbox(sb: Sandbox, tmp_path: Path) -> None:
    rows = subscribers(250)
    rows[3]["name"] = "Tom & <Jerry>"
    write_csv(tmp_path / "subs.csv", rows)
    (tmp_path / "body.html").write_text("<p>Dear {{name}},</p>", encoding="utf-8")
    (tmp_path / "body.txt").write_text("Dear {{name}},\n{{footer}}", encoding="utf-8")
    done = run(
        [
            "subs.csv",
            *BASIC,
            "--html-file",
            "body.html",
            "--text-file",
            "body.txt",
            "--var",
            "footer=See you",
            "--tag",
            "june",
            "--results",
            "results.csv",
        ],
        sb,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("sent 250 of 250, 0 failed, 0 skipped (run id ")
    outbox = {email.to[0]: email for email in sb.outbox}
    assert len(outbox) == 250
    tom = outbox["user3@example.com"]
    assert tom.subject == "Hello Tom & <Jerry>"
    assert tom.html == "<p>Dear Tom &amp; &lt;Jerry&gt;,</p>"  # escaped in HTML only
    assert tom.text == "Dear Tom & <Jerry>,\nSee you"
    assert tom.tags == ("june",)
    assert tom.from_ == "News <news@example.com>"
    with (tmp_path / "results.csv").open(newline="") as results:
        lines = list(csv.DictReader(results))
    assert [line["row"] for line in lines] == [str(i) for i in range(1, 251)]
    assert {line["status"] for line in lines} == {"sent"}
    assert lines[3]["id"] == tom.id
    assert lines[3]["to"] == "user3@example.com"


def test_json_lines_in_and_machine_output(sb: Sandbox, tmp_path: Path) -> None:
    with PostStack(api_key=KEY, base_url=sb.base_url) as ps:
        template = ps.templates.create(
            {"name": "welcome", "subject": "Welcome {{name}}", "html": "<p>Hi {{name}}</p>"}
        )
        template_id = template["template"]["publicId"]
        ps.templates.publish(template_id)
    lines = [
        json.dumps({"to": ["a@example.com", "b@example.com"], "name": "Ann", "vip": True}),
        "",
        json.dumps({"to": "c@example.com", "name": "Cy", "vip": False}),
    ]
    (tmp_path / "people.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = run(
        [
            "people.jsonl",
            "--from",
            "news@example.com",
            "--template-id",
            template_id,
            "--json",
            "--results",
            "out.jsonl",
        ],
        sb,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert events[-1]["event"] == "summary"
    assert events[-1] | {"run_id": None} == {
        "event": "summary",
        "run_id": None,
        "total": 2,
        "sent": 2,
        "failed": 0,
        "skipped": 0,
        "already_sent": 0,
        "cancelled": False,
        "stopped_by": None,
        "requests": 1,
        "throttled": 0,
    }
    assert {e["event"] for e in events[:-1]} == {"progress"}
    assert events[-2]["sent"] == 2
    sent = {email.to: email for email in sb.outbox}
    ann = sent[("a@example.com", "b@example.com")]
    assert ann.template_id == template_id
    assert ann.variables == {"name": "Ann", "vip": "true"}
    assert ann.subject == "Welcome Ann"
    results = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [(r["row"], r["status"]) for r in results] == [(1, "sent"), (2, "sent")]
    assert results[1]["to"] == "c@example.com"


def test_a_dry_run_checks_every_row_and_sends_nothing(tmp_path: Path) -> None:
    write_csv(tmp_path / "subs.csv", subscribers(3))
    done = run(["subs.csv", *BASIC, "--text", "Hi {{name}}", "--dry-run"], None, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("3 row(s) checked: every one can be sent.")
    first = json.loads(done.stdout.split("):\n", 1)[1].rsplit("(dry run", 1)[0])
    assert first == {
        "from": "News <news@example.com>",
        "to": ["user0@example.com"],
        "subject": "Hello User 0",
        "text": "Hi User 0",
    }
    as_json = run(["subs.csv", *BASIC, "--text", "x", "--dry-run", "--json"], None, tmp_path)
    assert json.loads(as_json.stdout)["rows"] == 3


def test_bad_rows_are_all_reported_by_number_and_nothing_is_sent(
    sb: Sandbox, tmp_path: Path
) -> None:
    path = tmp_path / "subs.csv"
    path.write_text(
        "email,name,scheduled_at\n"
        "ok@example.com,Ann,\n"
        "not-an-address,Bob,\n"
        "\n"
        "cy@example.com,,tomorrow\n"
        "dee@example.com,Dee,2030-01-02T09:00:00Z,extra\n",
        encoding="utf-8",
    )
    done = run(["subs.csv", *BASIC, "--text", "Hi {{name}} {{missing}}"], sb, tmp_path)
    assert done.returncode == 2
    assert sb.requests == []
    errors = done.stderr
    assert "poststack: error: 4 bad row(s), nothing was sent:" in errors
    assert "row 1 (line 2): {{missing}} has no value" in errors
    assert "row 2 (line 3): to: 'not-an-address' is not an email address" in errors
    assert "row 3 (line 5): {{missing}} has no value" in errors  # the first of its troubles
    assert "row 4 (line 6): 4 fields, the header has 3" in errors
    assert errors.index("row 1 (") < errors.index("row 2 (") < errors.index("row 4 (")
    (tmp_path / "ok.csv").write_text(
        "email,name,scheduled_at\neve@example.com,Eve,2030-01-02T09:00:00\n", encoding="utf-8"
    )
    done = run(["ok.csv", *BASIC, "--text", "Hi"], sb, tmp_path)
    assert "row 1 (line 2): scheduled_at: '2030-01-02T09:00:00' has no UTC offset" in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.csv", *BASIC, "--text", "x"], "cannot read 'missing.csv'"),
        (["subs.txt", *BASIC, "--text", "x"], "pass --format csv or jsonl"),
        (["subs.csv", "--subject", "x", "--text", "x"], "no sender"),
        (["subs.csv", *BASIC], "nothing to send"),
        (["subs.csv", "--from", "a@example.com", "--text", "x"], "no subject"),
        (["subs.csv", *BASIC, "--text", "x", "--map", "nope=to"], "names no column"),
        (["subs.csv", *BASIC, "--text", "x", "--journal", "j"], "--journal needs --run-id"),
        (["subs.csv", *BASIC, "--text", "x", "--template-id", "tpl_1"], "brings its own body"),
        (["subs.csv", *BASIC, "--text", "x", "--map", "email=nope"], "FIELD one of"),
        (["subs.csv", *BASIC, "--text", "x", "--batch-size", "101"], "at most 100"),
    ],
)
def test_bad_usage_exits_2_with_a_clear_message(
    sb: Sandbox, tmp_path: Path, args: list[str], message: str
) -> None:
    write_csv(tmp_path / "subs.csv", subscribers(2))
    (tmp_path / "subs.txt").write_text("x")
    done = run(args, sb, tmp_path)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert sb.requests == []


def test_columns_map_to_fields(sb: Sandbox, tmp_path: Path) -> None:
    write_csv(
        tmp_path / "subs.csv",
        [
            {
                "address": "a@example.com",
                "Subject": "Own subject",
                "copy": "c@example.com",
                "tags": "x, y",
                "who": "Ann",
            }
        ],
    )
    done = run(
        [
            "subs.csv",
            "--from",
            "n@example.com",
            "--map",
            "address=to",
            "--map",
            "copy=cc",
            "--text",
            "Hi {{who}}",
        ],
        sb,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    (email,) = sb.outbox
    assert (email.to, email.cc, email.subject, email.tags, email.text) == (
        ("a@example.com",),
        ("c@example.com",),
        "Own subject",
        ("x", "y"),
        "Hi Ann",
    )


def test_some_failed_exits_1_and_says_how_to_finish(sb: Sandbox, tmp_path: Path) -> None:
    write_csv(tmp_path / "subs.csv", subscribers(250))
    # The first batch is answered as usual (a tiny delay), the second gets a 503.
    sb.faults.next(delay=0.001, path="/emails/batch")
    sb.faults.next(status=503, path="/emails/batch")
    args = ["subs.csv", *BASIC, "--text", "x", "--run-id", "june", "--concurrency", "1"]
    done = run([*args, "--max-retries", "0", "--results", "r.csv"], sb, tmp_path)
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith("sent 150 of 250, 100 failed, 0 skipped (run id june)")
    assert "row 101 (line 102): 503" in done.stderr
    assert "run again with --run-id june to send only what was not sent" in done.stderr
    with (tmp_path / "r.csv").open(newline="") as results:
        failed = [line for line in csv.DictReader(results) if line["status"] == "failed"]
    assert [int(line["row"]) for line in failed] == list(range(101, 201))
    assert failed[0]["error"].startswith("503")
    again = run(args, sb, tmp_path)
    assert again.returncode == 0, again.stderr
    assert len(sb.outbox) == 250


def test_a_changed_file_under_the_same_run_id_exits_2(sb: Sandbox, tmp_path: Path) -> None:
    write_csv(tmp_path / "subs.csv", subscribers(5))
    args = ["subs.csv", *BASIC, "--text", "x", "--run-id", "june"]
    assert run(args, sb, tmp_path).returncode == 0
    write_csv(tmp_path / "subs.csv", subscribers(6))
    done = run(args, sb, tmp_path)
    assert done.returncode == 2
    assert "run 'june' was started with a different input" in done.stderr
    assert len(sb.outbox) == 5


def test_a_journal_resume(sb: Sandbox, tmp_path: Path) -> None:
    write_csv(tmp_path / "subs.csv", subscribers(250))
    args = ["subs.csv", *BASIC, "--text", "x", "--run-id", "june", "--journal", "june.jsonl"]
    assert run(args, sb, tmp_path).returncode == 0
    before = len(sb.requests)
    done = run(args, sb, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("sent 250 of 250, 250 of them by an earlier run")
    assert len(sb.requests) == before  # nothing left to ask
    assert len(sb.outbox) == 250


# --- progress display -----------------------------------------------------------------------


def test_plain_lines_when_stderr_is_no_terminal(sb: Sandbox, tmp_path: Path) -> None:
    write_csv(tmp_path / "subs.csv", subscribers(250))
    done = run(["subs.csv", *BASIC, "--text", "x"], sb, tmp_path)
    lines = [line for line in done.stderr.splitlines() if line.startswith("poststack: ")]
    assert lines[0] == "poststack: 0/250 sent (0%), 0 failed, 0.0 emails/s, ETA ?"
    assert lines[-1].startswith("poststack: 250/250 sent (100%), 0 failed, ")
    assert lines[-1].endswith(" emails/s, ETA 0s")
    assert "\r" not in done.stderr


def on_a_terminal(args: list[str], sandbox: Sandbox, cwd: Path, prelude: str = "") -> str:
    """Run the command with a pseudo-terminal as its stderr; everything it drew there."""
    main, secondary = pty.openpty()
    code = f"{prelude}import sys; from poststack.cli import main; sys.exit(main(sys.argv[1:]))"
    process = subprocess.Popen(
        [sys.executable, "-c", code, "send-many", *args],
        stdout=subprocess.PIPE,
        stderr=secondary,
        env=environment(sandbox) | {"COLUMNS": "120", "TERM": "xterm"},
        cwd=cwd,
    )
    os.close(secondary)
    drawn = bytearray()
    while True:
        ready, _, _ = select.select([main], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the process closed its end
            break
        if not chunk:
            break
        drawn += chunk
    os.close(main)
    assert process.wait(timeout=60) == 0
    assert process.stdout is not None
    process.stdout.close()
    return drawn.decode("utf-8", "replace")


def test_a_rich_progress_bar_on_a_terminal(sb: Sandbox, tmp_path: Path) -> None:
    pytest.importorskip("rich", reason="the cli extra is not installed")
    write_csv(tmp_path / "subs.csv", subscribers(300))
    drawn = on_a_terminal(["subs.csv", *BASIC, "--text", "x"], sb, tmp_path)
    assert "sending" in drawn
    assert "300/300 sent" in drawn
    assert "emails/s" in drawn
    assert "━" in drawn  # rich's bar


def test_a_plain_bar_on_a_terminal_without_rich(sb: Sandbox, tmp_path: Path) -> None:
    write_csv(tmp_path / "subs.csv", subscribers(300))
    block_rich = "import sys; sys.modules['rich'] = None\n"  # import rich now fails
    drawn = on_a_terminal(["subs.csv", *BASIC, "--text", "x"], sb, tmp_path, block_rich)
    assert "\r[" in drawn
    assert "[" + "#" * 30 + "] 300/300 sent (100%), 0 failed" in drawn
    assert "\x1b[K" in drawn


# --- stopping ------------------------------------------------------------------------------


def start(args: list[str], sandbox: Sandbox, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*COMMAND, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(sandbox),
        cwd=cwd,
    )


def test_sigterm_stops_after_the_requests_in_flight(tmp_path: Path) -> None:
    write_csv(tmp_path / "subs.csv", subscribers(200))
    with Sandbox(KEY, rate_limit=20) as sandbox:
        args = [
            "subs.csv",
            *BASIC,
            "--text",
            "x",
            "--run-id",
            "deploy",
            "--batch-size",
            "1",
            "--results",
            "r.csv",
        ]
        process = start(args, sandbox, tmp_path)
        sandbox.wait_for_emails(25, timeout=60)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
        assert process.returncode == 130, err
        assert "stopping after the requests in flight" in err
        sent = len(sandbox.outbox)
        assert f"sent {sent} of 200, 0 failed, {200 - sent} skipped" in out
        with (tmp_path / "r.csv").open(newline="") as results:
            statuses = [line["status"] for line in csv.DictReader(results)]
        assert statuses.count("sent") == sent
        assert statuses.count("skipped") == 200 - sent
        again = run(args, sandbox, tmp_path)
        assert again.returncode == 0, again.stderr
        assert len(sandbox.outbox) == 200


def summary_of(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    summary: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    assert summary["event"] == "summary"
    return summary

"""The ``poststack`` command line, run as a user runs it: a subprocess against a Sandbox.

Each test starts the CLI with ``python -m poststack`` (and, where it matters, the
``poststack`` console script installed next to the interpreter) and points it at
the ``poststack_sandbox`` fixture from our own pytest plugin.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import pytest

from poststack import PostStack, __version__
from poststack.testing import Sandbox
from poststack_core import sign

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = Path(sys.executable).with_name("poststack.exe" if os.name == "nt" else "poststack")
MODULE = [sys.executable, "-m", "poststack"]
# Generous bounds for a loaded 2-core machine: only reached when something hangs.
WAIT = 60.0
EMAIL_ID = re.compile(r"^em_[0-9A-Za-z]+$")

MESSAGE: Any = {
    "from": "hello@yourdomain.com",
    "to": ["user@example.com"],
    "subject": "Hello",
    "text": "Hi!",
}


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTSTACK_")}
    env["PYTHONIOENCODING"] = "utf-8"
    env.update(extra)
    return env


def run(
    args: Sequence[str],
    *,
    command: Sequence[str] = MODULE,
    env: dict[str, str] | None = None,
    stdin: str | bytes | None = None,
) -> subprocess.CompletedProcess[str]:
    data = stdin.encode() if isinstance(stdin, str) else stdin
    done = subprocess.run(
        [*command, *args],
        input=data if data is not None else b"",
        capture_output=True,
        env=env if env is not None else clean_env(),
        cwd=ROOT,
        timeout=WAIT,
        check=False,
    )
    result = subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode(), done.stderr.decode()
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def connect(sb: Sandbox) -> list[str]:
    return ["--api-key", sb.api_key, "--base-url", sb.base_url]


@pytest.fixture(params=["module", "script"])
def cli(request: pytest.FixtureRequest) -> list[str]:
    """``python -m poststack`` and the ``poststack`` console script."""
    if request.param == "module":
        return MODULE
    if not SCRIPT.exists():
        pytest.skip(f"no console script at {SCRIPT} (install the project: pip install -e .)")
    return [str(SCRIPT)]


# -- send --


def test_send_with_every_option(cli: list[str], poststack_sandbox: Sandbox, tmp_path: Path) -> None:
    sb = poststack_sandbox
    html = tmp_path / "welcome.html"
    html.write_text("<h1>Welcome, Ada!</h1>\n<p>ünïcödé</p>\n", encoding="utf-8")
    pdf = tmp_path / "invoice.pdf"
    pdf.write_bytes(b"%PDF-1.4\n" + bytes(range(256)))
    csv = tmp_path / "report.csv"
    csv.write_text("a,b\n1,2\n")
    blob = tmp_path / "data.unknownext"
    blob.write_bytes(b"\x00\x01")

    result = run(
        [
            "send",
            *connect(sb),
            "--from",
            "Ada <hello@yourdomain.com>",
            "--to",
            "user@example.com, second@example.com",
            "--to",
            '"Doe, Jane" <jane@example.com>',
            "--cc",
            "cc1@example.com,cc2@example.com",
            "--bcc",
            "audit@example.com",
            "--reply-to",
            "support@yourdomain.com",
            "--subject",
            "Welcome",
            "--html-file",
            str(html),
            "--text",
            "Welcome, Ada!",
            "--attach",
            str(pdf),
            "--attach",
            str(csv),
            "--attach",
            str(blob),
            "--tag",
            "onboarding",
            "--tag",
            "welcome",
            "--header",
            "X-Campaign: spring",
            "--header",
            "X-Entity-Ref-ID=42",
            "--idempotency-key",
            "signup-42",
        ],
        command=cli,
    )
    assert result.returncode == 0, result.stderr
    (email,) = sb.wait_for_emails(1)
    assert result.stdout == f"{email.id}\n"
    assert result.stderr == ""
    assert email.from_ == "Ada <hello@yourdomain.com>"
    assert email.to == ("user@example.com", "second@example.com", '"Doe, Jane" <jane@example.com>')
    assert email.cc == ("cc1@example.com", "cc2@example.com")
    assert email.bcc == ("audit@example.com",)
    assert email.reply_to == "support@yourdomain.com"
    assert email.subject == "Welcome"
    assert email.html == html.read_text(encoding="utf-8")
    assert email.text == "Welcome, Ada!"
    assert email.tags == ("onboarding", "welcome")
    assert email.headers == {"X-Campaign": "spring", "X-Entity-Ref-ID": "42"}
    sent = {a["filename"]: a for a in email.attachments}
    assert set(sent) == {"invoice.pdf", "report.csv", "data.unknownext"}
    assert sent["invoice.pdf"]["content_type"] == "application/pdf"
    assert sent["report.csv"]["content_type"] == "text/csv"
    assert sent["data.unknownext"]["content_type"] == "application/octet-stream"
    for path in (pdf, csv, blob):
        assert base64.b64decode(sent[path.name]["content"]) == path.read_bytes()
    (request,) = sb.requests
    assert request.idempotency_key == "signup-42"
    assert "idempotency_key" not in request.json  # the header, not the body field
    assert request.headers["authorization"] == f"Bearer {sb.api_key}"


def test_send_reads_config_from_the_environment(poststack_sandbox: Sandbox) -> None:
    sb = poststack_sandbox
    env = clean_env(POSTSTACK_API_KEY=sb.api_key, POSTSTACK_BASE_URL=sb.base_url)
    result = run(
        [
            "send",
            "--from",
            "a@yourdomain.com",
            "--to",
            "b@example.com",
            "--subject",
            "S",
            "--text",
            "T",
            "--json",
        ],
        env=env,
    )
    assert result.returncode == 0, result.stderr
    (email,) = sb.outbox
    assert json.loads(result.stdout) == {"id": email.id}


def test_global_options_before_the_subcommand(poststack_sandbox: Sandbox) -> None:
    sb = poststack_sandbox
    result = run(
        [
            *connect(sb),
            "--timeout",
            "20",
            "--max-retries",
            "2",
            "send",
            "--from",
            "a@yourdomain.com",
            "--to",
            "b@example.com",
            "--subject",
            "S",
            "--text",
            "T",
        ]
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == sb.outbox[0].id


def test_send_html_from_stdin_and_a_schedule(poststack_sandbox: Sandbox) -> None:
    sb = poststack_sandbox
    result = run(
        [
            "send",
            *connect(sb),
            "--from",
            "a@yourdomain.com",
            "--to",
            "b@example.com",
            "--subject",
            "Later",
            "--html-file",
            "-",
            "--scheduled-at",
            "2999-01-02T09:00:00Z",
        ],
        stdin="<p>from stdin</p>",
    )
    assert result.returncode == 0, result.stderr
    (email,) = sb.outbox
    assert email.html == "<p>from stdin</p>"
    assert email.status == "scheduled"
    assert email.payload["scheduled_at"] == "2999-01-02T09:00:00Z"

    cancelled = run(["emails", "cancel", email.id, *connect(sb)])
    assert cancelled.returncode == 0, cancelled.stderr
    assert cancelled.stdout == f"cancelled {email.id}\n"
    assert sb.outbox[0].status == "cancelled"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scheduled-at", "2030-01-02T09:00:00"], "has no UTC offset"),
        (["--scheduled-at", "next tuesday"], "not an ISO 8601 date-time"),
        (["--header", "no separator"], "expected 'Name: value'"),
        (["--html", "x", "--html-file", "f.html"], "not allowed with argument"),
        (["--timeout", "0"], "must be a number of seconds > 0"),
        (["--max-retries", "-1"], "must be at least 0"),
    ],
)
def test_send_usage_errors_exit_2(
    poststack_sandbox: Sandbox, args: list[str], message: str
) -> None:
    base = ["send", *connect(poststack_sandbox), "--from", "a@yourdomain.com", "--to", "b@x.org"]
    result = run([*base, "--subject", "S", "--text", "T", *args])
    assert result.returncode == 2
    assert message in result.stderr
    assert poststack_sandbox.requests == []


def test_send_input_errors_exit_2(poststack_sandbox: Sandbox, tmp_path: Path) -> None:
    base = ["send", *connect(poststack_sandbox), "--from", "a@yourdomain.com", "--to", "b@x.org"]
    missing = tmp_path / "missing.pdf"
    result = run([*base, "--text", "T", "--attach", str(missing)])
    assert result.returncode == 2
    assert f"cannot read attachment {str(missing)!r}" in result.stderr

    result = run([*base, "--subject", "S"])
    assert result.returncode == 2
    assert "nothing to send" in result.stderr

    result = run([*base, "--subject", "S", "--text", "T", "--sandbox"])
    assert result.returncode == 2
    assert "drop --base-url" in result.stderr
    assert poststack_sandbox.requests == []


# -- send --sandbox --

README_ARGS = [
    "send",
    "--sandbox",
    "--from",
    "hello@yourdomain.com",
    "--to",
    "user@example.com",
    "--subject",
    "Hello",
    "--html",
    "<h1>Welcome!</h1>",
]


def test_send_sandbox_prints_the_id_and_what_the_sandbox_received(cli: list[str]) -> None:
    result = run(README_ARGS, command=cli)
    assert result.returncode == 0, result.stderr
    first, *rest = result.stdout.splitlines()
    assert EMAIL_ID.match(first)
    summary = "\n".join(rest)
    assert f"id:       {first}" in summary
    assert "from:     hello@yourdomain.com" in summary
    assert "to:       user@example.com" in summary
    assert "subject:  Hello" in summary
    assert "html:     17 bytes  <h1>Welcome!</h1>" in summary
    assert re.search(r"Idempotency-Key: +[0-9a-f-]{36}\n", summary)
    assert f"User-Agent:       poststack-python/{__version__}" in summary
    assert re.search(r"Request: POST /emails  \(request id req_\w+\)", summary)
    assert "local PostStack sandbox at http://127.0.0.1:" in summary


def test_send_sandbox_ignores_a_configured_key_and_never_prints_it() -> None:
    live = "sk_live_do_not_print_me"
    result = run([*README_ARGS, "--api-key", live], env=clean_env(POSTSTACK_API_KEY=live))
    assert result.returncode == 0, result.stderr
    assert live not in result.stdout + result.stderr
    assert "Authorization:    Bearer sk_test_…" in result.stdout


def test_send_sandbox_json(tmp_path: Path) -> None:
    report = tmp_path / "report.txt"
    report.write_text("numbers\n")
    result = run(
        [*README_ARGS, "--json", "--attach", str(report), "--idempotency-key", "k-1", "--tag", "t"]
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert EMAIL_ID.match(out["id"])
    sandbox = out["sandbox"]
    assert sandbox["base_url"].startswith("http://127.0.0.1:")
    email = sandbox["email"]
    assert email["id"] == out["id"]
    assert email["from"] == "hello@yourdomain.com"
    assert email["to"] == ["user@example.com"]
    assert email["tags"] == ["t"]
    assert email["attachments"] == [
        {"filename": "report.txt", "content_type": "text/plain", "size": 8}
    ]
    request = sandbox["request"]
    assert request["method"] == "POST"
    assert request["path"] == "/emails"
    assert request["headers"]["idempotency-key"] == "k-1"
    assert request["headers"]["authorization"] == "Bearer sk_test_…"
    assert request["json"]["subject"] == "Hello"


# -- emails get / list --


def test_emails_get(poststack_sandbox: Sandbox, poststack_client: PostStack) -> None:
    sb = poststack_sandbox
    email_id = poststack_client.emails.send({**MESSAGE, "cc": ["cc@example.com"], "tags": ["t"]})[
        "id"
    ]
    env = clean_env(POSTSTACK_API_KEY=sb.api_key, POSTSTACK_BASE_URL=sb.base_url)

    result = run(["emails", "get", email_id], env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert f"id:         {email_id}" in lines
    assert "status:     delivered" in lines
    assert "to:         user@example.com" in lines
    assert "cc:         cc@example.com" in lines
    assert "subject:    Hello" in lines
    assert lines[-4:-3] == ["events:"]
    assert [line.split()[-1] for line in lines[-3:]] == ["queued", "sent", "delivered"]

    as_json = run(["emails", "get", email_id, "--json"], env=env)
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout) == poststack_client.emails.get(email_id)


def test_emails_list(poststack_sandbox: Sandbox, poststack_client: PostStack) -> None:
    sb = poststack_sandbox
    first = poststack_client.emails.send(MESSAGE)["id"]
    second = poststack_client.emails.send({**MESSAGE, "to": ["other@example.com"]})["id"]

    result = run(["emails", "list", *connect(sb)])
    assert result.returncode == 0, result.stderr
    header, *rows, footer = result.stdout.splitlines()
    assert header.split() == ["ID", "STATUS", "CREATED", "TO", "SUBJECT"]
    assert [row.split()[0] for row in rows] == [second, first]  # newest first
    assert rows[0].split()[1] == "delivered"
    assert footer == "page 1 of 1 (2 emails in all)"

    paged = run(["emails", "list", *connect(sb), "--per-page", "1", "--page", "2"])
    assert paged.returncode == 0, paged.stderr
    assert paged.stdout.splitlines()[1].split()[0] == first
    assert paged.stdout.splitlines()[-1] == "page 2 of 2 (2 emails in all)"

    filtered = run(["emails", "list", *connect(sb), "--to", "other@example.com", "--json"])
    assert filtered.returncode == 0, filtered.stderr
    page = json.loads(filtered.stdout)
    assert [e["publicId"] for e in page["emails"]] == [second]
    assert sb.requests[-1].params == {"to": "other@example.com"}

    empty = run(["emails", "list", *connect(sb), "--status", "bounced"])
    assert empty.returncode == 0, empty.stderr
    assert empty.stdout == "no emails\n"


# -- webhooks verify --

SECRET = "whsec_test_secret"
EVENT = b'{"type":"email.delivered","data":{"id":"em_1"}}'


@pytest.fixture
def payload_file(tmp_path: Path) -> Path:
    path = tmp_path / "event.json"
    path.write_bytes(EVENT)
    return path


def test_webhooks_verify_from_a_file(payload_file: Path) -> None:
    good = sign(EVENT, SECRET)
    for signature in (
        good,
        f"X-PostStack-Signature: {good}",
        "sha256=00ff, sha256=" + good[7:].upper(),
    ):
        result = run(
            [
                "webhooks",
                "verify",
                "--secret",
                SECRET,
                "--signature",
                signature,
                "--payload-file",
                str(payload_file),
            ]
        )
        assert (result.returncode, result.stdout) == (0, "valid\n"), signature

    for secret, signature in ((SECRET, sign(EVENT + b" ", SECRET)), ("other", good)):
        result = run(
            [
                "webhooks",
                "verify",
                "--secret",
                secret,
                "--signature",
                signature,
                "--payload-file",
                str(payload_file),
            ]
        )
        assert (result.returncode, result.stdout) == (1, "invalid\n")


def test_webhooks_verify_from_stdin() -> None:
    env = clean_env(POSTSTACK_WEBHOOK_SECRET=SECRET)
    valid = run(["webhooks", "verify", "--signature", sign(EVENT, SECRET)], env=env, stdin=EVENT)
    assert (valid.returncode, valid.stdout) == (0, "valid\n")

    reformatted = json.dumps(json.loads(EVENT), indent=2).encode()
    invalid = run(
        ["webhooks", "verify", "--signature", sign(EVENT, SECRET)], env=env, stdin=reformatted
    )
    assert (invalid.returncode, invalid.stdout) == (1, "invalid\n")

    explicit = run(
        [
            "webhooks",
            "verify",
            "--secret",
            SECRET,
            "--signature",
            sign(EVENT, SECRET),
            "--payload-file",
            "-",
        ],
        stdin=EVENT,
    )
    assert (explicit.returncode, explicit.stdout) == (0, "valid\n")


def test_webhooks_verify_usage_errors(tmp_path: Path) -> None:
    no_secret = run(["webhooks", "verify", "--signature", "sha256=00"], stdin=EVENT)
    assert no_secret.returncode == 2
    assert "POSTSTACK_WEBHOOK_SECRET" in no_secret.stderr

    missing = run(
        [
            "webhooks",
            "verify",
            "--secret",
            SECRET,
            "--signature",
            "sha256=00",
            "--payload-file",
            str(tmp_path / "nope.json"),
        ]
    )
    assert missing.returncode == 2
    assert "cannot read payload file" in missing.stderr


# -- errors --


def test_api_error_prints_status_code_message_and_request_id(
    cli: list[str], poststack_sandbox: Sandbox
) -> None:
    sb = poststack_sandbox
    sb.faults.next(status=422, code="unprocessable_entity", error="Domain not verified")
    result = run(
        [
            "send",
            *connect(sb),
            "--from",
            "a@yourdomain.com",
            "--to",
            "b@example.com",
            "--subject",
            "S",
            "--text",
            "T",
        ],
        command=cli,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    (request,) = sb.requests
    assert result.stderr == (
        f"error: 422 unprocessable_entity: Domain not verified (request id {request.request_id})\n"
    )
    assert request.request_id.startswith("req_")


def test_wrong_key_and_unknown_email(poststack_sandbox: Sandbox) -> None:
    sb = poststack_sandbox
    wrong = run(["emails", "list", "--api-key", "sk_test_wrong", "--base-url", sb.base_url])
    assert wrong.returncode == 1
    assert re.fullmatch(
        r"error: 401 unauthorized: Invalid API key \(request id req_\w+\)\n", wrong.stderr
    )

    missing = run(["emails", "get", "em_missing", *connect(sb)])
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: 404 not_found: ")


def test_max_retries_flag_is_honoured(poststack_sandbox: Sandbox) -> None:
    sb = poststack_sandbox
    sb.faults.next(status=503, count=2)
    result = run(["emails", "list", *connect(sb), "--max-retries", "0"])
    assert result.returncode == 1
    assert result.stderr.startswith("error: 503 internal_error: ")
    assert len(sb.requests) == 1

    retried = run(["emails", "list", *connect(sb), "--max-retries", "1", "-v"])
    assert retried.returncode == 0, retried.stderr
    assert len(sb.requests) == 3
    sent, warning, resent, done = retried.stderr.splitlines()
    assert sent == "poststack: debug: emails.list: GET /emails (attempt 1)"
    assert resent == "poststack: debug: emails.list: GET /emails (attempt 2)"
    assert warning.startswith(
        "poststack: warning: emails.list: GET /emails failed (attempt 1): 503"
    )
    assert done.startswith("poststack: info: emails.list: GET /emails -> 200 in ")


@pytest.fixture
def refusing_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound, never listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_connection_refused_is_a_status_0_error(cli: list[str], refusing_port: int) -> None:
    base_url = f"http://127.0.0.1:{refusing_port}"
    args = ["emails", "list", "--api-key", "sk_test_x", "--base-url", base_url]
    result = run([*args, "--max-retries", "1"], command=cli)
    assert result.returncode == 1
    assert result.stdout == ""
    retry, error = result.stderr.splitlines()
    assert retry.startswith(
        "poststack: warning: emails.list: GET /emails failed (attempt 1): connect_error: "
    )
    assert "retrying in" in retry
    assert error.startswith(f"error: 0 connect_error: could not connect for GET {base_url}")
    assert error.endswith("(no HTTP response from the server)")

    quiet = run([*args, "--max-retries", "0", "-q"], command=cli)
    assert quiet.returncode == 1
    assert quiet.stderr.startswith("error: 0 connect_error: ")
    assert quiet.stderr.count("\n") == 1


def test_missing_api_key_exits_2(cli: list[str]) -> None:
    for env in (clean_env(), clean_env(POSTSTACK_API_KEY="")):
        result = run(["emails", "list"], command=cli, env=env)
        assert result.returncode == 2
        assert result.stdout == ""
        assert "no API key: pass --api-key or set POSTSTACK_API_KEY" in result.stderr


def test_bad_base_url_exits_2() -> None:
    result = run(["emails", "list", "--api-key", "k", "--base-url", "http://example.com"])
    assert result.returncode == 2
    assert "plain http://" in result.stderr


def test_usage() -> None:
    no_command = run([])
    assert no_command.returncode == 2
    assert "usage: poststack" in no_command.stderr

    version = run(["--version"])
    assert (version.returncode, version.stdout) == (0, f"poststack {__version__}\n")

    helped = run(["send", "--help"])
    assert helped.returncode == 0
    for flag in ("--attach", "--scheduled-at", "--idempotency-key", "--sandbox", "--json"):
        assert flag in helped.stdout


def _interruptible(args: Sequence[str]) -> list[str]:
    """Run the CLI with Python's own SIGINT handler even if this process ignores SIGINT.

    (A background job's SIGINT is ignored, and Python keeps that for its child.)
    """
    code = (
        "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "from poststack.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    return [sys.executable, "-c", code, *args]


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
def test_ctrl_c_exits_130_quietly(poststack_sandbox: Sandbox) -> None:
    sb = poststack_sandbox
    sb.faults.next(delay=WAIT)  # hold the request until the CLI is interrupted
    with subprocess.Popen(
        _interruptible(["emails", "list", *connect(sb)]),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=clean_env(),
        text=True,
    ) as proc:
        sb.wait_for_requests(1, timeout=WAIT)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=WAIT)
    assert proc.returncode == 130
    assert (out, err) == ("", "")


def test_import_poststack_does_not_load_the_cli_or_pytest() -> None:
    code = (
        "import sys, poststack, poststack.testing; "
        "print(sorted(m for m in sys.modules if m.startswith(('poststack.cli', 'pytest', "
        "'_pytest', 'argparse'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=WAIT, check=True
    )
    assert result.stdout == "[]\n"


# -- poststack sandbox --


class LineReader:
    """Lines of a child's stream, read on a thread; ``next`` waits with a deadline."""

    def __init__(self, stream: IO[str]) -> None:
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def next(self) -> str:
        line = self._lines.get(timeout=WAIT)
        assert line is not None, "the process closed its output"
        return line

    def rest(self) -> list[str]:
        self._thread.join(WAIT)
        lines: list[str] = []
        while (line := self._lines.get_nowait()) is not None:
            lines.append(line)
        return lines


def _start_sandbox(args: Sequence[str], command: Sequence[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*command, "sandbox", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=clean_env(),
        text=True,
        encoding="utf-8",
    )


def test_sandbox_command_serves_prints_emails_and_stops_on_sigterm(cli: list[str]) -> None:
    with _start_sandbox(["--api-key", "sk_test_cli", "--port", "0", "--step", "0"], cli) as proc:
        try:
            assert proc.stdout is not None
            out = LineReader(proc.stdout)
            first = out.next()
            match = re.fullmatch(r"PostStack sandbox running at (http://127\.0\.0\.1:\d+)", first)
            assert match, first
            base_url = match[1]
            assert out.next() == "API key: sk_test_cli"
            assert out.next() == (
                f"  export POSTSTACK_BASE_URL={base_url} POSTSTACK_API_KEY=sk_test_cli"
            )
            assert out.next() == f"Web inbox: {base_url}/"
            assert "Ctrl-C" in out.next()

            with PostStack(api_key="sk_test_cli", base_url=base_url, timeout=WAIT) as ps:
                sent = ps.emails.send({**MESSAGE, "html": "<b>hi</b>"})["id"]
                line = out.next()
                assert f"  {sent}  queued  hello@yourdomain.com -> user@example.com  " in line
                assert line.endswith("'Hello'  [html 9 B, text 3 B]")
                assert out.next().endswith(f"  {sent}  sent")
                assert out.next().endswith(f"  {sent}  delivered")
                # The same server answers reads: it is a real sandbox, not a log.
                assert ps.emails.get(sent)["email"]["publicId"] == sent

            proc.terminate()
            assert proc.wait(timeout=WAIT) == 0
            assert out.rest() == []
            assert proc.stderr is not None
            assert proc.stderr.read() == "sandbox stopped (1 email accepted)\n"
        finally:
            if proc.poll() is None:
                proc.kill()


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
def test_sandbox_command_json_lines_and_ctrl_c() -> None:
    proc = subprocess.Popen(
        _interruptible(["sandbox", "--json", "--port", "0"]),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=clean_env(),
        text=True,
        encoding="utf-8",
    )
    with proc:
        try:
            assert proc.stdout is not None
            out = LineReader(proc.stdout)
            started = json.loads(out.next())
            assert started["event"] == "started"
            assert started["api_key"] == "sk_test_sandbox"
            with PostStack(api_key="sk_test_sandbox", base_url=started["base_url"]) as ps:
                sent = ps.emails.send(MESSAGE)["id"]
            event = json.loads(out.next())
            assert event["event"] == "email"
            assert event["id"] == sent
            assert event["from"] == "hello@yourdomain.com"
            assert event["to"] == ["user@example.com"]
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=WAIT) == 0
            assert proc.stderr is not None
            assert "Traceback" not in proc.stderr.read()
        finally:
            if proc.poll() is None:
                proc.kill()


def test_sandbox_command_refuses_a_non_loopback_host() -> None:
    result = run(["sandbox", "--host", "0.0.0.0"])
    assert result.returncode == 2
    assert "loopback addresses only" in result.stderr


def test_sandbox_command_port_in_use() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run(["sandbox", "--port", str(port)])
    assert result.returncode == 1
    assert f"cannot start the sandbox on 127.0.0.1:{port}" in result.stderr

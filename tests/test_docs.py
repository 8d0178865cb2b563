"""Every Python block of README.md and docs/**/*.md runs, against a sandbox.

The convention, for every page you add or change:

1. A ```python block runs on its own, as a reader pastes it: in a fresh
   interpreter of the test run (every extra installed), in an empty working
   directory, with ``POSTSTACK_API_KEY`` and ``POSTSTACK_BASE_URL`` pointing
   at a :class:`poststack.testing.Sandbox` started for it. It must exit 0. So
   write blocks that take the key from the environment (``PostStack()``), not
   a literal ``api_key="sk_live_..."``.
2. A block that defines ``test_*`` functions is a test file: it runs under
   pytest (with poststack's plugin and its fixtures) and must pass.
3. ``<!-- continues -->`` on the line above a block: it runs after the block
   before it (and that one's own predecessors, if it continues too), in one
   interpreter and one namespace, as one program.
4. ``<!-- illustrative: why -->`` on the line above a block: it is not run,
   and the reason says why it cannot be (a real API key, a service the tests
   do not start). It is still type-checked (tests/typing/extract_readme.py).
5. A block whose first line is ``# name.py`` is also saved as ``name.py`` in
   the working directory, so the page's other blocks can import it.
6. Running is the minimum. To check what a block does, add a ``Check`` to
   ``CHECKS`` below, keyed by the page and a phrase only that block contains:
   code that runs after it in its namespace (call what it defined, assert),
   and functions of the sandbox that run before or after it in this process.
7. A page whose blocks need more than a sandbox (an app server, a worker
   pool) may be exercised by a test of its own instead: list it in
   ``TESTED_ELSEWHERE`` with that test; this module checks that the test
   reads the page.
8. A block that fails only because the sandbox does not answer some of its
   endpoints yet is listed in ``SANDBOX_GAPS`` with those requests: it is a
   strict xfail while a fresh sandbox answers any of them "No route", and an
   ordinary test once it answers them all (then delete the entry).

Markers are HTML comments on the nearest non-blank line above the opening
fence; tests/docs_snippets.py parses them.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from poststack.testing import Sandbox
from tests.docs_snippets import ROOT, Snippet, all_snippets, program, snippets
from tests.installs import user_env


@dataclass(frozen=True)
class Check:
    """What to verify about one block beyond that it runs."""

    after_code: str = ""  # Python run after the block, in its namespace
    before: Callable[[Sandbox], None] | None = None  # arm the sandbox first
    after: Callable[[Sandbox, str], None] | None = None  # (sandbox, the program's stdout)
    env: dict[str, str] = field(default_factory=dict)


def _one_email(subject: str) -> Callable[[Sandbox, str], None]:
    def check(sb: Sandbox, stdout: str) -> None:
        assert [e.subject for e in sb.outbox] == [subject]

    return check


def _outbox_of(count: int) -> Callable[[Sandbox, str], None]:
    def check(sb: Sandbox, stdout: str) -> None:
        assert len(sb.outbox) == count
        assert len({email.to for email in sb.outbox}) == count  # each once

    return check


def _printed_the_id(sb: Sandbox, stdout: str) -> None:
    (email,) = sb.outbox
    assert stdout.strip() == email.id


def _rejected(sb: Sandbox, stdout: str) -> None:
    assert stdout.startswith("rejected: Invalid email address in 'from' request "), stdout
    assert sb.outbox == []


def _reject_the_next_send(sb: Sandbox) -> None:
    sb.faults.next(status=422, error="Invalid email address in 'from'", path="/emails")


WEBHOOK_CHECK = """
import json
from poststack.webhooks import SIGNATURE_HEADER, sign

body = json.dumps({"type": "email.delivered", "data": {"email_id": "em_1"}}).encode()
good = {SIGNATURE_HEADER: sign(body, "whsec_docs")}
assert handle(body, good, "whsec_docs") == 200
assert handle(body + b" ", good, "whsec_docs") == 401
assert handle(body, {}, "whsec_docs") == 401
"""

CUSTOM_TRANSPORT_CHECK = """
from poststack import PostStack

transport = HttpClientTransport()
with PostStack(transport=transport) as ps:
    result = ps.emails.send(
        {"from": "hello@acme.dev", "to": ["ana@example.com"], "subject": "Hi", "text": "Hello"}
    )
transport.close()
assert result["id"].startswith("em_")
"""


def _printed(*lines: str) -> Callable[[Sandbox, str], None]:
    """The program printed lines that match these patterns (re.fullmatch), in this order."""

    def check(sb: Sandbox, stdout: str) -> None:
        printed = stdout.splitlines()
        assert len(printed) == len(lines), stdout
        for pattern, line in zip(lines, printed, strict=True):
            assert re.fullmatch(pattern, line), (pattern, line)

    return check


def _spans_printed(sb: Sandbox, stdout: str) -> None:
    # ConsoleSpanExporter writes one JSON object per span, as each ends.
    decoder, spans, at = json.JSONDecoder(), [], 0
    while at < len(stdout.rstrip()):
        span, at = decoder.raw_decode(stdout, at)
        spans.append(span)
        at += len(stdout[at:]) - len(stdout[at:].lstrip())
    attempt, call, signup = spans
    assert [s["name"] for s in spans] == ["POST", "emails.send", "signup"]
    assert attempt["parent_id"] == call["context"]["span_id"]
    assert call["parent_id"] == signup["context"]["span_id"]
    assert attempt["attributes"]["http.response.status_code"] == 202
    assert sb.api_key not in stdout


def _json_lines(sb: Sandbox, stdout: str) -> None:
    (line,) = stdout.splitlines()
    record = json.loads(line)
    assert (record["level"], record["operation"], record["status"]) == ("INFO", "domains.list", 200)
    assert record["message"].startswith("domains.list: GET /domains -> 200 in ")


# (page, a phrase only that block contains) -> what to check.
CHECKS: dict[tuple[str, str], Check] = {
    ("docs/observability.md", "def on_retry("): Check(
        after=_printed(r"emails\.send -> 202 in \d+\.\d{3} s")
    ),
    ("docs/observability.md", "traced = ps.with_options("): Check(
        after=_printed(r"request id: \S+")
    ),
    ("docs/observability.md", "async def publish("): Check(after=_printed(r"emails\.send 202 \S+")),
    ("docs/observability.md", "raw = ps.with_raw_response"): Check(
        after=_printed(r"em_\w+ 202 \S+ 0", r"rate limit: None None None")
    ),
    ("docs/observability.md", "ConsoleSpanExporter"): Check(after=_spans_printed),
    ("docs/observability.md", "class JsonLines("): Check(after=_json_lines),
    ("README.md", "ps = PostStack()  # the key from"): Check(after=_printed_the_id),
    ("README.md", "async def main()"): Check(after=_printed_the_id),
    ("README.md", "except PostStackConnectionError as e:"): Check(
        before=_reject_the_next_send, after=_rejected
    ),
    ("README.md", "def handle(body: bytes"): Check(after_code=WEBHOOK_CHECK),
    ("docs/custom-transport.md", "class HttpClientTransport"): Check(
        after_code=CUSTOM_TRANSPORT_CHECK, after=_one_email("Hi")
    ),
    ("docs/bulk.md", "June news for {s['name']}"): Check(after=_outbox_of(10_000)),
    ("docs/bulk.md", "def stop_at_2000"): Check(after=_outbox_of(5_000)),
    ("docs/bulk.md", "newsletter-2026-07"): Check(after=_outbox_of(300)),
    ("docs/bulk.md", "newsletter-2026-06-queue"): Check(after=_outbox_of(250)),
}

# Pages whose blocks a test of their own runs against a sandbox: page -> that test.
TESTED_ELSEWHERE: dict[str, str] = {
    "docs/arq.md": "tests/contrib/test_arq.py::test_docs",  # a worker and Redis
    "docs/celery.md": "tests/contrib/test_celery.py::test_docs",  # a worker and Redis
    "docs/dramatiq.md": "tests/contrib/test_dramatiq.py::test_docs",  # a worker and Redis
    "docs/django.md": "tests/contrib/test_django.py::test_docs",  # Django's settings
    "docs/fastapi.md": "tests/contrib/test_fastapi.py::test_docs",  # an ASGI server
    "docs/flask.md": "tests/contrib/test_flask.py::test_docs",  # the app's test client
    "docs/rq.md": "tests/contrib/test_rq.py::test_docs",  # a worker and Redis
}

# (page, phrase) -> requests the block makes that the sandbox may not answer yet.
SANDBOX_GAPS: dict[tuple[str, str], list[tuple[str, str]]] = {
    ("README.md", "ps.contacts.create("): [
        ("POST", "/contacts"),
        ("GET", "/contacts/export"),
        ("POST", "/webhooks/1/rotate-secret"),
    ],
}


def _unanswered(routes: list[tuple[str, str]]) -> list[str]:
    """The routes this sandbox has no handler for: it answers them "No route for ..."."""
    import httpx

    with Sandbox() as sandbox, httpx.Client(base_url=sandbox.base_url) as http:
        headers = {"Authorization": f"Bearer {sandbox.api_key}"}
        return [
            f"{method} {path}"
            for method, path in routes
            if "No route for" in http.request(method, path, json={}, headers=headers).text
        ]


RUNNER = """
import json, sys

steps = json.load(open(sys.argv[1], encoding="utf-8"))
namespace = {"__name__": "__main__"}
for step in steps:
    # Padded so that a traceback names the page's own line.
    code = "\\n" * (step["line"] - 1) + step["code"]
    exec(compile(code, step["file"], "exec"), namespace)
"""


def _matches(snippet: Snippet, key: tuple[str, str]) -> bool:
    return snippet.page == key[0] and key[1] in snippet.code


def _check_for(snippet: Snippet) -> Check:
    found = [check for key, check in CHECKS.items() if _matches(snippet, key)]
    return found[0] if found else Check()


def _gap_marks(snippet: Snippet) -> list[pytest.MarkDecorator]:
    """A strict xfail while (and only while) the sandbox lacks a route the block needs."""
    marks = []
    for key, routes in SANDBOX_GAPS.items():
        if _matches(snippet, key) and (missing := _unanswered(routes)):
            reason = f"the sandbox does not answer {', '.join(missing)} yet (issue 12)"
            marks.append(pytest.mark.xfail(reason=reason, strict=True))
    return marks


SNIPPETS = all_snippets()
RUN = [
    pytest.param(s, id=s.id, marks=_gap_marks(s))
    for s in SNIPPETS
    if s.marker != "illustrative" and s.page not in TESTED_ELSEWHERE
]


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


def _save_files(page: str, folder: Path) -> None:
    """``# name.py`` blocks of the page become files the other blocks can import."""
    for s in snippets(ROOT / page):
        if s.filename:
            (folder / s.filename).write_text(s.code, encoding="utf-8")


def _run(args: list[str], sb: Sandbox, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=user_env(POSTSTACK_API_KEY=sb.api_key, POSTSTACK_BASE_URL=sb.base_url, **env),
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return done.stdout


@pytest.mark.parametrize("snippet", RUN)
def test_block_runs(snippet: Snippet, sb: Sandbox, tmp_path: Path) -> None:
    page = snippets(ROOT / snippet.page)
    chain = program(page, snippet)
    check = _check_for(snippet)
    _save_files(snippet.page, tmp_path)
    if check.before:
        check.before(sb)
    if any("def test_" in s.code for s in chain):
        # A test file: pytest with the installed plugin, outside this repository's config.
        test_file = tmp_path / "test_snippet.py"
        test_file.write_text("\n".join(s.code for s in chain), encoding="utf-8")
        pytest_args = ["-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path)]
        stdout = _run(["-m", "pytest", *pytest_args, str(test_file)], sb, tmp_path, check.env)
        assert " passed" in stdout.splitlines()[-1], stdout
    else:
        steps = [{"file": str(ROOT / s.page), "line": s.line, "code": s.code} for s in chain]
        if check.after_code:
            steps.append({"file": f"<check of {snippet.id}>", "line": 1, "code": check.after_code})
        (tmp_path / "steps.json").write_text(json.dumps(steps), encoding="utf-8")
        stdout = _run(["-c", RUNNER, str(tmp_path / "steps.json")], sb, tmp_path, check.env)
    if check.after:
        check.after(sb, stdout)


def test_every_python_block_is_run_here_or_elsewhere_or_says_why_not() -> None:
    assert SNIPPETS, "no Python blocks found"
    for s in SNIPPETS:
        if s.marker == "illustrative":
            assert len(s.reason.split()) >= 3, f"{s.id}: say why the block cannot run"
    run_here = {s.id for s in SNIPPETS if s.marker != "illustrative"} - {
        s.id for s in SNIPPETS if s.page in TESTED_ELSEWHERE
    }
    assert run_here == {param.values[0].id for param in RUN}  # type: ignore[union-attr]


def test_every_check_and_gap_names_one_block() -> None:
    for key in [*CHECKS, *SANDBOX_GAPS]:
        matched = [s.id for s in SNIPPETS if _matches(s, key)]
        assert len(matched) == 1, f"{key} should name exactly one block, not {matched}"


def test_pages_tested_elsewhere_are_read_by_their_test() -> None:
    for page, test in TESTED_ELSEWHERE.items():
        path, name = test.split("::")
        source = (ROOT / path).read_text(encoding="utf-8")
        assert f"def {name}(" in source, test
        assert f'doc_blocks("{Path(page).stem}")' in source, f"{test} does not read {page}"
        assert snippets(ROOT / page), f"{page} has no Python blocks"


def test_the_markers_parse(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    page = tmp_path / "docs" / "page.md"
    page.write_text(
        "# Page\n\n```python\nx = 1\n```\n\n<!-- continues -->\n\n```python\nassert x == 1\n```\n"
        "\n<!-- illustrative: needs a live API key -->\n```py\n# app.py\nsend()\n```\n",
        encoding="utf-8",
    )
    first, second, third = snippets(page, tmp_path)
    assert [s.marker for s in (first, second, third)] == [None, "continues", "illustrative"]
    assert (first.line, first.code, first.index) == (4, "x = 1\n", 1)
    assert program([first, second, third], second) == [first, second]
    assert third.reason == "needs a live API key"
    assert third.filename == "app.py"
    assert second.id == "docs/page.md:9"
    page.write_text("<!-- continue -->\n```python\nx = 1\n```\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown snippet marker"):
        snippets(page, tmp_path)
    page.write_text("```python\nx = 1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="never closed"):
        snippets(page, tmp_path)
    page.write_text("<!-- continues -->\n```python\nx = 1\n```\n", encoding="utf-8")
    (only,) = snippets(page, tmp_path)
    with pytest.raises(ValueError, match="no block comes before it"):
        program([only], only)

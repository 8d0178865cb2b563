"""The ``poststack`` logger behaves like a library's: silent by default, structured, opt-in.

What reaches stderr is checked in fresh interpreters (nothing at all by
default, even for retries and failing hooks; a handler with ``POSTSTACK_LOG``),
the records themselves with pytest's ``caplog``. A real HTTP server on a
loopback port answers.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from poststack import PostStack, PostStackError
from tests.faultserver import FaultServer, Reply, Reset
from tests.installs import user_env

EMAIL: Any = {"from": "a@example.com", "to": ["b@example.com"], "subject": "s", "text": "t"}


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as fault_server:
        yield fault_server


# A program that retries (a 503, a reset), then fails (a 422), with a hook that raises.
PROGRAM = """
import sys
from poststack import PostStack, PostStackError

def broken(record):
    raise RuntimeError("a broken hook")

with PostStack("sk_test_log", sys.argv[1], event_hooks={"response": [broken]}) as ps:
    assert ps.emails.send({"from": "a@b.c", "to": ["d@e.f"]}) == {"id": "em_1"}
    try:
        ps.emails.get("em_2")
    except PostStackError as error:
        print("raised", error.code)
"""


def _run(server: FaultServer, **env: str) -> subprocess.CompletedProcess[str]:
    server.script(
        Reply(503, {"error": "busy"}, {"Retry-After": "0"}),
        Reset(),
        Reply(202, {"id": "em_1"}),
        Reply(422, {"error": "bad", "code": "validation_error"}),
    )
    return subprocess.run(
        [sys.executable, "-c", PROGRAM, server.url],
        capture_output=True,
        text=True,
        env=user_env(**env),
        timeout=120,
        check=True,
    )


def test_nothing_reaches_stderr_by_default(server: FaultServer) -> None:
    done = _run(server)
    assert done.stdout == "raised validation_error\n"
    assert done.stderr == ""  # no retry warning, no hook traceback: a NullHandler holds them


def test_poststack_log_info_shows_each_answer_and_retry(server: FaultServer) -> None:
    done = _run(server, POSTSTACK_LOG="info")
    lines = done.stderr.splitlines()
    kinds = [line.split(" ", 4)[3] for line in lines if " poststack " in line]
    # Each attempt's line, then the broken hook's (the hooks run once it is logged).
    assert kinds == ["WARNING", "ERROR", "WARNING", "INFO", "ERROR", "INFO", "ERROR"]
    assert "emails.send: POST /emails failed (attempt 1): 503: busy (request req_1)" in lines[0]
    assert "emails.send: POST /emails -> 202 in " in done.stderr
    assert "emails.get: GET /emails/em_2 failed (attempt 1): 422 validation_error" in done.stderr
    assert "RuntimeError: a broken hook" in done.stderr  # the traceback of the hook
    assert "DEBUG" not in done.stderr
    assert "sk_test_log" not in done.stderr


def test_poststack_log_debug_also_shows_each_request(server: FaultServer) -> None:
    done = _run(server, POSTSTACK_LOG="DEBUG")
    sending = [line for line in done.stderr.splitlines() if " DEBUG " in line]
    assert [line.split(" DEBUG ", 1)[1] for line in sending] == [
        "emails.send: POST /emails (attempt 1)",
        "emails.send: POST /emails (attempt 2)",
        "emails.send: POST /emails (attempt 3)",
        "emails.get: GET /emails/em_2 (attempt 1)",
    ]


def test_an_unknown_poststack_log_value_is_named_and_ignored(server: FaultServer) -> None:
    done = _run(server, POSTSTACK_LOG="verbose")
    assert "POSTSTACK_LOG='verbose' is not one of debug, info: it is ignored" in done.stderr
    assert " poststack " not in done.stderr


def test_the_null_handler_is_added_once() -> None:
    import importlib

    import poststack._logging

    importlib.reload(poststack._logging)
    handlers = logging.getLogger("poststack").handlers
    assert sum(isinstance(handler, logging.NullHandler) for handler in handlers) == 1


# -- the records ---------------------------------------------------------------------------


def test_records_carry_the_attempt_in_extra(
    server: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="poststack")
    server.script(Reply(503, {"error": "x"}, {"Retry-After": "0.01"}), Reply(202, {"id": "em_1"}))
    with PostStack("sk_test_x", server.url) as ps:
        ps.emails.send(EMAIL)
    records = [r for r in caplog.records if r.name == "poststack"]
    assert [r.levelname for r in records] == ["DEBUG", "WARNING", "DEBUG", "INFO"]
    fields = ("operation", "attempt", "status", "request_id", "wait", "error_code")
    assert [tuple(getattr(r, name) for name in fields) for r in records] == [
        ("emails.send", 1, None, None, None, None),
        ("emails.send", 1, 503, "req_1", 0.01, None),
        ("emails.send", 2, None, None, None, None),
        ("emails.send", 2, 202, "req_2", None, None),
    ]
    key = server.requests[0].headers["idempotency-key"]
    for record in records:
        assert (record.method, record.path, record.idempotency_key) == ("POST", "/emails", key)  # type: ignore[attr-defined]
    retry, done = records[1], records[3]
    assert retry.getMessage() == (
        "emails.send: POST /emails failed (attempt 1): 503: x (request req_1); retrying in 0.010 s"
    )
    assert retry.elapsed > 0  # type: ignore[attr-defined]
    assert done.getMessage().startswith("emails.send: POST /emails -> 202 in ")
    assert done.getMessage().endswith(" s (attempt 2, request req_2)")


def test_the_failure_that_ends_a_call_is_info_with_its_code(
    server: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="poststack")
    server.script(Reply(401, {"error": "bad key", "code": "unauthorized"}))
    with PostStack("sk_test_x", server.url) as ps, pytest.raises(PostStackError):
        ps.domains.list()
    (record,) = [r for r in caplog.records if r.name == "poststack"]
    assert record.levelname == "INFO"  # raised to the caller, who decides what it means
    assert record.getMessage() == (
        "domains.list: GET /domains failed (attempt 1): 401 unauthorized: bad key (request req_1)"
    )
    assert (record.status, record.error_code) == (401, "unauthorized")  # type: ignore[attr-defined]


def test_nothing_is_built_for_logs_nobody_reads(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from poststack_core import Call

    built: list[int] = []
    record = Call.record

    def counting(self: Call[Any]) -> Any:
        built.append(1)
        return record(self)

    monkeypatch.setattr(Call, "record", counting)
    logging.getLogger("poststack").setLevel(logging.WARNING)
    try:
        with PostStack("sk_test_x", server.url) as ps:
            ps.emails.get("em_1")
        assert built == []  # no hooks, no tracer, nothing logged: no record
        server.script(Reply(503, headers={"Retry-After": "0"}))
        with PostStack("sk_test_x", server.url) as ps:
            ps.emails.get("em_1")
        assert built == [1]  # the retry's warning
    finally:
        logging.getLogger("poststack").setLevel(logging.NOTSET)

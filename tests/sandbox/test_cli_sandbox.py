"""``poststack sandbox`` as a user runs it: a child process, its flags, its state on disk."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from poststack import PostStack, PostStackError
from poststack.testing import Sandbox, SandboxInbox

from .helpers import SandboxProcess

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX signals")

EMAIL = {"from": "hello@example.com", "to": ["ada@example.org"], "subject": "Hi", "text": "Hi"}


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTSTACK_")}
    return subprocess.run(
        [sys.executable, "-m", "poststack", "sandbox", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_a_real_clock_plays_the_steps_out_in_order() -> None:
    child = SandboxProcess("--step", "0.05")
    try:
        assert child.started["clock"] == "real"
        assert child.started["inbox_url"] == child.base_url + "/"
        with PostStack(api_key="sk_test_sandbox", base_url=child.base_url) as ps:
            email_id = ps.emails.send({**EMAIL, "to": ["delayed@example.org"]})["id"]
        arrived = child.next_of("email")
        assert (arrived["id"], arrived["status"]) == (email_id, "queued")
        steps = [child.next_of("step")["type"] for _ in range(2)]
        assert steps == ["sent", "deferred"]  # a deferral retries a minute later
        assert httpx.get(child.base_url + "/").status_code == 200
    finally:
        status, error = child.stop()
    assert status == 0
    assert error == "sandbox stopped (1 email accepted)\n"


def test_db_keeps_the_inbox_through_a_crash(tmp_path: Path) -> None:
    db = tmp_path / "dev.db"
    child = SandboxProcess("--db", str(db), "--step", "0")
    with PostStack(api_key="sk_test_sandbox", base_url=child.base_url) as ps:
        email_id = ps.emails.send(EMAIL)["id"]
        contact = ps.contacts.create({"email": "ada@example.org"})["contact"]["publicId"]
    child.kill()  # no clean shutdown: what was answered must be on disk already
    # A reader sees it, as another process may at any time (WAL).
    with closing(sqlite3.connect(db)) as reader:
        kinds = dict(reader.execute("SELECT kind, COUNT(*) FROM records GROUP BY kind").fetchall())
        assert reader.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert kinds["email"] == 1
    assert kinds["contact"] == 1
    again = SandboxProcess("--db", str(db))
    try:
        with PostStack(api_key="sk_test_sandbox", base_url=again.base_url) as ps:
            assert ps.emails.get(email_id)["email"]["status"] == "delivered"
            assert ps.contacts.get(contact)["contact"]["email"] == "ada@example.org"
        with SandboxInbox(again.base_url) as inbox:
            assert inbox.latest()["id"] == email_id
    finally:
        assert again.stop()[0] == 0


def test_a_second_sandbox_on_the_same_db_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "dev.db"
    first = SandboxProcess("--db", str(db))
    try:
        refused = run_cli("--port", "0", "--db", str(db))
        assert refused.returncode == 1
        assert f"in use by another sandbox (pid {first.proc.pid})" in refused.stderr
        with pytest.raises(RuntimeError, match="in use by another sandbox"):
            Sandbox(db=db)
    finally:
        first.stop()
    with Sandbox(db=db):  # free again once the first one stopped
        pass


def test_rate_limit_and_quota_flags() -> None:
    child = SandboxProcess("--rate-limit", "2", "--monthly-quota", "1", "--clock", "frozen")
    try:
        with PostStack(api_key="sk_test_sandbox", base_url=child.base_url, max_retries=0) as ps:
            ps.emails.send(EMAIL)
            with pytest.raises(PostStackError) as quota:
                ps.emails.send(EMAIL)
            assert quota.value.code == "monthly_limit_exceeded"
            with pytest.raises(PostStackError) as limited:
                ps.emails.list()
            assert limited.value.code == "rate_limit_exceeded"
        with SandboxInbox(child.base_url) as inbox:
            assert inbox.clock()["frozen"] is True
    finally:
        child.stop()


def test_all_interfaces_only_with_allow_remote() -> None:
    refused = run_cli("--host", "0.0.0.0", "--port", "0")
    assert refused.returncode == 2
    assert "loopback addresses only" in refused.stderr
    assert "--allow-remote" in refused.stderr
    child = SandboxProcess("--host", "0.0.0.0", "--allow-remote", "sandbox,mail.test")
    try:
        port = child.base_url.rsplit(":", 1)[1]
        # The test reaches it through loopback, naming the allowed host.
        ok = httpx.get(f"{child.base_url}/_sandbox/clock", headers={"Host": f"sandbox:{port}"})
        assert ok.status_code == 200
        other = httpx.get(f"{child.base_url}/_sandbox/clock", headers={"Host": f"evil:{port}"})
        assert other.status_code == 403
    finally:
        child.stop()


def test_bad_flags_exit_2() -> None:
    for args in (
        ["--rate-limit", "0"],
        ["--step", "-1"],
        ["--allow-remote", ","],
        ["--clock", "x"],
    ):
        assert run_cli("--port", "0", *args).returncode == 2, args

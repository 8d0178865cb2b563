"""``Sandbox(db=...)``: what survives a restart, the schema's version, one sandbox per file."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from poststack import PostStack
from poststack.testing import DatabaseInUseError, Sandbox
from poststack.testing._persistence import SCHEMA_VERSION

START = datetime(2030, 6, 1, 12, 0, tzinfo=timezone.utc)
EMAIL = {"from": "hello@example.com", "to": ["ada@example.org"], "subject": "Hi", "text": "Hi"}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "state" / "sandbox.db"  # a missing folder is created


def test_a_frozen_clock_stands_where_it_stood(db: Path) -> None:
    with Sandbox(db=db, start_time=START) as sb:
        sb.advance(90)
    with Sandbox(db=db) as sb:
        assert sb.clock.now() == START + timedelta(seconds=90)


def test_what_fell_due_while_stopped_runs_at_start(db: Path) -> None:
    with (
        Sandbox(db=db, start_time=START) as sb,
        PostStack(api_key=sb.api_key, base_url=sb.base_url) as ps,
    ):
        email_id = ps.emails.send({**EMAIL, "scheduled_at": "2030-06-01T12:01:00Z"})["id"]
    later = START + timedelta(minutes=5)
    with Sandbox(db=db, start_time=later) as sb:
        email = sb.email(email_id)
        assert email.status == "delivered"
        assert [e.at for e in email.events][1] == "2030-06-01T12:01:00.000Z"


def test_ids_continue_and_are_never_reused(db: Path) -> None:
    with Sandbox(db=db) as sb, PostStack(api_key=sb.api_key, base_url=sb.base_url) as ps:
        first = ps.domains.create({"name": "a.example.com"})["domain"]["id"]
        ps.domains.delete(first)
    with Sandbox(db=db) as sb, PostStack(api_key=sb.api_key, base_url=sb.base_url) as ps:
        second = ps.domains.create({"name": "b.example.com"})["domain"]["id"]
    assert second == first + 1
    assert [d["name"] for d in _domains(db)] == ["example.com", "b.example.com"]


def _domains(db: Path) -> list[dict[str, str]]:
    with Sandbox(db=db) as sb, PostStack(api_key=sb.api_key, base_url=sb.base_url) as ps:
        return [{"name": d["name"]} for d in ps.domains.list()["domains"]]


def test_an_idempotent_replay_works_across_a_restart(db: Path) -> None:
    with Sandbox(db=db) as sb, PostStack(api_key=sb.api_key, base_url=sb.base_url) as ps:
        first = ps.emails.send(EMAIL, idempotency_key="order-1")["id"]
    with Sandbox(db=db) as sb, PostStack(api_key=sb.api_key, base_url=sb.base_url) as ps:
        assert ps.emails.send(EMAIL, idempotency_key="order-1")["id"] == first
        assert len(sb.outbox) == 1


def test_a_cleared_inbox_stays_cleared_and_resources_stay(db: Path) -> None:
    with Sandbox(db=db) as sb, PostStack(api_key=sb.api_key, base_url=sb.base_url) as ps:
        ps.emails.send(EMAIL)
        ps.templates.create({"name": "kept", "text": "x"})
        httpx.delete(
            f"{sb.base_url}/_sandbox/messages", headers={"Content-Type": "application/json"}
        )
        ps.emails.send({**EMAIL, "subject": "after the clear"})
    with Sandbox(db=db) as sb, PostStack(api_key=sb.api_key, base_url=sb.base_url) as ps:
        assert [e.subject for e in sb.outbox] == ["after the clear"]
        assert [t["name"] for t in ps.templates.list()["templates"]] == ["kept"]


def test_the_inbox_views_survive_a_restart(db: Path) -> None:
    with Sandbox(db=db) as sb, PostStack(api_key=sb.api_key, base_url=sb.base_url) as ps:
        email_id = ps.emails.send(EMAIL, idempotency_key="k-9")["id"]
        before = httpx.get(f"{sb.base_url}/_sandbox/messages/{email_id}").json()
    with Sandbox(db=db) as sb:
        after = httpx.get(f"{sb.base_url}/_sandbox/messages/{email_id}").json()
    assert after == before
    assert after["request"]["idempotency_key"] == "k-9"


def test_the_schema_is_versioned(db: Path) -> None:
    with Sandbox(db=db):
        pass
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(ValueError, match="newer sandbox"):
        Sandbox(db=db)
    assert not _locked(db)  # refusing released the lock file


def _locked(db: Path) -> bool:
    try:
        Sandbox(db=db, verified_domains=()).stop()
    except DatabaseInUseError:
        return True
    except ValueError:
        return False
    return False


def test_a_file_that_is_not_a_sandbox_database_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite, not at all" * 100)
    with pytest.raises(ValueError, match=r"cannot use .* as a sandbox database"):
        Sandbox(db=junk)
    with pytest.raises(ValueError, match="directory"):
        Sandbox(db=tmp_path)


def test_one_sandbox_per_file_in_one_process_too(db: Path) -> None:
    first = Sandbox(db=db)
    try:
        with pytest.raises(DatabaseInUseError, match="pid"):
            Sandbox(db=db)
    finally:
        first.stop()
    Sandbox(db=db).stop()


def test_every_request_is_committed_before_it_is_answered(db: Path) -> None:
    with Sandbox(db=db) as sb, PostStack(api_key=sb.api_key, base_url=sb.base_url) as ps:
        ps.contacts.create({"email": "ada@example.org"})
        # Another connection, while the sandbox runs, sees the answered request.
        with closing(sqlite3.connect(db)) as reader:
            (count,) = reader.execute(
                "SELECT COUNT(*) FROM records WHERE kind = 'contact'"
            ).fetchone()
        assert count == 1

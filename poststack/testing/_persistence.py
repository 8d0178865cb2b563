"""``Sandbox(db=PATH)``: every resource, email, event and delivery kept in SQLite.

Theory of operation
-------------------
The store keeps its state in memory and hands each request's changes to
:meth:`Database.write`, which applies them in one transaction: a crash loses
at most the request in flight, never half of one. Opening the file loads
everything back, in creation order.

The file is SQLite (stdlib ``sqlite3``) in WAL mode with ``synchronous=FULL``:
a committed request survives a crash of the process or of the machine. Its
layout is versioned with ``PRAGMA user_version``; a file written by a newer
sandbox is refused rather than misread, and older layouts are upgraded in
place by the steps in ``_MIGRATIONS``.

Two rows tables hold it all: ``records`` (kind, key, creation order, a JSON
body) and ``meta`` (id counters, the clock). A record's JSON is the plain form
of its value: an :class:`~._store.Entity`'s ``data``/``private``/``aliases``,
a :class:`~._models.SandboxEmail`'s fields, and so on.

One sandbox at a time: the sandbox that opens a file holds an exclusive lock
on ``PATH.lock`` until it stops, and a second sandbox on the same file is
refused with an error naming the holder's pid. Other processes may read the
file at any time (``sqlite3 PATH``, a script): WAL lets them see every
committed request without blocking the sandbox. Writing to it from outside
while a sandbox runs is not supported: the sandbox does not re-read the file
and would overwrite such changes.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import sqlite3
import sys
from collections.abc import Generator, Iterator, Mapping
from dataclasses import asdict, fields
from pathlib import Path
from typing import IO, Any

from ._models import EmailEvent, SandboxEmail, WebhookDelivery
from ._store import DELIVERY, EMAIL, IDEMPOTENCY, Entity, IdempotencyRecord

__all__ = ["SCHEMA_VERSION", "Database", "DatabaseInUseError"]

SCHEMA_VERSION = 1

# One statement each: executescript() would commit the transaction they run in.
_SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE records ("
    " kind TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL,"
    " PRIMARY KEY (kind, key))",
    "CREATE INDEX records_by_kind ON records (kind, seq)",
    "CREATE INDEX records_by_seq ON records (seq)",
)

# Upgrades from older layouts: version -> the statements that bring it to version + 1.
_MIGRATIONS: dict[int, tuple[str, ...]] = {}


class DatabaseInUseError(RuntimeError):
    """Another sandbox process holds this database file."""


# --- values <-> JSON --------------------------------------------------------------------

_EMAIL_TUPLES = tuple(
    f.name for f in fields(SandboxEmail) if str(f.type).startswith("tuple") and f.name != "events"
)


def _email_to_json(email: SandboxEmail) -> dict[str, Any]:
    return asdict(email)


def _email_from_json(data: dict[str, Any]) -> SandboxEmail:
    values = dict(data)
    for name in _EMAIL_TUPLES:
        values[name] = tuple(values.get(name) or ())
    values["events"] = tuple(EmailEvent(**event) for event in values.get("events") or ())
    return SandboxEmail(**values)


def _delivery_to_json(delivery: WebhookDelivery) -> dict[str, Any]:
    data = asdict(delivery)
    data["body"] = delivery.body.decode("utf-8")  # always JSON text we built
    return data


def _delivery_from_json(data: dict[str, Any]) -> WebhookDelivery:
    values = dict(data)
    values["body"] = str(values["body"]).encode("utf-8")
    return WebhookDelivery(**values)


def _encode(kind: str, value: object) -> str:
    if isinstance(value, Entity):
        plain: object = {"data": value.data, "private": value.private, "aliases": value.aliases}
    elif isinstance(value, SandboxEmail):
        plain = _email_to_json(value)
    elif isinstance(value, WebhookDelivery):
        plain = _delivery_to_json(value)
    elif isinstance(value, IdempotencyRecord):
        plain = {
            "fingerprint": value.fingerprint,
            "status": value.status,
            "body": base64.b64encode(value.body).decode("ascii"),
            "created_at": value.created_at,
        }
    else:  # pragma: no cover - a programming error, not an input
        raise TypeError(f"cannot store a {type(value).__name__} as {kind}")
    return json.dumps(plain, separators=(",", ":"), ensure_ascii=False)


# --- the lock file ----------------------------------------------------------------------


def _lock_exclusively(handle: IO[str]) -> bool:
    """Take a non-blocking exclusive lock on an open file; False if someone holds it."""
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


class Database:
    """One open sandbox database: loads it, applies each commit, holds the lock file."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path: Path = Path(path)
        if self.path.is_dir():
            raise ValueError(f"db must be a file path, not a directory: {self.path}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        self._lock_file: IO[str] | None = open(lock_path, "a+", encoding="utf-8")  # noqa: SIM115
        if not _lock_exclusively(self._lock_file):
            self._lock_file.seek(0)
            holder = self._lock_file.read().strip() or "unknown"
            self._lock_file.close()
            self._lock_file = None
            raise DatabaseInUseError(
                f"{self.path} is in use by another sandbox (pid {holder}); "
                "stop it first, or give this one its own --db file"
            )
        self._lock_file.seek(0)
        self._lock_file.truncate()
        self._lock_file.write(str(os.getpid()))
        self._lock_file.flush()
        # Every use is under the store's lock, from whichever thread handles the request.
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._prepare_schema()
        except sqlite3.DatabaseError as exc:
            self.close()
            raise ValueError(f"cannot use {self.path} as a sandbox database: {exc}") from None
        except BaseException:
            self.close()
            raise

    def _prepare_schema(self) -> None:
        (version,) = self._conn.execute("PRAGMA user_version").fetchone()
        if version > SCHEMA_VERSION:
            raise ValueError(
                f"{self.path} was written by a newer sandbox (schema {version}; "
                f"this one reads up to {SCHEMA_VERSION})"
            )
        if version == SCHEMA_VERSION:
            return
        with self._transaction():
            steps = (
                [_SCHEMA]
                if version == 0
                else [_MIGRATIONS[v] for v in range(version, SCHEMA_VERSION)]
            )
            for statements in steps:
                for statement in statements:
                    self._conn.execute(statement)
            self._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextlib.contextmanager
    def _transaction(self) -> Generator[None, None, None]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    # -- reading --

    def meta(self) -> dict[str, str]:
        return dict(self._conn.execute("SELECT key, value FROM meta").fetchall())

    def _rows(self, *kinds: str, exclude: bool = False) -> Iterator[tuple[str, str, Any]]:
        """(kind, key, decoded body) of the records of ``kinds`` (or all others), oldest first."""
        marks = ",".join("?" * len(kinds))
        where = f"kind {'NOT IN' if exclude else 'IN'} ({marks})"
        cursor = self._conn.execute(
            f"SELECT kind, key, body FROM records WHERE {where} ORDER BY seq", kinds
        )
        for kind, key, body in cursor.fetchall():
            yield kind, key, json.loads(body)

    def entities(self) -> Iterator[Entity]:
        for kind, key, plain in self._rows(EMAIL, DELIVERY, IDEMPOTENCY, exclude=True):
            yield Entity(kind, key, plain["data"], plain["private"], tuple(plain["aliases"]))

    def emails(self) -> Iterator[SandboxEmail]:
        for _, _, plain in self._rows(EMAIL):
            yield _email_from_json(plain)

    def deliveries(self) -> Iterator[WebhookDelivery]:
        for _, _, plain in self._rows(DELIVERY):
            yield _delivery_from_json(plain)

    def idempotency(self) -> Iterator[tuple[str, IdempotencyRecord]]:
        for _, key, plain in self._rows(IDEMPOTENCY):
            body = base64.b64decode(plain["body"])
            yield (
                key,
                IdempotencyRecord(
                    plain["fingerprint"], plain["status"], body, plain.get("created_at", "")
                ),
            )

    # -- writing --

    def write(
        self,
        changes: Mapping[tuple[str, str], object | None],
        meta: Mapping[str, str],
        *,
        clear: tuple[str, ...] = (),
    ) -> None:
        """Apply one commit: optional clearing, then upserts/deletes, then meta, atomically."""
        with self._transaction():
            if clear:
                marks = ",".join("?" * len(clear))
                self._conn.execute(f"DELETE FROM records WHERE kind IN ({marks})", clear)
            for (kind, key), value in changes.items():
                if value is None:
                    self._conn.execute(
                        "DELETE FROM records WHERE kind = ? AND key = ?", (kind, key)
                    )
                    continue
                # A new record goes last; an update keeps its place.
                self._conn.execute(
                    "INSERT INTO records (kind, key, seq, body) VALUES (?, ?, "
                    "(SELECT COALESCE(MAX(seq), 0) + 1 FROM records), ?) "
                    "ON CONFLICT (kind, key) DO UPDATE SET body = excluded.body",
                    (kind, key, _encode(kind, value)),
                )
            self._conn.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                meta.items(),
            )

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._conn.close()
        self._release_lock()

    def _release_lock(self) -> None:
        if self._lock_file is not None:
            with contextlib.suppress(OSError):
                self._lock_file.close()  # closing the handle releases the lock
            self._lock_file = None

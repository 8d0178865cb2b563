"""``poststack send-many``: one email per row of a CSV or JSON Lines file, through send_many.

Every row is read, mapped and checked before the first request goes out; a
bad row is reported with its number and nothing is sent (exit 2). Columns
named after an email field (``to``, ``cc``, ``bcc``, ``reply_to``,
``from``, ``subject``, ``tags``, ``scheduled_at``, ``template_id``; an
``email`` column is ``to`` when there is none) fill that field, ``--map
COLUMN=FIELD`` maps any other; every other column is a template variable,
for ``{{name}}`` in ``--subject``, ``--html``/``--html-file`` and
``--text``/``--text-file``, or sent as ``variables`` with ``--template-id``.

The run is ``emails.send_many``: paced, concurrent, and resumable with
``--run-id`` (and ``--journal``). Ctrl-C or SIGTERM stops it after the
requests in flight; the results file and the summary are written either way.
Exit 0 when every email was sent, 1 when some were not, 2 on bad input.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import signal
import sys
import threading
from collections.abc import Generator, Mapping
from email.utils import parseaddr
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, cast

from . import _progress
from ._common import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, UsageError, client_from, print_json
from ._rows import Row, RowError, Template, input_format, read_rows
from ._send import iso_timestamp, split_addresses

if TYPE_CHECKING:
    from poststack import SendManyResult
    from poststack.types import SendEmailParams

FIELDS = ("to", "cc", "bcc", "reply_to", "from", "subject", "tags", "scheduled_at", "template_id")
"""The email fields a column can fill; any other column is a template variable."""

ERRORS_SHOWN = 20
FAILURES_SHOWN = 10


# -- argparse value types --


def mapping(value: str) -> tuple[str, str]:
    """``COLUMN=FIELD`` for ``--map``."""
    column, sep, field = value.partition("=")
    column, field = column.strip(), field.strip()
    if not sep or not column or field not in FIELDS:
        raise argparse.ArgumentTypeError(
            f"expected COLUMN=FIELD with FIELD one of {', '.join(FIELDS)}, got {value!r}"
        )
    return column, field


# -- from rows to emails --


class Mapper:
    """Turns rows into email payloads, as the command line says."""

    def __init__(self, args: argparse.Namespace, columns: list[str]) -> None:
        self._args = args
        renames: dict[str, str] = dict(args.map or [])
        unknown = sorted(set(renames) - set(columns))
        if unknown:
            raise UsageError(f"--map names no column of the input: {', '.join(unknown)}")
        self.fields: dict[str, str] = {}  # column -> field
        for column in columns:
            field = renames.get(column) or (column.lower() if column.lower() in FIELDS else None)
            if field is not None:
                if field in self.fields.values():
                    raise UsageError(f"two columns fill the field {field!r}")
                self.fields[column] = field
        if "to" not in self.fields.values() and "email" in columns and "email" not in renames:
            self.fields["email"] = "to"
        if "to" not in self.fields.values():
            raise UsageError(
                "no recipient column: name one 'to' or 'email', or pass --map COLUMN=to"
            )
        if args.from_ is None and "from" not in self.fields.values():
            raise UsageError("no sender: pass --from ADDRESS or give the rows a 'from' column")
        self._constants = dict(args.variables or [])
        self._html = self._body(args.html, args.html_file, "HTML file", escape_html=True)
        self._text = self._body(args.text, args.text_file, "text file", escape_html=False)
        self._subject = Template(args.subject) if args.subject is not None else None
        has_template = args.template_id is not None or "template_id" in self.fields.values()
        if has_template and (self._html or self._text):
            raise UsageError("a template id brings its own body: drop --html/--text")
        if not has_template and not (self._html or self._text):
            raise UsageError(
                "nothing to send: give --html, --html-file, --text, --text-file or --template-id"
            )
        if not has_template and self._subject is None and "subject" not in self.fields.values():
            raise UsageError("no subject: pass --subject or give the rows a 'subject' column")

    @staticmethod
    def _body(
        inline: str | None, path: str | None, what: str, *, escape_html: bool
    ) -> Template | None:
        if path is not None:
            try:
                inline = Path(path).read_text(encoding="utf-8")
            except OSError as exc:
                raise UsageError(f"cannot read {what} {path!r}: {exc.strerror or exc}") from None
            except UnicodeDecodeError as exc:
                raise UsageError(f"{what} {path!r} is not UTF-8 text: {exc.reason}") from None
        return Template(inline, escape_html=escape_html) if inline is not None else None

    def email(self, row: Row) -> SendEmailParams:
        """The payload of one row; RowError says what is wrong with it."""
        args = self._args
        given = {field: row.values[column].strip() for column, field in self.fields.items()}
        variables = {
            **self._constants,
            **{name: value for name, value in row.values.items() if name not in self.fields},
        }
        payload: dict[str, Any] = {"from": given.get("from") or args.from_}
        _check_address(payload["from"], "from")
        to = split_addresses([given.get("to", "")])
        if not to:
            raise RowError("no recipient (the 'to' column is empty)")
        for address in to:
            _check_address(address, "to")
        payload["to"] = to
        for field in ("cc", "bcc"):
            addresses = split_addresses([given.get(field, "")])
            for address in addresses:
                _check_address(address, field)
            if addresses:
                payload[field] = addresses
        reply_to = given.get("reply_to") or args.reply_to
        if reply_to:
            _check_address(reply_to, "reply_to")
            payload["reply_to"] = reply_to
        subject = given.get("subject") or (
            self._subject.render(variables) if self._subject is not None else None
        )
        if subject:
            payload["subject"] = subject
        if self._html is not None:
            payload["html"] = self._html.render(variables)
        if self._text is not None:
            payload["text"] = self._text.render(variables)
        template_id = given.get("template_id") or args.template_id
        if template_id:
            payload["template_id"] = template_id
            payload["variables"] = variables
        elif not subject:
            raise RowError("no subject (the 'subject' column is empty)")
        row_tags = [tag.strip() for tag in given.get("tags", "").split(",") if tag.strip()]
        tags: list[str] = [*(args.tags or []), *row_tags]
        if tags:
            payload["tags"] = tags
        if args.headers:
            payload["headers"] = dict(args.headers)
        if given.get("scheduled_at"):
            try:
                payload["scheduled_at"] = iso_timestamp(given["scheduled_at"])
            except argparse.ArgumentTypeError as exc:
                raise RowError(f"scheduled_at: {exc}") from None
        return cast("SendEmailParams", payload)


def _check_address(value: str, field: str) -> None:
    _, address = parseaddr(value)
    local, at, domain = address.rpartition("@")
    if not at or not local or "." not in domain or any(char.isspace() for char in address):
        raise RowError(f"{field}: {value!r} is not an email address")


def build_emails(args: argparse.Namespace) -> tuple[list[Row], list[SendEmailParams]]:
    """Every row and its email, or a UsageError that lists the bad rows by number."""
    rows, errors = read_rows(args.recipients, input_format(args.recipients, args.format))
    if not rows and not errors:
        raise UsageError(f"no rows in {args.recipients!r}")
    columns = sorted({column for row in rows for column in row.values}, key=_first_seen(rows))
    mapper = Mapper(args, columns)
    emails: list[SendEmailParams] = []
    for row in rows:
        try:
            emails.append(mapper.email(row))
        except RowError as exc:
            errors.append(f"{row.where}: {exc}")
    if errors:
        errors.sort(key=_row_number)
        shown = "\n  ".join(errors[:ERRORS_SHOWN])
        more = (
            f"\n  ... and {len(errors) - ERRORS_SHOWN} more" if len(errors) > ERRORS_SHOWN else ""
        )
        raise UsageError(f"{len(errors)} bad row(s), nothing was sent:\n  {shown}{more}")
    return rows, emails


def _first_seen(rows: list[Row]) -> Any:
    order: dict[str, int] = {}
    for row in rows:
        for column in row.values:
            order.setdefault(column, len(order))
    return order.__getitem__


def _row_number(error: str) -> int:
    return int(error.split(" ", 2)[1])


# -- the command --


def run(args: argparse.Namespace) -> int:
    rows, emails = build_emails(args)
    if args.journal is not None and args.run_id is None:
        raise UsageError("--journal needs --run-id: a rerun finds its journal by the run id")
    if args.dry_run:
        return _dry_run(args, rows, emails)
    from poststack import JournalError, Pacing, RunChangedError

    pacing = Pacing(max_rate=args.max_rate) if args.max_rate is not None else None
    display = _progress.choose(
        args.progress, json_output=args.json, total=len(emails), stream=sys.stderr
    )
    stop = threading.Event()
    try:
        with client_from(args, pacing=pacing) as ps, _stop_on_signals(stop):
            result = ps.emails.send_many(
                emails,
                run_id=args.run_id,
                batch_size=args.batch_size,
                concurrency=args.concurrency,
                journal=args.journal,
                on_progress=display.update,
                cancel=stop,
            )
    except (RunChangedError, JournalError) as exc:
        raise UsageError(str(exc)) from None
    finally:
        display.close()
    if args.results is not None:
        _write_results(args.results, rows, emails, result)
    _report(args, rows, result)
    if stop.is_set():
        return EXIT_INTERRUPTED
    return EXIT_OK if result.ok else EXIT_FAILURE


def _dry_run(args: argparse.Namespace, rows: list[Row], emails: list[SendEmailParams]) -> int:
    if args.json:
        print(json.dumps({"event": "dry_run", "rows": len(rows), "first": emails[0]}))
        return EXIT_OK
    print(f"{len(rows)} row(s) checked: every one can be sent. The first email ({rows[0].where}):")
    print_json(emails[0])
    print("(dry run: nothing was sent)")
    return EXIT_OK


@contextlib.contextmanager
def _stop_on_signals(stop: threading.Event) -> Generator[None, None, None]:
    """The first Ctrl-C or SIGTERM stops the run after the requests in flight; a second
    Ctrl-C stops at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, frame: FrameType | None) -> None:
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.set()
        print(
            "poststack: stopping after the requests in flight (Ctrl-C again to abort)",
            file=sys.stderr,
            flush=True,
        )

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _result_rows(
    rows: list[Row], emails: list[SendEmailParams], result: SendManyResult
) -> Generator[dict[str, Any], None, None]:
    for row, email, outcome in zip(rows, emails, result, strict=True):
        yield {
            "row": row.number,
            "to": ", ".join(email["to"]),
            "status": outcome.status,
            "id": outcome.id,
            "error": str(outcome.error) if outcome.error is not None else None,
        }


def _write_results(
    path: str, rows: list[Row], emails: list[SendEmailParams], result: SendManyResult
) -> None:
    """One line per row: row, to, status, id, error (CSV, or JSON Lines by the extension)."""
    as_json = Path(path).suffix.lower() in (".jsonl", ".ndjson")
    try:
        with open(path, "w", encoding="utf-8", newline="") as out:
            if as_json:
                for line in _result_rows(rows, emails, result):
                    out.write(json.dumps(line, ensure_ascii=False) + "\n")
            else:
                writer = csv.DictWriter(out, fieldnames=["row", "to", "status", "id", "error"])
                writer.writeheader()
                writer.writerows(_result_rows(rows, emails, result))
    except OSError as exc:
        print(f"poststack: error: cannot write {path!r}: {exc.strerror or exc}", file=sys.stderr)


def _summary(result: SendManyResult) -> Mapping[str, Any]:
    return {
        "run_id": result.run_id,
        "total": len(result),
        "sent": result.sent,
        "failed": result.failed,
        "skipped": result.skipped,
        "already_sent": result.already_sent,
        "cancelled": result.cancelled,
        "stopped_by": str(result.stopped_by) if result.stopped_by is not None else None,
        "requests": result.requests,
        "throttled": result.throttled,
    }


def _report(args: argparse.Namespace, rows: list[Row], result: SendManyResult) -> None:
    if args.json:
        print(json.dumps({"event": "summary", **_summary(result)}), flush=True)
        return
    parts = [f"sent {result.sent} of {len(result)}"]
    if result.already_sent:
        parts.append(f"{result.already_sent} of them by an earlier run")
    parts += [f"{result.failed} failed", f"{result.skipped} skipped"]
    print(f"{', '.join(parts)} (run id {result.run_id})")
    failures = result.failures()
    for outcome in failures[:FAILURES_SHOWN]:
        reason = outcome.error if outcome.error is not None else "not sent: cancelled"
        print(f"  {rows[outcome.index].where}: {reason}", file=sys.stderr)
    if len(failures) > FAILURES_SHOWN:
        print(f"  ... and {len(failures) - FAILURES_SHOWN} more", file=sys.stderr)
    if failures:
        resume = f"--run-id {result.run_id}" + (
            f" --journal {args.journal}" if args.journal else ""
        )
        print(
            f"poststack: run again with {resume} to send only what was not sent",
            file=sys.stderr,
        )

"""The journal of a bulk run: which chunks are done, kept as lines of JSON by the caller.

A journal is a text file of JSON lines, appended to as a run goes (the
façade does the writing; this module says what the lines hold and reads
them back). Its first line names the run and its plan::

    {"journal": "poststack send_many", "version": 1, "run_id": "...", "plan": "<sha256>",
     "emails": 5000, "requests": 50}

and each chunk the API accepted in full adds one line with the email ids::

    {"chunk": 7, "key": "<the chunk's Idempotency-Key>", "ids": ["em_...", ...]}

A rerun reads it back: a journal of another plan under the same run id is a
changed input (:class:`RunChangedError`, before anything is sent); the
chunks it lists are done and are not requested again. A line is complete
only with its newline: a process killed in the middle of writing one leaves
a torn line, which the writer drops before appending again. Losing the
last lines is harmless: those chunks are requested again, with the same
keys, and the API answers them from its idempotency store.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ._bulk_plan import Chunk, SendManyPlan
from ._bulk_results import RunChangedError
from ._narrow import as_list, as_mapping

JOURNAL_NAME = "poststack send_many"
JOURNAL_VERSION = 1


class JournalError(ValueError):
    """A journal file that is not a send_many journal, or is damaged beyond its last line."""


def journal_header(plan: SendManyPlan) -> str:
    """The first line of ``plan``'s journal (with its newline)."""
    return (
        json.dumps(
            {
                "journal": JOURNAL_NAME,
                "version": JOURNAL_VERSION,
                "run_id": plan.run_id,
                "plan": plan.fingerprint,
                "emails": plan.total,
                "requests": len(plan.chunks),
            }
        )
        + "\n"
    )


def journal_record(chunk: Chunk, ids: Iterable[str]) -> str:
    """The line that says ``chunk`` was accepted with these ids (with its newline)."""
    return json.dumps({"chunk": chunk.index, "key": chunk.key, "ids": list(ids)}) + "\n"


def _load(line: str, number: int, where: str) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except ValueError:
        raise JournalError(f"{where} line {number} is not JSON") from None
    mapping = as_mapping(value)
    if mapping is None:
        raise JournalError(f"{where} line {number} is not a JSON object")
    return dict(mapping)


def read_journal(
    plan: SendManyPlan, lines: Iterable[str], where: str = "the journal"
) -> dict[int, list[str]]:
    """The chunks an earlier run of ``plan`` finished, by index, with their email ids.

    ``lines`` are the journal's complete lines; none at all is a new journal.
    Raises :class:`RunChangedError` when the journal is of the same run id
    with another plan, :class:`JournalError` when it is no journal of this run.
    """
    done: dict[int, list[str]] = {}
    numbered = ((n, line) for n, line in enumerate(lines, 1) if line.strip())
    first = next(numbered, None)
    if first is None:
        return done
    header = _load(first[1], first[0], where)
    if header.get("journal") != JOURNAL_NAME or header.get("version") != JOURNAL_VERSION:
        raise JournalError(f"{where} is not a poststack send_many journal (version 1)")
    if header.get("run_id") != plan.run_id:
        raise JournalError(
            f"{where} belongs to run {header.get('run_id')!r}, not {plan.run_id!r}: "
            "use one journal per run"
        )
    if header.get("plan") != plan.fingerprint:
        raise RunChangedError(
            plan.run_id,
            f"run {plan.run_id!r} was started with a different input: {where} records "
            f"{header.get('emails')} emails in {header.get('requests')} requests (plan "
            f"{str(header.get('plan'))[:12]}...), now {plan.total} emails in "
            f"{len(plan.chunks)} requests (plan {plan.fingerprint[:12]}...). Nothing was "
            "sent; use a new run_id for the new input.",
        )
    chunks = {chunk.index: chunk for chunk in plan.chunks}
    for number, line in numbered:
        record = _load(line, number, where)
        index, key, ids = record.get("chunk"), record.get("key"), as_list(record.get("ids"))
        chunk = (
            chunks.get(index) if isinstance(index, int) and not isinstance(index, bool) else None
        )
        if (
            chunk is None
            or key != chunk.key
            or ids is None
            or len(ids) != len(chunk.emails)
            or not all(isinstance(email_id, str) and email_id for email_id in ids)
        ):
            raise JournalError(f"{where} line {number} is no chunk of this plan")
        done[chunk.index] = [str(email_id) for email_id in ids]
    return done

"""Running a bulk plan: the decisions, as two small state machines a driver carries out.

Theory of operation
-------------------
:class:`ChunkSend` sends one chunk. It hands out one request at a time and
is told how each ended::

    send = ChunkSend(chunk)
    while (operation := send.next()) is not None:
        ...run operation (retries and pacing included)...
        send.succeeded(value)     # or send.failed(error)
    send.results                  # an id or a PostStackError per email

When the API refuses a whole batch for a reason that may be a single
email's (400, 403, 404, 413, 422), each half is sent on its own, down to
single emails: one bad email costs about 2 log2(n) requests, never its
batch-mates' ids. Parts have keys of their own, derived from the chunk's,
so a rerun splits the same way and is answered from the idempotency store.

:class:`SendManyRun` is a whole run. Drivers run ``concurrency`` workers;
each takes the next chunk, sends it with a ChunkSend and reports back::

    run = SendManyRun(plan, now)
    run.resume(journal_lines)           # chunks an earlier run finished are done
    run.registered(error)               # the answer to the plan's registration
    while (chunk := run.next_chunk()) is not None:
        run.chunk_done(chunk, send.results, now)
    run.result()

A chunk refused by throttling (a 429 that is not a quota) even after its own
retries goes back to the front of the queue, a few times: the shared pacer
holds every request until the API lets them through again, so a long
``Retry-After`` slows a run down instead of ending it. A quota 429 or a 401
ends the run: nothing after it could be sent, so the chunks not started are
skipped with that error. ``cancel()`` stops handing out chunks; those in
flight finish and are recorded. A driver that serves several threads holds
a lock around every call (the run itself has none).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, cast

from ._bulk_plan import (
    Chunk,
    SendManyPlan,
    check_batch_size,
    check_emails,
    check_run_id,
    chunk_digests,
    chunk_operation,
    plan_send_many,
)
from ._bulk_results import FAILED, SENT, SKIPPED, Progress, RunChangedError, SendManyResult
from ._errors import CallStateError, PostStackError
from ._journal import journal_header, journal_record, read_journal
from ._narrow import as_list, as_mapping
from ._operation import Operation, check_timeout

SPLIT_STATUSES = frozenset({400, 403, 404, 413, 422})
"""Statuses of a refused batch that may be about one of its emails: its halves are sent alone."""

THROTTLED_REQUEUES = 5
"""How many times a throttled chunk goes back to the queue before it counts as failed."""

RATE_WINDOW = 10.0
"""Seconds of recent completions the progress rate is measured over."""

Outcome = str | PostStackError
"""One email's outcome as a chunk reports it: the id, or the error."""


def ends_run(error: PostStackError) -> bool:
    """Whether ``error`` means no later request of the run can succeed: a quota, a bad key."""
    return error.is_quota or error.status_code == 401


def _throttled(error: PostStackError) -> bool:
    return error.status_code == 429 and error.retryable and not error.is_quota


def _entry_outcome(entry: Mapping[str, Any]) -> Outcome:
    """One entry of a batch's answer: ``{"id"}``, or the API's reason for refusing that email."""
    email_id = entry.get("id")
    if isinstance(email_id, str) and email_id:
        return email_id
    message = entry.get("error")
    code = entry.get("code")
    return PostStackError(
        422,
        message if isinstance(message, str) and message else "the API gave this email no id",
        code if isinstance(code, str) else None,
        retryable=False,
    )


class ChunkSend:
    """Sending one chunk: the request, then its halves if the API refuses it as a whole."""

    __slots__ = ("_chunk", "_current", "_outcomes", "_timeout", "_todo")

    def __init__(self, chunk: Chunk, *, timeout: float | None = None) -> None:
        self._chunk = chunk
        self._timeout = timeout
        self._todo: list[tuple[int, int]] = [(0, len(chunk.emails))]  # next one last
        self._current: tuple[int, int] | None = None
        self._outcomes: list[Outcome | None] = [None] * len(chunk.emails)

    @property
    def chunk(self) -> Chunk:
        return self._chunk

    def next(self) -> Operation[Any] | None:
        """The next request to send, or None when every email has its outcome."""
        if self._current is not None:
            raise CallStateError("next() before the last request's outcome was reported")
        if not self._todo:
            return None
        lo, hi = self._current = self._todo.pop()
        return chunk_operation(self._chunk, lo, hi, timeout=self._timeout)

    def _take(self) -> tuple[int, int]:
        if self._current is None:
            raise CallStateError("an outcome was reported with no request handed out")
        current, self._current = self._current, None
        return current

    def succeeded(self, value: Any) -> None:
        """The last request was accepted: ``value`` is its parsed (already checked) answer."""
        lo, _ = self._take()
        answer = as_mapping(value) or {}
        entries = as_list(answer.get("data")) if self._chunk.batched else [answer]
        for offset, entry in enumerate(entries or []):
            self._outcomes[lo + offset] = _entry_outcome(as_mapping(entry) or {})

    def failed(self, error: PostStackError) -> None:
        """The last request failed for good (after its retries) with ``error``."""
        lo, hi = self._take()
        if self._chunk.batched and hi - lo > 1 and error.status_code in SPLIT_STATUSES:
            middle = (lo + hi) // 2
            self._todo += [(middle, hi), (lo, middle)]
            return
        for i in range(lo, hi):
            self._outcomes[i] = error

    @property
    def results(self) -> tuple[Outcome, ...]:
        """Each email's id or error, in order (once :meth:`next` has returned None)."""
        if self._todo or self._current is not None or any(o is None for o in self._outcomes):
            raise CallStateError("the chunk is not done yet")
        return tuple(o for o in self._outcomes if o is not None)


class SendManyRun:
    """One bulk run's bookkeeping: the queue, the outcomes, progress and journal lines."""

    def __init__(self, plan: SendManyPlan, now: float) -> None:
        self.plan = plan
        total = plan.total
        # A plan of one chunk of a larger run (a chunk job) numbers its emails from there.
        self._offset = plan.chunks[0].start if plan.chunks else 0
        self._counts = [total, 0, 0, 0]  # emails PENDING, SENT, FAILED, SKIPPED
        # Chunks by their index (a chunk job's plan holds one chunk of a larger run).
        self._chunks = {chunk.index: chunk for chunk in plan.chunks}
        self._queue: deque[int] = deque(self._chunks)
        self._in_flight: set[int] = set()
        self._requeued: dict[int, int] = {}
        self._states = bytearray(total)
        self._ids: list[str | None] = [None] * total
        self._errors: dict[int, PostStackError] = {}
        self._already_sent = 0
        self._cancelled = False
        self._stopped_by: PostStackError | None = None
        self._journal: list[str] = []
        self._started_at = now
        self._recent: deque[tuple[float, int]] = deque()  # (when, emails settled)

    # -- before the first chunk --

    def resume(self, lines: Iterable[str], where: str = "the journal") -> bool:
        """Take what an earlier run's journal says is done; whether it listed any chunk.

        Raises RunChangedError (or JournalError) before anything is sent when
        the journal is of another plan.
        """
        done = read_journal(self.plan, lines, where)
        for index, ids in done.items():
            chunk = self._chunks[index]
            for offset, email_id in enumerate(ids):
                self._settle(chunk.start + offset, email_id)
            self._already_sent += len(ids)
        self._queue = deque(i for i in self._queue if i not in done)
        return bool(done)

    def journal_header(self) -> str:
        """The line a new journal starts with."""
        return journal_header(self.plan)

    def registered(self, error: PostStackError | None) -> str | None:
        """The plan's registration (``manifest_operation``) ended: ``error`` None if accepted.

        A 409 means this run id's plan was registered with another input:
        RunChangedError, nothing sent. An error that ends the run skips every
        chunk. Any other error leaves the run going without that safeguard;
        the returned text says so, for the driver to log.
        """
        if error is None:
            return None
        if error.status_code == 409:
            raise RunChangedError(
                self.plan.run_id,
                f"run {self.plan.run_id!r} was started with a different input: the API "
                f"refused this run's plan ({self.plan.total} emails, plan "
                f"{self.plan.fingerprint[:12]}...) as not the one registered under this "
                "run_id. Nothing was sent; use a new run_id for the new input.",
            ) from error
        if ends_run(error):
            self._stop(error)
            return None
        return (
            f"could not register run {self.plan.run_id!r} with the API ({error}); the run "
            "goes on, but a changed input under this run_id will not be detected by the API"
        )

    # -- while it runs --

    @property
    def pending(self) -> bool:
        """Whether any chunk is still to be handed out."""
        return bool(self._queue)

    @property
    def finished(self) -> bool:
        """Whether nothing is queued and nothing is in flight."""
        return not self._queue and not self._in_flight

    def next_chunk(self) -> Chunk | None:
        """The next chunk to send (now in flight), or None when none is left to start."""
        if not self._queue:
            return None
        index = self._queue.popleft()
        self._in_flight.add(index)
        return self._chunks[index]

    def chunk_done(self, chunk: Chunk, outcomes: Sequence[Outcome], now: float) -> None:
        """Chunk ``chunk`` (handed out by :meth:`next_chunk`) ended with ``outcomes``."""
        index = chunk.index
        if index not in self._in_flight or self._chunks[index] is not chunk:
            raise CallStateError(f"chunk {index} is not in flight")
        if len(outcomes) != len(chunk.emails):
            raise ValueError(f"{len(outcomes)} outcomes for {len(chunk.emails)} emails")
        self._in_flight.discard(index)
        errors = [o for o in outcomes if isinstance(o, PostStackError)]
        stop = next((e for e in errors if ends_run(e)), None)
        if (
            stop is None
            and any(_throttled(e) for e in errors)
            and self._requeued.get(index, 0) < THROTTLED_REQUEUES
            and not self._cancelled
            and self._stopped_by is None
        ):
            self._requeued[index] = self._requeued.get(index, 0) + 1
            self._queue.appendleft(index)
            return
        for offset, outcome in enumerate(outcomes):
            self._settle(chunk.start + offset, outcome)
        self._recent.append((now, len(outcomes)))
        if not errors:
            ids = [o for o in outcomes if isinstance(o, str)]
            self._journal.append(journal_record(chunk, ids))
        if stop is not None:
            self._stop(stop)

    def cancel(self) -> None:
        """Hand out no more chunks; the ones in flight finish. The rest is skipped."""
        self._cancelled = True
        self._skip_queue(None)

    def _stop(self, error: PostStackError) -> None:
        if self._stopped_by is None:
            self._stopped_by = error
        self._skip_queue(error)

    def _skip_queue(self, error: PostStackError | None) -> None:
        while self._queue:
            chunk = self._chunks[self._queue.popleft()]
            for position in range(chunk.start, chunk.start + len(chunk.emails)):
                i = self._set(position, SKIPPED)
                if error is not None:
                    self._errors[i] = error

    def _set(self, position: int, state: int) -> int:
        """Give the email at input ``position`` its (only) final state; its index in the run."""
        i = position - self._offset
        counts = self._counts
        counts[self._states[i]] -= 1
        counts[state] += 1
        self._states[i] = state
        return i

    def _settle(self, position: int, outcome: Outcome) -> None:
        if isinstance(outcome, str):
            self._ids[self._set(position, SENT)] = outcome
        else:
            self._errors[self._set(position, FAILED)] = outcome

    def take_journal(self) -> list[str]:
        """The journal lines to append since the last call (each with its newline)."""
        lines, self._journal = self._journal, []
        return lines

    def progress(self, now: float) -> Progress:
        """The counts so far, and the rate over the last :data:`RATE_WINDOW` seconds."""
        recent = self._recent
        while recent and recent[0][0] <= now - RATE_WINDOW:
            recent.popleft()
        elapsed = max(0.0, now - self._started_at)
        span = min(RATE_WINDOW, elapsed)
        settled = sum(count for _, count in recent)
        counts = self._counts
        return Progress(
            total=self.plan.total,
            sent=counts[SENT],
            failed=counts[FAILED],
            skipped=counts[SKIPPED],
            rate=settled / span if span > 0 else 0.0,
            elapsed=elapsed,
        )

    def result(self, *, requests: int = 0, throttled: int = 0) -> SendManyResult:
        """The outcome so far (what is not settled counts as skipped), with the driver's counts
        of answers and 429s."""
        return SendManyResult(
            self.plan.run_id,
            bytes(self._states),
            self._ids,
            self._errors,
            start=self._offset,
            already_sent=self._already_sent,
            cancelled=self._cancelled,
            stopped_by=self._stopped_by,
            requests=requests,
            throttled=throttled,
        )


# -- what a send_many call hands to the client that runs it ---------------------------------


class CancelFlag(Protocol):
    """Anything with ``is_set()``: a ``threading.Event``, an ``asyncio.Event``, a ``trio.Event``."""

    def is_set(self) -> bool: ...


DEFAULT_CONCURRENCY = 4
"""Chunks in flight at once unless told otherwise: enough to keep a 20-requests-per-second
limit busy at 100-200 ms a batch, few enough not to flood a smaller one."""

CONCURRENCY_LIMIT = 256


def check_concurrency(concurrency: object) -> int:
    if isinstance(concurrency, bool) or not isinstance(concurrency, int):
        raise TypeError(f"concurrency must be an int, got {type(concurrency).__name__}")
    if not 1 <= concurrency <= CONCURRENCY_LIMIT:
        raise ValueError(
            f"concurrency must be 1 to {CONCURRENCY_LIMIT} chunks in flight, got {concurrency}"
        )
    return concurrency


@dataclass(frozen=True, slots=True)
class SendMany:
    """A bulk send, checked and ready to run: what ``PostStack`` and ``AsyncPostStack`` carry out.

    Built by ``emails.send_many`` (a whole input: :meth:`plan` makes the plan
    once the run id is known) or ``emails.send_chunk`` (``chunk_plan``, one
    chunk planned elsewhere). ``run_id`` is the caller's, or None: the client
    then picks a fresh one, and there is no earlier run to resume.
    """

    emails: Sequence[Mapping[str, Any]]
    digests: tuple[str, ...]
    run_id: str | None
    batch_size: int
    concurrency: int
    timeout: float | None
    on_progress: Callable[[Progress], object] | None
    cancel: CancelFlag | None
    journal: str | None
    detect_changes: bool = True
    chunk_plan: SendManyPlan | None = None

    __hash__: ClassVar[None] = None  # type: ignore[assignment]

    @property
    def registers(self) -> bool:
        """Whether the run registers its plan with the API first (a run id the caller chose)."""
        return self.run_id is not None and self.detect_changes and self.chunk_plan is None

    def plan(self, fresh_run_id: str) -> SendManyPlan:
        """The plan under the caller's run id, or under ``fresh_run_id`` when they gave none."""
        if self.chunk_plan is not None:
            return self.chunk_plan
        return plan_send_many(
            self.emails,
            run_id=self.run_id or fresh_run_id,
            batch_size=self.batch_size,
            digests=self.digests,
        )


def send_many_job(
    emails: object,
    *,
    run_id: object,
    batch_size: object,
    concurrency: object,
    timeout: object,
    on_progress: object,
    cancel: object,
    journal: object,
    detect_changes: object = True,
) -> SendMany:
    """Check every argument of a send_many call (and every email) before anything is sent."""
    checked = check_emails(emails)
    size = check_batch_size(batch_size)
    if run_id is not None:
        run_id = check_run_id(run_id)
    if on_progress is not None and not callable(on_progress):
        raise TypeError(f"on_progress must be a callable, got {type(on_progress).__name__}")
    if cancel is not None and not callable(getattr(cancel, "is_set", None)):
        raise TypeError(
            "cancel must have an is_set() method (a threading.Event, for one), got "
            f"{type(cancel).__name__}"
        )
    path: str | None = None
    if journal is not None:
        # os.fspath's rule, without importing os into the core.
        fspath = getattr(type(journal), "__fspath__", None)
        path = journal if isinstance(journal, str) else fspath(journal) if fspath else None
        if not isinstance(path, str) or not path:
            raise TypeError(f"journal must be a file path (str or Path), got {journal!r}")
        if run_id is None:
            raise ValueError("a journal needs a run_id: the run it records is found again by it")
    if not isinstance(detect_changes, bool):
        raise TypeError(f"detect_changes must be True or False, got {detect_changes!r}")
    # Each email's full check comes with its chunk, when the client makes the plan.
    return SendMany(
        checked,
        chunk_digests(checked, size),
        run_id,
        size,
        check_concurrency(concurrency),
        check_timeout(timeout),
        cast("Callable[[Progress], object] | None", on_progress),
        cast("CancelFlag | None", cancel),
        path,
        detect_changes,
    )


def send_chunk_job(chunk: object, *, timeout: object) -> SendMany:
    """One chunk of a plan made elsewhere (a job queue's), as a run of its own."""
    if not isinstance(chunk, Chunk):
        raise TypeError(f"chunk must be a Chunk (from plan_send_many), got {type(chunk).__name__}")
    run_id = chunk.key.rsplit("-", 2)[0]
    plan = SendManyPlan(run_id, len(chunk.emails), len(chunk.emails), (chunk,), chunk.key)
    return SendMany(
        chunk.emails,
        (),
        None,
        len(chunk.emails),
        1,
        check_timeout(timeout),
        None,
        None,
        None,
        chunk_plan=plan,
    )

"""What a bulk run gives back: one result per email, the counts, progress, and its errors."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, overload

from ._errors import PostStackError

Status = Literal["sent", "failed", "skipped"]
"""``sent``: the API accepted the email (this run, or an earlier one with the same run id);
``failed``: the API refused it, or its request failed for good; ``skipped``: it was never
sent, because the run was cancelled or stopped early."""

# Per-email states inside a run (a bytearray, so a million emails cost a megabyte).
PENDING, SENT, FAILED, SKIPPED = 0, 1, 2, 3
_STATUS: dict[int, Status] = {SENT: "sent", FAILED: "failed", SKIPPED: "skipped"}


@dataclass(frozen=True, slots=True)
class EmailResult:
    """What became of one email: its ``id`` when sent, else the ``error`` (when there is one).

    ``index`` is the email's position in the input. A skipped email carries
    the error that stopped the run (a quota, a revoked key), or none when the
    run was cancelled.
    """

    index: int
    status: Status
    id: str | None = None
    error: PostStackError | None = None


@dataclass(frozen=True, slots=True)
class Progress:
    """How far a run is: counts so far, and ``rate``, emails per second over the last seconds.

    ``sent`` includes emails an earlier run with the same run id had already
    sent (read from the journal).
    """

    total: int
    sent: int
    failed: int
    skipped: int
    rate: float
    elapsed: float

    @property
    def done(self) -> int:
        """Emails with an outcome so far."""
        return self.sent + self.failed + self.skipped

    @property
    def remaining(self) -> int:
        return self.total - self.done

    @property
    def eta(self) -> float | None:
        """Seconds until the rest is done at the current rate (None while the rate is 0)."""
        if self.remaining == 0:
            return 0.0
        return self.remaining / self.rate if self.rate > 0 else None


class SendManyResult(Sequence[EmailResult]):
    """The outcome of a bulk run: one :class:`EmailResult` per email, in input order.

    ``sent``, ``failed`` and ``skipped`` count them; ``already_sent`` is how
    many of the sent ones an earlier run with the same ``run_id`` had sent
    (known from the journal, so not requested again). ``cancelled`` says the
    run was cancelled; ``stopped_by`` is the error that ended it early, if one
    did (a quota, a revoked key). ``run_id`` is the run's id, the one to pass
    again to finish a run that did not send everything. ``requests`` counts
    the answers the run's HTTP requests got (retries included) and
    ``throttled`` how many of them were 429s.
    """

    run_id: str
    sent: int
    failed: int
    skipped: int
    already_sent: int
    cancelled: bool
    stopped_by: PostStackError | None
    requests: int
    throttled: int

    __slots__ = (
        "_errors",
        "_ids",
        "_start",
        "_states",
        "already_sent",
        "cancelled",
        "failed",
        "requests",
        "run_id",
        "sent",
        "skipped",
        "stopped_by",
        "throttled",
    )

    def __init__(
        self,
        run_id: str,
        states: bytes,
        ids: Sequence[str | None],
        errors: Mapping[int, PostStackError],
        *,
        start: int = 0,
        already_sent: int = 0,
        cancelled: bool = False,
        stopped_by: PostStackError | None = None,
        requests: int = 0,
        throttled: int = 0,
    ) -> None:
        if len(states) != len(ids):
            raise ValueError("one state and one id slot per email")
        self.run_id = run_id
        # Anything never settled counts as skipped: it was not sent.
        self._states = bytes(state or SKIPPED for state in states)
        self._ids = tuple(ids)
        self._errors = dict(errors)
        self._start = start
        self.sent = self._states.count(SENT)
        self.failed = self._states.count(FAILED)
        self.skipped = self._states.count(SKIPPED)
        self.already_sent = already_sent
        self.cancelled = cancelled
        self.stopped_by = stopped_by
        self.requests = requests
        self.throttled = throttled

    def __len__(self) -> int:
        return len(self._states)

    @overload
    def __getitem__(self, position: int) -> EmailResult: ...
    @overload
    def __getitem__(self, position: slice) -> list[EmailResult]: ...
    def __getitem__(self, position: int | slice) -> EmailResult | list[EmailResult]:
        if isinstance(position, slice):
            return [self._result(i) for i in range(len(self))[position]]
        if position < 0:
            position += len(self)
        if not 0 <= position < len(self):
            raise IndexError("result index out of range")
        return self._result(position)

    def __iter__(self) -> Iterator[EmailResult]:
        return (self._result(i) for i in range(len(self)))

    def _result(self, i: int) -> EmailResult:
        return EmailResult(
            self._start + i, _STATUS[self._states[i]], self._ids[i], self._errors.get(i)
        )

    @property
    def ids(self) -> list[str | None]:
        """Each email's id, in input order; None for one that was not sent."""
        return list(self._ids)

    @property
    def ok(self) -> bool:
        """Whether every email was sent."""
        return self.sent == len(self)

    def failures(self) -> list[EmailResult]:
        """The results of the emails that were not sent (failed or skipped), in order."""
        return [self._result(i) for i, state in enumerate(self._states) if state != SENT]

    def raise_for_failures(self) -> SendManyResult:
        """This result, or :class:`SendManyError` when any email was not sent."""
        if self.ok:
            return self
        error = SendManyError(self)
        raise error from error.first

    def __repr__(self) -> str:
        return (
            f"<SendManyResult run_id={self.run_id!r} sent={self.sent} failed={self.failed} "
            f"skipped={self.skipped}>"
        )


class SendManyError(PostStackError):
    """Some emails of a bulk run were not sent; ``result`` is the whole :class:`SendManyResult`.

    Raised by :meth:`SendManyResult.raise_for_failures`. Its status, code,
    request id and the rest are those of the first email's error that was
    not sent (or of the error that stopped the run), which is also its
    ``__cause__``; a cancelled run's skipped emails have none, and then
    ``status_code`` is 0 and ``code`` ``"cancelled"``.
    """

    result: SendManyResult
    first: PostStackError | None
    """The first email's error that was not sent (or the one that stopped the run)."""

    def __init__(self, result: SendManyResult) -> None:
        first = result.stopped_by or next(
            (r.error for r in result.failures() if r.error is not None), None
        )
        self.first = first
        summary = (
            f"{len(result) - result.sent} of {len(result)} emails not sent "
            f"({result.failed} failed, {result.skipped} skipped) in run {result.run_id!r}"
        )
        if first is None:
            super().__init__(0, f"{summary}: cancelled", "cancelled", retryable=True)
        else:
            super().__init__(
                first.status_code,
                f"{summary}; first: {first}",
                first.code,
                first.request_id,
                first.headers,
                first.retry_after,
                retryable=first.retryable,
                is_quota=first.is_quota,
            )
        self.result = result

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.result,), self.__dict__)


class RunChangedError(ValueError):
    """A bulk run's ``run_id`` was used before with a different input.

    Running it would mix two inputs under one run, so nothing was sent. Use
    a new run id for the new input (or restore the old one). ``run_id`` names
    the run; when the API told (a 409 on the run's plan), that error is the
    ``__cause__``.
    """

    def __init__(self, run_id: str, message: str) -> None:
        super().__init__(message)
        self.run_id = run_id

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.run_id, str(self)))

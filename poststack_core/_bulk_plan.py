"""A bulk run's plan: the input cut into chunks, each with a deterministic Idempotency-Key.

Theory of operation
-------------------
``plan_send_many(emails, run_id=...)`` cuts the emails into chunks of
``batch_size`` (one ``POST /emails/batch`` each; with ``batch_size=1`` one
``POST /emails`` each) and gives chunk ``k`` the key::

    {run_id}-{k}-{digest}

where ``digest`` is the first 16 hex digits of a SHA-256 over the chunk's
emails as canonical JSON (keys sorted). The same input under the same run id
gives the same keys, so a rerun after a crash is answered from the API's
idempotency store for every chunk that was accepted, and only the rest is
sent. A chunk whose content changed gets a different key, so it is never
answered with another chunk's result.

What a content-hashed key cannot tell is that the input changed: to the
API, a changed chunk is simply a new request. So a run registers its whole
plan once, under a key made from the run id alone: ``{run_id}-plan``, on a
request that sends nothing (``POST /emails/spam-preview``) whose body names
the plan's fingerprint (a SHA-256 over every chunk key). The API remembers
the first body it saw under a key and answers a different body under the
same key with a 409, so a rerun with a changed input is stopped before
anything else is sent, with no state kept on the machine that ran it. A
local journal (see ``_journal``) knows the same without asking, and also
which chunks are done.

Everything here is pure: the plan is a value, and the chunks are plain data
(a job queue can carry them) that :func:`chunk_operation` turns into requests.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, cast

from ._email_checks import check_email
from ._narrow import as_list, as_mapping
from ._operation import Operation, check_idempotency_key, check_timeout

BATCH_LIMIT = 100
"""The most emails one ``POST /emails/batch`` takes (spec section 7)."""

RUN_ID_LIMIT = 200
"""The longest run id: its keys must stay within an Idempotency-Key's 255 characters."""

DIGEST_CHARS = 16
"""Hex digits of SHA-256 in a chunk's key: 64 bits, so two contents never share a key."""

# sort_keys: the same email written with its keys in another order is the same content.
_CANONICAL = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False
)


def check_run_id(run_id: object) -> str:
    """A run id (the prefix of every key of a run), or a clear error before anything is sent."""
    if not isinstance(run_id, str):
        raise TypeError(f"run_id must be a str, got {type(run_id).__name__}")
    if not run_id or len(run_id) > RUN_ID_LIMIT or not all("!" <= char <= "~" for char in run_id):
        raise ValueError(
            f"run_id must be 1 to {RUN_ID_LIMIT} printable ASCII characters without spaces, "
            f"e.g. 'newsletter-2026-06', got {run_id!r}"
        )
    return run_id


def check_batch_size(batch_size: object) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int):
        raise TypeError(f"batch_size must be an int, got {type(batch_size).__name__}")
    if not 1 <= batch_size <= BATCH_LIMIT:
        raise ValueError(
            f"batch_size must be 1 to {BATCH_LIMIT} (1 sends each email with POST /emails), "
            f"got {batch_size}"
        )
    return batch_size


def content_digest(emails: Sequence[Mapping[str, Any]], first: int) -> str:
    """The digest of a chunk's emails (canonical JSON); ``first`` numbers them in errors."""
    digest = hashlib.sha256()
    for offset, email in enumerate(emails):
        try:
            text = _CANONICAL.encode(email)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"emails[{first + offset}] is not JSON: {exc}") from None
        digest.update(text.encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()[:DIGEST_CHARS]


@dataclass(frozen=True, slots=True)
class Chunk:
    """One request's worth of a run: ``emails`` are the input's ``[start, start + len)``.

    ``key`` is its Idempotency-Key; ``batched`` says whether it goes out as
    ``POST /emails/batch`` (else ``POST /emails``, one email). Plain data: a
    job queue can carry a chunk (``dataclasses.asdict``) and rebuild it with
    ``Chunk(**fields)``.
    """

    index: int
    start: int
    emails: tuple[Mapping[str, Any], ...]
    key: str
    batched: bool

    def __post_init__(self) -> None:
        # Rebuilt from JSON, the emails arrive as a list: keep the value immutable.
        emails = tuple(self.emails)
        if not emails or len(emails) > BATCH_LIMIT or (not self.batched and len(emails) != 1):
            raise ValueError(
                f"a chunk holds 1 to {BATCH_LIMIT} emails (exactly 1 unless batched), "
                f"got {len(emails)}"
            )
        for offset, email in enumerate(emails):
            check_email(email, f"emails[{self.start + offset}]")
        object.__setattr__(self, "emails", emails)

    __hash__: ClassVar[None] = None  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class SendManyPlan:
    """A whole run: its chunks in order, and the fingerprint that tells one plan from another.

    ``fingerprint`` is a SHA-256 over every chunk's key (and so over the run id,
    the batch size and every email): any change to the input changes it.
    """

    run_id: str
    batch_size: int
    total: int
    chunks: tuple[Chunk, ...]
    fingerprint: str

    __hash__: ClassVar[None] = None  # type: ignore[assignment]


def chunk_digests(emails: Sequence[Mapping[str, Any]], batch_size: int) -> tuple[str, ...]:
    """The content digest of each chunk ``batch_size`` cuts ``emails`` into."""
    return tuple(
        content_digest(emails[start : start + batch_size], start)
        for start in range(0, len(emails), batch_size)
    )


def check_emails(emails: object) -> Sequence[Mapping[str, Any]]:
    """The input of a run: a list of dicts (each gets its full check in its :class:`Chunk`)."""
    if isinstance(emails, (str, bytes)) or not isinstance(emails, Sequence):
        raise TypeError(f"emails must be a list of email payloads, got {type(emails).__name__}")
    items = cast("Sequence[object]", emails)
    checked: list[Mapping[str, Any]] = []
    for i, item in enumerate(items):
        email = as_mapping(item)
        if email is None:
            raise TypeError(
                f"emails[{i}] must be a dict (an email payload), got {type(item).__name__}"
            )
        checked.append(email)
    return checked


def plan_send_many(
    emails: Sequence[Mapping[str, Any]],
    *,
    run_id: str,
    batch_size: int = BATCH_LIMIT,
    digests: Sequence[str] | None = None,
) -> SendManyPlan:
    """Plan a run: chunks with deterministic keys, every email checked first (pure).

    The same ``emails``, ``run_id`` and ``batch_size`` always give the same
    plan. ``digests`` are :func:`chunk_digests` computed earlier (they are
    the expensive part); omitted, they are computed here.
    """
    run_id = check_run_id(run_id)
    batch_size = check_batch_size(batch_size)
    checked = check_emails(emails)
    if digests is None:
        digests = chunk_digests(checked, batch_size)
    batched = batch_size > 1
    chunks = tuple(
        Chunk(
            index,
            start,
            tuple(checked[start : start + batch_size]),
            f"{run_id}-{index}-{digest}",
            batched,
        )
        for index, (start, digest) in enumerate(
            zip(range(0, len(checked), batch_size), digests, strict=True)
        )
    )
    fingerprint = hashlib.sha256(
        "\n".join(
            [f"{len(checked)} emails, {batch_size} per request", *(c.key for c in chunks)]
        ).encode("ascii")
    ).hexdigest()
    return SendManyPlan(run_id, batch_size, len(checked), chunks, fingerprint)


# -- the requests --------------------------------------------------------------------------


def _expects_results(count: int) -> Callable[[Any], str | None]:
    """A check that a batch answered one ``data`` entry per email it was sent."""

    def check(answer: Mapping[str, Any]) -> str | None:
        data = as_list(answer.get("data"))
        if data is None:
            return f"no data list, where {count} results were promised"
        if len(data) != count or not all(as_mapping(entry) is not None for entry in data):
            return f"{len(data)} results for {count} emails"
        return None

    return check


def _expects_id(answer: Mapping[str, Any]) -> str | None:
    email_id = answer.get("id")
    return None if isinstance(email_id, str) and email_id else "no email id"


def chunk_operation(
    chunk: Chunk, lo: int = 0, hi: int | None = None, *, timeout: float | None = None
) -> Operation[Any]:
    """The request for ``chunk.emails[lo:hi]`` (the whole chunk by default).

    A part of a chunk has a key of its own, ``{chunk key}/{lo}-{hi}``: a
    part is another request, and a rerun splits the same way.
    """
    if hi is None:
        hi = len(chunk.emails)
    key = chunk.key if (lo, hi) == (0, len(chunk.emails)) else f"{chunk.key}/{lo}-{hi}"
    if not chunk.batched:
        return _post("/emails", chunk.emails[0], key, timeout, _expects_id)
    return _post(
        "/emails/batch",
        {"emails": list(chunk.emails[lo:hi])},
        key,
        timeout,
        _expects_results(hi - lo),
    )


def _post(
    path: str,
    body: Any,
    key: str,
    timeout: float | None,
    check: Callable[[Any], str | None] | None = None,
) -> Operation[Any]:
    return Operation(
        "POST",
        path,
        body=body,
        timeout=check_timeout(timeout),
        idempotency_key=check_idempotency_key(key),
        check=check,
    )


def manifest_operation(plan: SendManyPlan, *, timeout: float | None = None) -> Operation[Any]:
    """The request that registers ``plan`` under ``{run_id}-plan`` (it sends no email).

    A draft scored for spam, whose text names the plan's fingerprint; the
    sender and first recipient of the first email make it a well-formed
    draft. The same plan sends the same body, a changed one a different body
    under the same key, which the API answers with a 409.
    """
    first = plan.chunks[0].emails[0]
    body: dict[str, Any] = {}
    sender = first.get("from")
    if isinstance(sender, str):
        body["from"] = sender
    recipients = as_list(first.get("to"))
    if recipients and isinstance(recipients[0], str):
        body["to"] = recipients[:1]
    body["subject"] = f"poststack send_many run {plan.run_id}"
    body["text"] = (
        f"Plan {plan.fingerprint}: {plan.total} emails in {len(plan.chunks)} requests "
        f"of up to {plan.batch_size}."
    )
    return _post("/emails/spam-preview", body, f"{plan.run_id}-plan", timeout)

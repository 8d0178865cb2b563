"""What the job-queue integrations share: job keys, retry waits, one client per process.

Celery, RQ, arq and Dramatiq each deliver a job *at least once*: a worker that
dies mid-send leaves the job to be run again, and a retried job runs again.
Every integration therefore makes the same three decisions, and they live
here, once:

- **The Idempotency-Key of a job** (:func:`job_key`, :func:`send_key`): the
  payload's own ``idempotency_key`` when it has one, else one made from the
  job's identity (``rq-<job id>``, ``arq-<job id>``, ``dramatiq-<message
  id>``, ``celery-<task id>``), which each library keeps across retries,
  redeliveries and crashes. PostStack answers a repeated key with the first
  send's result instead of sending again.
- **Whether and when to run a failed job again** (:class:`JobRetries`): only
  when the error says so itself (``error.retryable``: no response at all, a
  5xx, a 408, a throttling 429, a garbled 2xx), after ``Retry-After`` when the
  API sent one, else after an exponential, jittered backoff. The queue's own
  retry mechanism carries it out.
- **One client per worker process** (:class:`ProcessClient`), made on first
  use, which is after any fork: prefork pools, RQ's work horses and
  Dramatiq's worker processes never share a parent's connections. Each
  integration keeps its clients in one :class:`ClientSet` and closes them
  all in its library's shutdown hook.

A bulk run travels as chunk jobs (:func:`chunk_job`, :func:`chunk_from_job`):
each chunk of a :func:`~poststack_core.plan_send_many` plan carries its own
deterministic key, so a redelivered chunk is answered from the API's
idempotency store; :func:`chunk_outcome` turns the chunk's result into what
the job returns, or the error it fails (or is retried) with.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import random
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypedDict, TypeVar, cast

from poststack import AsyncPostStack, PostStack, PostStackError, SendManyError, SendManyResult
from poststack.contrib._config import client_options
from poststack.types import SendEmailParams
from poststack_core import Chunk, SendManyPlan, idempotency_key_from, plan_send_many
from poststack_core.endpoints import emails as email_endpoints

__all__ = [
    "DEFAULT_BACKOFF",
    "DEFAULT_BACKOFF_MAX",
    "DEFAULT_MAX_RETRIES",
    "ChunkDone",
    "ClientSet",
    "JobRetries",
    "ProcessClient",
    "async_client_from_environment",
    "check_payload",
    "chunk_from_job",
    "chunk_job",
    "chunk_job_id",
    "chunk_outcome",
    "client_from_environment",
    "job_key",
    "plan_chunks",
    "random_key",
    "retry_delay",
    "send_key",
]

C = TypeVar("C")

DEFAULT_MAX_RETRIES = 12
"""Re-runs after temporary failures: with the default backoff, about an hour of trying."""

DEFAULT_BACKOFF = 2.0
DEFAULT_BACKOFF_MAX = 600.0

# A job id that is short visible ASCII reads as it is in the key (and in the
# sandbox, and in logs); any other id is hashed, so the key is always valid.
_READABLE_ID = re.compile(r"[!-~]{1,200}")
# RQ accepts letters, digits, "_" and "-" in job ids; arq and Dramatiq accept more.
_JOB_ID_SAFE = re.compile(r"[A-Za-z0-9_-]{1,200}")


# -- keys ----------------------------------------------------------------------------------


def job_key(queue: str, job_id: str) -> str:
    """The Idempotency-Key of every run of one job: ``<queue>-<job id>``.

    An id that is not short, printable ASCII (arq and Celery take any string)
    is replaced by its SHA-256, so the key is still stable and always valid.
    """
    if _READABLE_ID.fullmatch(job_id):
        return f"{queue}-{job_id}"
    return f"{queue}-sha256-{hashlib.sha256(job_id.encode('utf-8', 'surrogatepass')).hexdigest()}"


def send_key(payload: Mapping[str, Any], job: str) -> str:
    """The key of a send: the payload's own ``idempotency_key``, else the job's key.

    A payload's own key (``f"receipt-{order.id}"``) also de-duplicates two
    different jobs queued for the same business event.
    """
    own = payload.get("idempotency_key")
    return own if isinstance(own, str) and own else job


def random_key() -> str:
    """A fresh key, for a job function called directly rather than run by a worker."""
    return idempotency_key_from(os.urandom(16))


def check_payload(payload: object, key: str | None = None) -> SendEmailParams:
    """``payload`` as an email to send, or a clear error before it is queued.

    It gets the checks ``emails.send`` gives it (a dict, sound attachments,
    a valid key) and must be JSON, which is what the API takes: a payload
    that is neither fails here, in the caller, instead of in a worker later.
    """
    if not isinstance(payload, Mapping):
        raise TypeError(f"payload must be a dict (an email), got {type(payload).__name__}")
    typed = cast("SendEmailParams", payload)
    own: object = typed.get("idempotency_key")
    if own is not None and not (isinstance(own, str) and own):
        raise TypeError(f"payload['idempotency_key'] must be a non-empty str, got {own!r}")
    email_endpoints.send(typed, idempotency_key=send_key(typed, key) if key else own)
    try:
        json.dumps(payload, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"payload must be JSON (what the API takes): {exc}") from None
    return typed


# -- retries -------------------------------------------------------------------------------


def retry_delay(
    error: PostStackError,
    retries: int,
    *,
    backoff: float = DEFAULT_BACKOFF,
    backoff_max: float = DEFAULT_BACKOFF_MAX,
    rng: Callable[[], float] = random.random,
) -> float | None:
    """Seconds to wait before running the job again, or ``None`` to give up.

    Whether to try again is the error's own answer (``error.retryable``, the
    client's retry policy), never decided here. ``retries`` is how many times
    the job was already retried. The wait is ``backoff * 2**retries`` capped
    at ``backoff_max``, jittered down by up to half; a ``Retry-After`` sent by
    the API is used as it is.
    """
    if not error.retryable:
        return None
    if error.retry_after is not None:
        return error.retry_after
    ceiling = min(backoff_max, backoff * 2.0 ** min(retries, 64))
    return ceiling / 2 + ceiling / 2 * rng()


@dataclass(frozen=True, slots=True)
class JobRetries:
    """How a job that sends through PostStack runs again: how many times, after how long.

    ``max_retries`` re-runs after temporary failures (12 with the default
    backoff: about an hour; ``None`` where the queue counts them itself, as
    arq's ``max_tries`` does); ``backoff`` and ``backoff_max`` shape the waits
    (see :func:`retry_delay`).
    """

    max_retries: int | None = DEFAULT_MAX_RETRIES
    backoff: float = DEFAULT_BACKOFF
    backoff_max: float = DEFAULT_BACKOFF_MAX

    def __post_init__(self) -> None:
        if self.max_retries is None:
            pass
        elif isinstance(self.max_retries, bool) or not isinstance(self.max_retries, int):
            raise TypeError(f"max_retries must be an int, got {type(self.max_retries).__name__}")
        elif self.max_retries < 0:
            raise ValueError(f"max_retries must not be negative, got {self.max_retries}")
        for name in ("backoff", "backoff_max"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"{name} must be a number of seconds, got {type(value).__name__}")
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
        if self.backoff_max < self.backoff:
            raise ValueError(
                f"backoff_max ({self.backoff_max}) must not be less than backoff ({self.backoff})"
            )

    def delay(
        self, error: PostStackError, retries: int, rng: Callable[[], float] = random.random
    ) -> float | None:
        """Seconds until the next run after ``error``, or ``None``: fail the job now.

        ``None`` when the error is final, or when ``retries`` re-runs were
        already spent.
        """
        if self.max_retries is not None and retries >= self.max_retries:
            return None
        return retry_delay(
            error, retries, backoff=self.backoff, backoff_max=self.backoff_max, rng=rng
        )


# -- clients -------------------------------------------------------------------------------


def client_from_environment() -> PostStack:
    """A worker's client, configured by its environment: ``POSTSTACK_API_KEY``,
    ``POSTSTACK_BASE_URL``, ``POSTSTACK_TIMEOUT``, ``POSTSTACK_MAX_RETRIES`` and
    ``POSTSTACK_ALLOW_INSECURE_HTTP``."""
    return PostStack(**client_options(os.environ.get, "the environment"))


def async_client_from_environment() -> AsyncPostStack:
    """The asyncio twin of :func:`client_from_environment` (for arq)."""
    return AsyncPostStack(**client_options(os.environ.get, "the environment"))


class ProcessClient(Generic[C]):
    """One client per process, made on first use and shared by the process's threads.

    A forked child (a prefork pool, an RQ work horse, a Dramatiq worker
    process) never uses its parent's client: it forgets it at the fork and
    makes its own, so no socket and no lock is shared across processes.
    :meth:`release` hands the process's client over for closing.
    """

    def __init__(self, factory: Callable[[], C]) -> None:
        self._factory = factory
        self._lock = threading.Lock()
        self._client: C | None = None
        self._pid = 0
        # The parent's client stays the parent's: closing it in the child would
        # end connections the parent still uses. A lock another thread held at
        # the fork would never be released in the child, so it is replaced.
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        self._lock = threading.Lock()
        self._client = None
        self._pid = 0

    def get(self) -> C:
        """This process's client, made now if it has none."""
        client = self._client
        if client is not None and self._pid == os.getpid():
            return client
        with self._lock:
            if self._client is None or self._pid != os.getpid():
                self._client = self._factory()
                self._pid = os.getpid()
            return self._client

    def release(self) -> C | None:
        """Forget this process's client and return it (to be closed), or None if it has none."""
        with self._lock:
            client, self._client = self._client, None
            mine = self._pid == os.getpid()
        return client if mine else None


class ClientSet(Generic[C]):
    """An integration's clients: the default :class:`ProcessClient` and one per factory.

    :meth:`of` gives a job its ProcessClient and remembers it; the
    integration's shutdown hook closes what :meth:`release_all` hands over,
    so a job with its own ``client_factory`` has its client closed too.
    """

    def __init__(self, default: Callable[[], C]) -> None:
        self.default = ProcessClient(default)
        self._every = [self.default]
        self._lock = threading.Lock()
        os.register_at_fork(after_in_child=self._new_lock)

    def _new_lock(self) -> None:
        self._lock = threading.Lock()

    def of(self, factory: Callable[[], C] | None) -> ProcessClient[C]:
        """The ProcessClient for ``factory`` (None: the default one)."""
        if factory is None:
            return self.default
        clients = ProcessClient(factory)
        with self._lock:
            self._every.append(clients)
        return clients

    def release_all(self) -> list[C]:
        """This process's clients, every one, forgotten here and handed over to be closed."""
        with self._lock:
            every = list(self._every)
        return [client for clients in every if (client := clients.release()) is not None]


# -- bulk runs as chunk jobs ---------------------------------------------------------------


class ChunkDone(TypedDict):
    """What a chunk job returns: the chunk's key, where its emails start, and their ids."""

    key: str
    start: int
    ids: list[str]


def plan_chunks(emails: Sequence[SendEmailParams], *, run_id: str, batch_size: int) -> SendManyPlan:
    """The chunks a bulk run is queued as (every email checked first, nothing sent)."""
    plan = plan_send_many(emails, run_id=run_id, batch_size=batch_size)
    for chunk in plan.chunks:
        try:
            json.dumps(chunk_job(chunk), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"emails[{chunk.start}:{chunk.start + len(chunk.emails)}] must be JSON "
                f"(what the API takes): {exc}"
            ) from None
    return plan


def chunk_job(chunk: Chunk) -> dict[str, Any]:
    """A chunk as a chunk job's argument: plain data, JSON as well as pickle."""
    fields = dataclasses.asdict(chunk)
    fields["emails"] = [dict(email) for email in chunk.emails]
    return fields


def chunk_from_job(fields: object) -> Chunk:
    """The chunk a chunk job was given (see :func:`chunk_job`), or a clear error."""
    if not isinstance(fields, Mapping):
        raise TypeError(f"a chunk job takes a chunk's fields (a dict), got {type(fields).__name__}")
    names = {field.name for field in dataclasses.fields(Chunk)}
    given = cast("Mapping[str, Any]", fields)
    if set(given) != names:
        raise ValueError(f"a chunk job takes the fields {sorted(names)}, got {sorted(given)}")
    return Chunk(**given)


def chunk_job_id(queue: str, chunk: Chunk) -> str:
    """A chunk job's own id, made from its key: queuing the same run again adds no job.

    Letters, digits, ``_`` and ``-`` only (what RQ accepts); any other key is hashed.
    """
    name = f"{queue}-chunk-{chunk.key}"
    if _JOB_ID_SAFE.fullmatch(name):
        return name
    return f"{queue}-chunk-{hashlib.sha256(chunk.key.encode('ascii')).hexdigest()}"


def chunk_outcome(chunk: Chunk, result: SendManyResult) -> ChunkDone:
    """What a chunk job returns when every email was sent; else the error it fails with.

    The :class:`~poststack.SendManyError` raised carries the whole result. It
    is ``retryable`` when an email that was not sent may go through if the
    chunk runs again (its error is itself retryable), with the longest
    ``Retry-After`` among those; running it again sends nothing twice, since
    the emails that were sent are answered from the API's idempotency store.
    """
    if result.ok:
        return ChunkDone(key=chunk.key, start=chunk.start, ids=[i for i in result.ids if i])
    error = SendManyError(result)
    worth_retrying = [
        r.error for r in result.failures() if r.error is not None and r.error.retryable
    ]
    error.retryable = bool(worth_retrying)
    if worth_retrying:
        waits = [e.retry_after for e in worth_retrying if e.retry_after is not None]
        error.retry_after = max(waits) if waits else None
    raise error

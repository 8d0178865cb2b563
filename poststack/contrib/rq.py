"""RQ: a ``send_email`` job that retries safely and never sends twice.

::

    from redis import Redis
    from rq import Queue
    from poststack.contrib.rq import enqueue_email

    queue = Queue("mail", connection=Redis())
    enqueue_email(queue, {"from": "hello@yourdomain.com", "to": ["a@example.com"],
                          "subject": "Hi", "text": "Hello"})

Run workers with the key in their environment, and RQ's scheduler (it runs
the delayed retries): ``POSTSTACK_API_KEY=sk_live_... rq worker mail --with-scheduler``.

Theory of operation
-------------------
RQ runs a job *at least once*. A job is run again when it asks to be
(below), when its work horse dies mid-send (RQ's ``Worker`` forks one horse
per job, and the worker re-queues the job of a horse that was killed) and
when its whole worker dies (another worker finds the job abandoned). Every
run of one job sends with the same ``Idempotency-Key``, ``rq-<job id>``
(the payload's own ``idempotency_key`` when it has one); PostStack answers a
repeated key with the first send's result instead of sending again.

Temporary failures are retried through RQ's own retry: the job *returns* an
``rq.Retry`` whose interval is ``Retry-After`` when the API sent one, else an
exponential, jittered backoff (:class:`~poststack.contrib._jobs.JobRetries`).
Whether a failure is temporary is the error's own answer (``retryable``: no
response, a 5xx, a 408, a throttling 429); anything else (a 400, 401, 403,
404, 409, 422, a quota 429) fails the job at once, and then also spends no
crash retry on it. Crash re-runs need ``retry=Retry(max=...)`` on the job,
which :func:`enqueue_email` and :func:`enqueue_send_many` set.

The client is made in the process that runs the job, from its environment
(``POSTSTACK_API_KEY``, ``POSTSTACK_BASE_URL``, ...), never sent through
Redis: under ``Worker`` that is the work horse, forked for the job (so each
job has a client of its own, gone with the horse); under ``SimpleWorker``
one client serves every job of the process and is closed at exit.
"""

from __future__ import annotations

import atexit
import functools
import math
from collections.abc import Callable, Sequence
from typing import Any, Concatenate, ParamSpec, TypeVar, overload

from rq import Queue, Retry, get_current_job
from rq.exceptions import DuplicateJobError
from rq.job import Job

from poststack import PostStack, PostStackError
from poststack.contrib._jobs import (
    DEFAULT_BACKOFF,
    DEFAULT_BACKOFF_MAX,
    DEFAULT_MAX_RETRIES,
    ChunkDone,
    ClientSet,
    JobRetries,
    check_payload,
    chunk_from_job,
    chunk_job,
    chunk_job_id,
    chunk_outcome,
    client_from_environment,
    job_key,
    plan_chunks,
    random_key,
    send_key,
)
from poststack.types import SendEmailParams, SendEmailResponse
from poststack_core import BATCH_LIMIT

__all__ = [
    "CRASH_RETRIES",
    "enqueue_email",
    "enqueue_send_many",
    "send_chunk",
    "send_email",
    "with_poststack",
]

P = ParamSpec("P")
R = TypeVar("R")

CRASH_RETRIES = 3
"""Re-runs of a job whose horse or worker died (``retry=Retry(max=CRASH_RETRIES)``)."""


_clients = ClientSet(client_from_environment)


@atexit.register
def _close_at_exit() -> None:
    # A SimpleWorker's process ends normally; a work horse ends with os._exit and
    # skips this, its connections closing with it.
    for client in _clients.release_all():
        client.close()


@overload
def with_poststack(
    fn: Callable[Concatenate[PostStack, str, P], R], /
) -> Callable[P, R | Retry]: ...
@overload
def with_poststack(
    *,
    max_retries: int = ...,
    backoff: float = ...,
    backoff_max: float = ...,
    client_factory: Callable[[], PostStack] | None = ...,
) -> Callable[[Callable[Concatenate[PostStack, str, P], R]], Callable[P, R | Retry]]: ...
def with_poststack(
    fn: Callable[Concatenate[PostStack, str, P], R] | None = None,
    /,
    *,
    max_retries: int = DEFAULT_MAX_RETRIES,
    backoff: float = DEFAULT_BACKOFF,
    backoff_max: float = DEFAULT_BACKOFF_MAX,
    client_factory: Callable[[], PostStack] | None = None,
) -> (
    Callable[P, R | Retry]
    | Callable[[Callable[Concatenate[PostStack, str, P], R]], Callable[P, R | Retry]]
):
    """Make ``fn`` an RQ job that sends through PostStack: it gets a client and a key.

    ``fn(client, idempotency_key, *args, **kwargs)`` is enqueued and called
    as ``fn(*args, **kwargs)``: the worker passes its process's
    :class:`~poststack.PostStack` and the job's key, ``rq-<job id>``, the same
    on every run of the job (derive one per send, ``f"{key}-welcome"``, when
    a job sends more than once). A :class:`~poststack.PostStackError` that
    says it is ``retryable`` re-runs the job (an ``rq.Retry`` is returned)
    after ``Retry-After`` or the backoff, up to ``max_retries`` times; any
    other fails the job at once. ``client_factory`` makes the client
    (default: from the worker's environment). Called outside a worker, the
    function runs with a fresh key and raises instead of retrying.
    """
    retries = JobRetries(max_retries, backoff, backoff_max)
    clients = _clients.of(client_factory)

    def decorate(fn: Callable[Concatenate[PostStack, str, P], R]) -> Callable[P, R | Retry]:
        @functools.wraps(fn)
        def job_function(*args: P.args, **kwargs: P.kwargs) -> R | Retry:
            job = get_current_job()
            key = job_key("rq", job.id) if job is not None else random_key()
            try:
                return fn(clients.get(), key, *args, **kwargs)
            except PostStackError as error:
                if job is None:
                    raise
                delay = retries.delay(error, job.number_of_retries or 0)
                if delay is None:
                    # Final: the crash re-runs of retry=Retry(...) must not send it again.
                    job.retries_left = 0
                    raise
                # RQ counts these re-runs itself (job.number_of_retries); the interval
                # is whole seconds, and a wait of 0 re-queues at once.
                return Retry(max=max_retries, interval=math.ceil(delay))

        return job_function

    return decorate if fn is None else decorate(fn)


@with_poststack
def send_email(client: PostStack, key: str, payload: SendEmailParams) -> SendEmailResponse:
    """Send one email through PostStack, idempotently (poststack.contrib.rq).

    Enqueue it with :func:`enqueue_email` (or ``queue.enqueue(send_email,
    payload, retry=Retry(max=3))``). Returns the API's answer, ``{"id": "em_…"}``.
    """
    return client.emails.send(payload, idempotency_key=send_key(payload, key))


@with_poststack
def send_chunk(client: PostStack, key: str, chunk: dict[str, Any]) -> ChunkDone:
    """Send one chunk of a bulk run (see :func:`enqueue_send_many`).

    The chunk's own key (made from the run id, its position and its emails)
    makes a redelivered chunk safe. A chunk whose emails were not all sent
    raises :class:`~poststack.SendManyError`, and is re-run while an email
    that was not sent may still go through.
    """
    sent = chunk_from_job(chunk)
    return chunk_outcome(sent, client.emails.send_chunk(sent))


def _crash_retry(options: dict[str, Any]) -> None:
    options.setdefault("retry", Retry(max=CRASH_RETRIES))


def enqueue_email(queue: Queue, payload: SendEmailParams, **options: Any) -> Job:
    """Check ``payload`` and enqueue :func:`send_email` for it; return the job.

    A payload that is not an email (not a dict, not JSON, bad attachments, a
    bad ``idempotency_key``) fails here, before anything is queued. Other
    keywords are RQ's enqueue options (``job_id``, ``job_timeout``,
    ``result_ttl``, ``at_front``, ...). ``retry`` defaults to
    ``Retry(max=CRASH_RETRIES)``: re-runs for a horse or a worker that died.
    """
    job_id = options.get("job_id")
    check_payload(payload, job_key("rq", job_id) if isinstance(job_id, str) else None)
    _crash_retry(options)
    # RQ leaves enqueue's *args and **kwargs unannotated (pyright: partially unknown).
    return queue.enqueue(send_email, payload, **options)  # pyright: ignore[reportUnknownMemberType]


def enqueue_send_many(
    queue: Queue,
    emails: Sequence[SendEmailParams],
    *,
    run_id: str,
    batch_size: int = BATCH_LIMIT,
    **options: Any,
) -> list[Job]:
    """Queue a bulk run as one :func:`send_chunk` job per chunk; return the jobs.

    The emails are cut into chunks of ``batch_size`` (one request each) with
    deterministic keys made from ``run_id`` (see ``emails.send_many``), so a
    chunk that runs twice is answered from the API's idempotency store. Each
    job's id is made from its chunk's key: queuing the same run again (after
    the process that queued it crashed half-way) adds no job, and returns
    those already queued. Every email is checked before anything is queued.
    """
    plan = plan_chunks(emails, run_id=run_id, batch_size=batch_size)
    _crash_retry(options)
    jobs: list[Job] = []
    for chunk in plan.chunks:
        job_id = chunk_job_id("rq", chunk)
        # RQ leaves enqueue's and fetch's **kwargs unannotated (pyright: partially unknown).
        try:
            jobs.append(
                queue.enqueue(  # pyright: ignore[reportUnknownMemberType]
                    send_chunk, chunk_job(chunk), job_id=job_id, unique=True, **options
                )
            )
        except DuplicateJobError:
            jobs.append(
                Job.fetch(job_id, connection=queue.connection)  # pyright: ignore[reportUnknownMemberType]
            )
    return jobs

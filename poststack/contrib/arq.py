"""arq: a ``send_email`` coroutine that retries safely and never sends twice.

::

    from arq import func
    from arq.connections import RedisSettings
    from poststack.contrib.arq import send_email, shutdown, startup

    class WorkerSettings:
        functions = [func(send_email, max_tries=13)]
        on_startup = startup
        on_shutdown = shutdown
        redis_settings = RedisSettings()

and, anywhere with a connection to Redis,
``await enqueue_email(redis, {"from": ..., "to": [...], "subject": ..., "text": ...})``.

Theory of operation
-------------------
arq runs a job *at least once*: a worker that dies mid-send leaves the job in
its queue, and another worker runs it once the job's in-progress mark expires
(``job_timeout`` + 10 seconds); a retried job runs again. Every run of one job
sends with the same ``Idempotency-Key``, ``arq-<job id>`` (``ctx["job_id"]``,
or the payload's own ``idempotency_key``); PostStack answers a repeated key
with the first send's result instead of sending again.

Temporary failures are retried through arq's own mechanism: the job raises
``arq.worker.Retry(defer=...)``, the wait being ``Retry-After`` when the API
sent one, else an exponential, jittered backoff over ``ctx["job_try"]``.
Whether a failure is temporary is the error's own answer (``retryable``: no
response, a 5xx, a 408, a throttling 429); anything else (a 400, 401, 403,
404, 409, 422, a quota 429) fails the job at once. arq bounds the runs of a
job with ``max_tries`` (5 by default, crash re-runs included): give
``send_email`` 13 for about an hour of retrying.

The worker's client (an :class:`~poststack.AsyncPostStack`, shared by its
concurrent jobs) is made from its environment (``POSTSTACK_API_KEY``,
``POSTSTACK_BASE_URL``, ...), never sent through Redis: by :func:`startup`,
so that a missing key stops the worker at once, or on first use; and closed
by :func:`shutdown`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar, cast, overload

from arq.connections import ArqRedis
from arq.jobs import Job
from arq.worker import Retry

from poststack import AsyncPostStack, PostStackError
from poststack.contrib._jobs import (
    DEFAULT_BACKOFF,
    DEFAULT_BACKOFF_MAX,
    ChunkDone,
    ClientSet,
    JobRetries,
    async_client_from_environment,
    check_payload,
    chunk_from_job,
    chunk_job,
    chunk_job_id,
    chunk_outcome,
    job_key,
    plan_chunks,
    random_key,
    send_key,
)
from poststack.types import SendEmailParams, SendEmailResponse
from poststack_core import BATCH_LIMIT

__all__ = [
    "enqueue_email",
    "enqueue_send_many",
    "send_chunk",
    "send_email",
    "shutdown",
    "startup",
    "with_poststack",
]

P = ParamSpec("P")
R = TypeVar("R")

Context = dict[Any, Any]
"""The ``ctx`` arq passes every job and hook."""

_logger = logging.getLogger("poststack")

_clients = ClientSet(async_client_from_environment)
"""Every job's clients, the default and each ``client_factory``'s: :func:`shutdown` closes them."""


async def startup(ctx: Context) -> None:
    """An ``on_startup`` hook: make the worker's client now (a missing key fails here).

    Call it from your own hook if you have one: ``await poststack_startup(ctx)``.
    """
    _clients.default.get()


async def shutdown(ctx: Context) -> None:
    """An ``on_shutdown`` hook: close the worker's clients and their connections."""
    for client in _clients.release_all():
        await client.aclose()


UserJob = Callable[Concatenate[Context, AsyncPostStack, str, P], Awaitable[R]]
R_co = TypeVar("R_co", covariant=True)


class Job_(Protocol[R_co]):
    """A job function for arq: a named coroutine function taking ``ctx`` first.

    What ``functions=[...]`` and ``arq.func`` take (arq lists it by
    ``__qualname__``); arq passes it the arguments a job was enqueued with, by
    name, so they are not typed here.
    """

    __name__: str
    __qualname__: str

    async def __call__(self, ctx: Context, *args: Any, **kwargs: Any) -> R_co: ...


@overload
def with_poststack(fn: UserJob[P, R], /) -> Job_[R]: ...
@overload
def with_poststack(
    *,
    backoff: float = ...,
    backoff_max: float = ...,
    client_factory: Callable[[], AsyncPostStack] | None = ...,
) -> Callable[[UserJob[P, R]], Job_[R]]: ...
def with_poststack(
    fn: UserJob[P, R] | None = None,
    /,
    *,
    backoff: float = DEFAULT_BACKOFF,
    backoff_max: float = DEFAULT_BACKOFF_MAX,
    client_factory: Callable[[], AsyncPostStack] | None = None,
) -> Job_[R] | Callable[[UserJob[P, R]], Job_[R]]:
    """Make ``fn`` an arq job that sends through PostStack: it gets a client and a key.

    ``async def fn(ctx, client, idempotency_key, *args, **kwargs)`` is listed
    in ``functions=[...]`` and enqueued with ``*args, **kwargs``: the worker
    passes its :class:`~poststack.AsyncPostStack` and the job's key,
    ``arq-<job id>``, the same on every run of the job (derive one per send,
    ``f"{key}-welcome"``, when a job sends more than once). A
    :class:`~poststack.PostStackError` that says it is ``retryable`` raises
    ``arq.worker.Retry`` with the wait (``Retry-After``, else the backoff);
    any other fails the job. arq's ``max_tries`` bounds the runs.
    ``client_factory`` makes the client (default: from the worker's
    environment, the client :func:`startup` makes); :func:`shutdown` closes
    it either way.
    """
    # arq counts the tries (max_tries): no limit of ours on top of it.
    retries = JobRetries(None, backoff, backoff_max)
    clients = _clients.of(client_factory)

    def decorate(fn: UserJob[P, R]) -> Job_[R]:
        @functools.wraps(fn)
        async def job(ctx: Context, *args: P.args, **kwargs: P.kwargs) -> R:
            job_id = ctx.get("job_id")
            key = job_key("arq", job_id) if isinstance(job_id, str) else random_key()
            try:
                return await fn(ctx, clients.get(), key, *args, **kwargs)
            except PostStackError as error:
                tries = ctx.get("job_try")
                if not isinstance(tries, int):
                    raise  # not run by a worker: nothing would retry it
                delay = retries.delay(error, tries - 1)
                if delay is None:
                    raise
                _logger.warning(
                    "arq job %s: %s; retrying in %.1f s (try %d)", job_id, error, delay, tries
                )
                raise Retry(defer=delay) from error

        # functools.wraps gave it fn's __name__ and __qualname__, which arq lists it by.
        return cast("Job_[R]", job)

    return decorate if fn is None else decorate(fn)


@with_poststack
async def send_email(
    ctx: Context, client: AsyncPostStack, key: str, payload: SendEmailParams
) -> SendEmailResponse:
    """Send one email through PostStack, idempotently (poststack.contrib.arq).

    List it in ``functions=[...]`` and enqueue it with :func:`enqueue_email`
    (or ``redis.enqueue_job("send_email", payload)``). Returns the API's
    answer, ``{"id": "em_…"}``.
    """
    return await client.emails.send(payload, idempotency_key=send_key(payload, key))


@with_poststack
async def send_chunk(
    ctx: Context, client: AsyncPostStack, key: str, chunk: dict[str, Any]
) -> ChunkDone:
    """Send one chunk of a bulk run (see :func:`enqueue_send_many`).

    The chunk's own key (made from the run id, its position and its emails)
    makes a redelivered chunk safe. A chunk whose emails were not all sent
    raises :class:`~poststack.SendManyError`, and is retried while an email
    that was not sent may still go through.
    """
    sent = chunk_from_job(chunk)
    return chunk_outcome(sent, await client.emails.send_chunk(sent))


async def enqueue_email(redis: ArqRedis, payload: SendEmailParams, **options: Any) -> Job | None:
    """Check ``payload`` and enqueue :func:`send_email` for it; return the job.

    A payload that is not an email (not a dict, not JSON, bad attachments, a
    bad ``idempotency_key``) fails here, before anything is queued. Other
    keywords are arq's (``_job_id``, ``_defer_by``, ``_queue_name``, ...);
    like ``enqueue_job``, it returns None when a job with that ``_job_id``
    is already queued or done.
    """
    job_id = options.get("_job_id")
    check_payload(payload, job_key("arq", job_id) if isinstance(job_id, str) else None)
    return await redis.enqueue_job(send_email.__name__, payload, **options)


async def enqueue_send_many(
    redis: ArqRedis,
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
    jobs: list[Job] = []
    for chunk in plan.chunks:
        job_id = chunk_job_id("arq", chunk)
        queued = await redis.enqueue_job(
            send_chunk.__name__, chunk_job(chunk), _job_id=job_id, **options
        )
        queue = options.get("_queue_name") or redis.default_queue_name
        jobs.append(queued or Job(job_id, redis, _queue_name=queue))
    return jobs

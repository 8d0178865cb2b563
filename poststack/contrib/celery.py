"""Celery: a ``send_email`` task that retries safely and never sends twice.

::

    from celery import Celery
    from poststack.contrib.celery import register

    app = Celery("proj", broker="redis://localhost:6379/0")
    send_email = register(app)          # the task "poststack.send_email"

    send_email.delay({"from": "hello@yourdomain.com", "to": ["a@example.com"],
                      "subject": "Hi", "text": "Hello"})

Theory of operation
-------------------
Celery delivers a task *at least once*: a worker that dies mid-send leaves the
message unacknowledged and the broker hands it out again, and a retried task
runs again. Every run of one task therefore sends with the same
``Idempotency-Key``, derived from the task id (``celery-<task id>``), which
Celery keeps across redelivery and ``retry``; PostStack answers a repeated key
with the first send's result instead of sending again. A payload that carries
its own ``idempotency_key`` (say ``f"receipt-{order.id}"``) uses that instead,
which also de-duplicates two different tasks for the same business event.

The task is ``acks_late`` (acknowledged only after it ran, so a killed worker's
task is redelivered) and ``reject_on_worker_lost``. The key is read from the
environment (``$POSTSTACK_API_KEY``, ``$POSTSTACK_BASE_URL``) inside the
worker, never put in the message; each worker process builds one client on
first use and shares it between its threads.

Failures: the client first retries quickly on its own (``max_retries`` of the
client, default 3). If the call still fails, the task is re-queued with
exponential backoff (``backoff * 2**n`` seconds, capped at ``backoff_max``,
with jitter; a ``Retry-After`` from the API wins) when the error says it is
``retryable``: no response at all, a 5xx, a 408, a 429 that is throttling
rather than a quota, or a 2xx whose body was garbled. Anything else (400, 401,
403, 404, 409, 422, quota 429s: ``error.is_quota``) fails the task at once:
sending it again cannot help.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from celery import Celery, Task
from celery.signals import worker_process_shutdown, worker_shutdown

from poststack import PostStack, PostStackError
from poststack.contrib._jobs import (
    ClientSet,
    client_from_environment,
    job_key,
    retry_delay,
    send_key,
)
from poststack.types import SendEmailParams, SendEmailResponse

if TYPE_CHECKING:
    SendEmailTask = Task[[SendEmailParams], SendEmailResponse]
else:
    SendEmailTask = Task

__all__ = [
    "DEFAULT_TASK_NAME",
    "SendEmailTask",
    "idempotency_key_for",
    "register",
    "retry_delay",
]

DEFAULT_TASK_NAME = "poststack.send_email"


def idempotency_key_for(payload: SendEmailParams, task_id: str | None) -> str | None:
    """The Idempotency-Key of a send: the payload's own key, else ``celery-<task id>``."""
    if not task_id:
        own = payload.get("idempotency_key")
        return own if isinstance(own, str) and own else None
    return send_key(payload, job_key("celery", task_id))


_clients = ClientSet(client_from_environment)
"""One client per worker process and factory, closed when the process or the worker shuts down."""


def _close_all(**kwargs: object) -> None:
    for client in _clients.release_all():
        client.close()


worker_process_shutdown.connect(_close_all, weak=False)
worker_shutdown.connect(_close_all, weak=False)


def register(
    app: Celery,
    *,
    name: str = DEFAULT_TASK_NAME,
    max_retries: int = 12,
    backoff: float = 2.0,
    backoff_max: float = 600.0,
    client_factory: Callable[[], PostStack] | None = None,
    **task_options: Any,
) -> SendEmailTask:
    """Register the send-email task on ``app`` and return it.

    The task takes one argument, the ``emails.send`` payload, and returns the
    API's answer (``{"id": "em_…"}``). ``max_retries`` bounds the re-queues
    after temporary failures (12 with the default backoff: about an hour);
    ``backoff`` and ``backoff_max`` shape their waits (see :func:`retry_delay`).
    ``client_factory`` builds the worker's :class:`~poststack.PostStack`
    (default: configured from the worker's environment, ``POSTSTACK_API_KEY``,
    ``POSTSTACK_BASE_URL``, ``POSTSTACK_TIMEOUT``, ``POSTSTACK_MAX_RETRIES``).
    Other keyword arguments are Celery task options (``rate_limit``,
    ``time_limit``, ...); route it to a queue with the ``task_routes`` setting.
    """
    clients = _clients.of(client_factory)

    def send_email(task: Task[Any, Any], payload: SendEmailParams) -> SendEmailResponse:
        key = idempotency_key_for(payload, task.request.id)
        try:
            return clients.get().emails.send(payload, idempotency_key=key)
        except PostStackError as error:
            delay = retry_delay(
                error, task.request.retries, backoff=backoff, backoff_max=backoff_max
            )
            if delay is None:
                raise
            raise task.retry(exc=error, countdown=delay) from error

    send_email.__doc__ = (
        "Send one email through PostStack, idempotently (poststack.contrib.celery)."
    )
    task_options.setdefault("acks_late", True)
    task_options.setdefault("reject_on_worker_lost", True)
    decorate = cast(
        "Callable[[Callable[..., SendEmailResponse]], SendEmailTask]",
        # shared=False: the task belongs to this app only, not to every app created later.
        app.task(name=name, bind=True, shared=False, max_retries=max_retries, **task_options),
    )
    return decorate(send_email)

"""Dramatiq: a ``send_email`` actor that retries safely and never sends twice.

::

    import dramatiq
    from dramatiq.brokers.redis import RedisBroker

    dramatiq.set_broker(RedisBroker(url="redis://localhost:6379/0"))

    from poststack.contrib.dramatiq import send_email   # declared on that broker

    send_email.send({"from": "hello@yourdomain.com", "to": ["a@example.com"],
                     "subject": "Hi", "text": "Hello"})

Run workers with the key in their environment:
``POSTSTACK_API_KEY=sk_live_... dramatiq yourapp.tasks``. Like any module that
declares actors, this one is imported after the broker is set: its actors are
declared on the broker that :func:`dramatiq.get_broker` returns then.

Theory of operation
-------------------
Dramatiq delivers a message *at least once*: the Redis broker acknowledges a
message only after its actor ran, and gives the messages of a worker that
died (its heartbeat stopped) to the others; a retried message runs again.
Every run of one message sends with the same ``Idempotency-Key``,
``dramatiq-<message id>`` (the payload's own ``idempotency_key`` when it has
one), which Dramatiq keeps across retries and redeliveries; PostStack
answers a repeated key with the first send's result instead of sending again.

Temporary failures are retried through Dramatiq's ``Retries`` middleware: the
actor raises ``dramatiq.Retry(delay=...)``, the wait being ``Retry-After``
when the API sent one, else an exponential, jittered backoff
(:class:`~poststack.contrib._jobs.JobRetries`). Whether a failure is
temporary is the error's own answer (``retryable``: no response, a 5xx, a
408, a throttling 429); anything else (a 400, 401, 403, 404, 409, 422, a
quota 429) is raised as it is and, being in the actor's ``throws``, fails the
message at once.

The client is made in the worker process that runs the actor, on first use
(the ``dramatiq`` command forks its worker processes: none uses its parent's
client), from its environment (``POSTSTACK_API_KEY``, ``POSTSTACK_BASE_URL``,
...), never sent through the broker; the process's threads share it, and
:class:`PostStackMiddleware` closes it when the worker shuts down. That
middleware also tells each actor which message it runs; declaring an actor
here adds it to the actor's broker.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable, Sequence
from typing import Any, Concatenate, ParamSpec, TypeVar, overload

import dramatiq
from dramatiq import Actor, Broker, Message, Middleware, Retry, Worker
from dramatiq.broker import MessageProxy

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
    "PostStackMiddleware",
    "enqueue_email",
    "enqueue_send_many",
    "send_chunk",
    "send_email",
    "with_poststack",
]

P = ParamSpec("P")
R = TypeVar("R")

# What fails a message at once instead of retrying it: a PostStackError that
# reaches Dramatiq is a final one (retryable ones become dramatiq.Retry), and a
# payload the SDK refuses (TypeError, ValueError) stays refused on every run.
_FINAL = (PostStackError, TypeError, ValueError)

_current: contextvars.ContextVar[MessageProxy | None] = contextvars.ContextVar(
    "poststack_dramatiq_message", default=None
)
_clients = ClientSet(client_from_environment)


class PostStackMiddleware(Middleware):
    """Tells PostStack's actors which message they run; closes the client at shutdown.

    Declaring an actor with :func:`with_poststack` adds one to the actor's
    broker when it has none, so there is nothing to add by hand.
    """

    def before_process_message(self, broker: Broker, message: MessageProxy) -> None:
        _current.set(message)

    def after_process_message(
        self,
        broker: Broker,
        message: MessageProxy,
        *,
        result: Any | None = None,
        exception: BaseException | None = None,
    ) -> None:
        _current.set(None)

    def after_skip_message(self, broker: Broker, message: MessageProxy) -> None:
        _current.set(None)

    def after_worker_shutdown(self, broker: Broker, worker: Worker) -> None:
        for client in _clients.release_all():
            client.close()


def _add_middleware(broker: Broker) -> None:
    """Add a PostStackMiddleware to ``broker`` unless it has one."""
    if not any(isinstance(middleware, PostStackMiddleware) for middleware in broker.middleware):
        broker.add_middleware(PostStackMiddleware())


def _message_key(message: MessageProxy | None) -> str:
    return job_key("dramatiq", message.message_id) if message is not None else random_key()


@overload
def with_poststack(fn: Callable[Concatenate[PostStack, str, P], R], /) -> Actor[P, R]: ...
@overload
def with_poststack(
    *,
    max_retries: int = ...,
    backoff: float = ...,
    backoff_max: float = ...,
    client_factory: Callable[[], PostStack] | None = ...,
    **actor_options: Any,
) -> Callable[[Callable[Concatenate[PostStack, str, P], R]], Actor[P, R]]: ...
def with_poststack(
    fn: Callable[Concatenate[PostStack, str, P], R] | None = None,
    /,
    *,
    max_retries: int = DEFAULT_MAX_RETRIES,
    backoff: float = DEFAULT_BACKOFF,
    backoff_max: float = DEFAULT_BACKOFF_MAX,
    client_factory: Callable[[], PostStack] | None = None,
    **actor_options: Any,
) -> Actor[P, R] | Callable[[Callable[Concatenate[PostStack, str, P], R]], Actor[P, R]]:
    """Make ``fn`` a Dramatiq actor that sends through PostStack: it gets a client and a key.

    ``fn(client, idempotency_key, *args, **kwargs)`` is sent and run as
    ``fn.send(*args, **kwargs)``: the worker passes its process's
    :class:`~poststack.PostStack` and the message's key, ``dramatiq-<message
    id>``, the same on every run of the message (derive one per send,
    ``f"{key}-welcome"``, when an actor sends more than once). A
    :class:`~poststack.PostStackError` that says it is ``retryable`` raises
    ``dramatiq.Retry`` with the wait (``Retry-After``, else the backoff), up
    to ``max_retries`` times; any other fails the message at once.
    ``client_factory`` makes the client (default: from the worker's
    environment). Other keywords are Dramatiq's actor options
    (``queue_name``, ``actor_name``, ``time_limit``, ``broker``, ...).
    Called directly (``fn(...)``, not by a worker), the function runs with a
    fresh key and raises instead of retrying.
    """
    retries = JobRetries(max_retries, backoff, backoff_max)
    clients = _clients.of(client_factory)
    throws = actor_options.pop("throws", ())
    throws = (throws,) if isinstance(throws, type) else tuple(throws)

    def decorate(fn: Callable[Concatenate[PostStack, str, P], R]) -> Actor[P, R]:
        @functools.wraps(fn)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            message = _current.get()
            try:
                return fn(clients.get(), _message_key(message), *args, **kwargs)
            except PostStackError as error:
                if message is None:
                    raise
                delay = retries.delay(error, message.options.get("retries", 0))
                if delay is None:
                    raise
                # Dramatiq counts these runs itself (message.options["retries"]); its
                # delays are whole milliseconds.
                raise Retry(str(error), delay=round(delay * 1000)) from error

        declare = dramatiq.actor(
            # The same bound for other errors: a PostStackError reaches it (above)
            # with the real error raised, which throws makes final.
            max_retries=max_retries,
            throws=(*_FINAL, *throws),
            **actor_options,
        )
        declared = declare(run)
        _add_middleware(declared.broker)
        return declared

    return decorate if fn is None else decorate(fn)


@with_poststack(actor_name="poststack.send_email")
def send_email(client: PostStack, key: str, payload: SendEmailParams) -> SendEmailResponse:
    """Send one email through PostStack, idempotently (poststack.contrib.dramatiq).

    Send it with ``send_email.send(payload)`` (or :func:`enqueue_email`, which
    checks the payload first). Returns the API's answer, ``{"id": "em_…"}``.
    """
    return client.emails.send(payload, idempotency_key=send_key(payload, key))


@with_poststack(actor_name="poststack.send_chunk")
def send_chunk(client: PostStack, key: str, chunk: dict[str, Any]) -> ChunkDone:
    """Send one chunk of a bulk run (see :func:`enqueue_send_many`).

    The chunk's own key (made from the run id, its position and its emails)
    makes a redelivered chunk safe. A chunk whose emails were not all sent
    raises :class:`~poststack.SendManyError`, and is retried while an email
    that was not sent may still go through.
    """
    sent = chunk_from_job(chunk)
    return chunk_outcome(sent, client.emails.send_chunk(sent))


def enqueue_email(
    payload: SendEmailParams, *, actor: Actor[[SendEmailParams], Any] | None = None, **options: Any
) -> Message[Any]:
    """Check ``payload`` and send a :func:`send_email` message for it; return the message.

    A payload that is not an email (not a dict, not JSON, bad attachments, a
    bad ``idempotency_key``) fails here, before anything is queued. Other
    keywords are Dramatiq's message options (``delay``, ``max_retries``,
    ...). ``actor`` is another actor to send it to (one of
    :func:`with_poststack`'s, on another queue or broker).
    """
    check_payload(payload)
    # Dramatiq leaves send_with_options's **options unannotated (pyright: partially unknown).
    send = (actor or send_email).send_with_options  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    return send(args=(payload,), **options)


def enqueue_send_many(
    emails: Sequence[SendEmailParams],
    *,
    run_id: str,
    batch_size: int = BATCH_LIMIT,
    actor: Actor[[dict[str, Any]], Any] | None = None,
    **options: Any,
) -> list[Message[Any]]:
    """Queue a bulk run as one :func:`send_chunk` message per chunk; return the messages.

    The emails are cut into chunks of ``batch_size`` (one request each) with
    deterministic keys made from ``run_id`` (see ``emails.send_many``), so a
    chunk that runs twice, also one queued twice by running this again after
    the process that queued it crashed half-way, is answered from the API's
    idempotency store. Every email is checked before anything is queued.
    """
    plan = plan_chunks(emails, run_id=run_id, batch_size=batch_size)
    # Dramatiq leaves send_with_options's **options unannotated (pyright: partially unknown).
    send = (actor or send_chunk).send_with_options  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    return [send(args=(chunk_job(chunk),), **options) for chunk in plan.chunks]

"""The Call: a state machine for one logical API call, retries included.

Theory of operation
-------------------
A driver owns the I/O and the clock; the Call owns every decision. The driver
feeds events in and carries out the action each one returns::

    call.start()                    -> Send(request, timeout)
    call.receive(response, now)     -> Done(value) | Fail(error) | Wait(seconds)
    call.transport_failed(failure)  -> Wait(seconds) | Fail(error)
    call.resume()                   -> Send(request, timeout)       # after a Wait

States move only along ``_TRANSITIONS``::

    IDLE --start--> SENDING --receive/transport_failed--> DONE | FAILED | WAITING
    WAITING --resume--> SENDING

Any other event raises CallStateError and leaves the Call BROKEN for good (as
an h11 connection that saw a protocol error), so a confused driver can never
send a request twice by accident. The request, and with it the
Idempotency-Key, is built once and resent unchanged on every attempt.

Observers ask, never decide: ``call.record()`` describes the attempt in hand
(an :class:`~poststack_core.Attempt`: what was sent and, once it ended, what
came of it), and ``call.raw_response()`` the response a finished call
succeeded with. Both only read what the events brought, so a Call observed
or not decides the same; ``receive`` and ``transport_failed`` take the
attempt's ``elapsed`` time, which the driver measured, for those records.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar

from ._attempt import Attempt, RateLimit, RawResponse
from ._config import ClientConfig
from ._content import ContentTooLarge, ContentUndecodable, decoded
from ._errors import (
    AttemptTimedOut,
    CallStateError,
    ConnectFailed,
    ConnectionBroken,
    PostStackConnectionError,
    PostStackError,
    PostStackTimeoutError,
    ResponseTooLarge,
    TransportFailure,
)
from ._messages import Request, Response
from ._operation import Operation
from ._parse import error_from_response, invalid_response, parse_success

RESPONSE_TOO_LARGE = "response_too_large"

R = TypeVar("R")


class State(enum.Enum):
    """Where a Call is (see the transitions above)."""

    IDLE = "idle"
    SENDING = "sending"
    WAITING = "waiting"
    DONE = "done"
    FAILED = "failed"
    BROKEN = "broken"

    # Every event looks its state up in _TRANSITIONS: hash members by identity (in C)
    # rather than by name (Enum's __hash__, in Python). Members are singletons, so
    # equal members still hash equal.
    __hash__ = object.__hash__


@dataclass(frozen=True, slots=True)
class Send:
    """Send ``request`` and report back; the whole attempt must end within ``timeout`` s."""

    request: Request
    timeout: float
    attempt: int


@dataclass(frozen=True, slots=True)
class Wait:
    """Sleep ``seconds``, then call ``resume()``. ``error`` is why the last attempt failed."""

    seconds: float
    error: PostStackError


@dataclass(frozen=True, slots=True)
class Done(Generic[R]):
    """The call succeeded with ``value``."""

    value: R

    # The value is usually a dict: compare Done actions, never hash them.
    __hash__: ClassVar[None] = None  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class Fail:
    """The call failed for good: raise ``error``."""

    error: PostStackError


Action = Send | Wait | Done[R] | Fail
"""What a Call asks its driver to do next."""

_TRANSITIONS: dict[tuple[State, str], frozenset[State]] = {
    (State.IDLE, "start"): frozenset({State.SENDING}),
    (State.SENDING, "receive"): frozenset({State.DONE, State.FAILED, State.WAITING}),
    (State.SENDING, "transport_failed"): frozenset({State.FAILED, State.WAITING}),
    (State.WAITING, "resume"): frozenset({State.SENDING}),
}


class Call(Generic[R]):
    """One logical call of ``operation``: every attempt, wait and the outcome.

    The Call alone decides about Idempotency-Keys: a POST carries the
    caller's own key (``operation.idempotency_key``) or else one from
    ``new_key()``, called once, so every attempt resends the same key; other
    methods carry none. ``random`` returns floats in [0, 1) for backoff
    jitter; the clock arrives with each ``receive``. ``name`` is what the
    attempt records call the operation (``"emails.send"``, see
    :func:`~poststack_core.operation_name`).
    """

    __slots__ = (
        "_action",
        "_attempt",
        "_elapsed",
        "_key",
        "_name",
        "_now",
        "_operation",
        "_outcome",
        "_policy",
        "_random",
        "_send",
        "state",
    )

    def __init__(
        self,
        operation: Operation[R],
        config: ClientConfig,
        *,
        new_key: Callable[[], str],
        random: Callable[[], float],
        name: str = "",
    ) -> None:
        key = None
        if operation.needs_idempotency_key:
            key = operation.idempotency_key or new_key()
        timeout = operation.timeout if operation.timeout is not None else config.timeout
        self._operation = operation
        self._policy = config.retry
        self._random = random
        self._attempt = 0
        self._key = key
        self._send = Send(config.build_request(operation, key), timeout, 1)
        # What the last event brought, for record(): read only when someone asks.
        self._outcome: Response | TransportFailure | None = None
        self._now = 0.0
        self._elapsed: float | None = None
        self._action: Action[R] | None = None
        self._name = name
        self.state = State.IDLE

    @property
    def attempts(self) -> int:
        """How many attempts have been handed to the driver so far."""
        return self._attempt

    @property
    def name(self) -> str:
        """The operation's name in the records (``"emails.send"``), as the Call was given it."""
        return self._name

    @property
    def idempotency_key(self) -> str | None:
        """The Idempotency-Key every attempt carries (None but for POSTs)."""
        return self._key

    def record(self) -> Attempt:
        """The attempt in hand, described: just sent (SENDING), or ended (every later state).

        An ended attempt's record holds its outcome (status, headers, request
        id, rate limit, elapsed time) and what the Call made of it (the
        ``wait`` before a retry, or the ``error``). A query: it changes
        nothing, and raises CallStateError only before ``start()`` or once the
        Call is broken.
        """
        state = self.state
        if state is State.IDLE or state is State.BROKEN:
            raise CallStateError(f"record() has no attempt to describe in state {state.name}")
        request = self._send.request
        path = request.target.partition("?")[0]
        base = (self._name, request.method, request.url, path, self._attempt, self._key)
        if state is State.SENDING:
            return Attempt(*base)
        outcome, action = self._outcome, self._action
        assert outcome is not None  # every state after SENDING came with an outcome
        wait = action.seconds if isinstance(action, Wait) else None
        error = action.error if isinstance(action, (Wait, Fail)) else None
        if isinstance(outcome, Response):
            status: int | None = outcome.status
            headers = outcome.header_dict()
            rate_limit: RateLimit | None = RateLimit.of(headers, self._now)
        elif isinstance(outcome, ResponseTooLarge):  # the head had arrived
            status = outcome.status
            headers = Response(outcome.status, outcome.headers, b"").header_dict()
            rate_limit = None
        else:
            status, headers, rate_limit = None, {}, None
        return Attempt(
            *base,
            status=status,
            request_id=headers.get("x-request-id"),
            headers=headers,
            elapsed=self._elapsed,
            rate_limit=rate_limit,
            wait=wait,
            error=error,
        )

    def raw_response(self) -> RawResponse[R]:
        """The value a DONE call succeeded with, together with the response it came from."""
        action = self._action
        outcome = self._outcome
        if self.state is not State.DONE or not isinstance(action, Done):
            raise CallStateError(f"raw_response() needs a DONE call, not {self.state.name}")
        assert isinstance(outcome, Response)  # only a response ends a call DONE
        headers = outcome.header_dict()
        done: Done[R] = action
        return RawResponse(
            done.value,
            outcome.status,
            headers,
            headers.get("x-request-id"),
            RateLimit.of(headers, self._now),
            self._attempt - 1,
            self._elapsed,
            self._key,
        )

    def _enter(self, event: str) -> None:
        if (self.state, event) not in _TRANSITIONS:
            was = self.state
            self.state = State.BROKEN
            raise CallStateError(f"{event}() is not allowed in state {was.name}")

    def _move(self, event: str, action: Action[R]) -> Action[R]:
        new = (
            State.SENDING
            if isinstance(action, Send)
            else State.WAITING
            if isinstance(action, Wait)
            else State.DONE
            if isinstance(action, Done)
            else State.FAILED
        )
        assert new in _TRANSITIONS[(self.state, event)]
        self.state = new
        self._action = action
        return action

    def _next_send(self) -> Send:
        self._outcome = None
        self._attempt += 1
        send = self._send
        if send.attempt != self._attempt:
            send = Send(send.request, send.timeout, self._attempt)
        return send

    def start(self) -> Action[R]:
        """Begin the call: the first Send."""
        self._enter("start")
        return self._move("start", self._next_send())

    def resume(self) -> Action[R]:
        """The driver has waited as a Wait asked: the next Send."""
        self._enter("resume")
        return self._move("resume", self._next_send())

    def receive(self, response: Response, now: float, elapsed: float | None = None) -> Action[R]:
        """The driver got a whole response; ``now`` is seconds since the epoch.

        ``elapsed``, if the driver measured it, is how long the attempt took
        (seconds): it goes into the attempt's record and decides nothing.
        """
        self._enter("receive")
        self._outcome, self._now, self._elapsed = response, now, elapsed
        status = response.status
        if status < 200:
            # Transports skip interim 1xx answers; one that gets here (a 101 nobody
            # asked for) left the connection in no state to trust.
            broken = ConnectionBroken(f"the server answered with an interim {status} response")
            return self._after_failure("receive", broken)
        limit = self._send.request.max_response_bytes
        try:
            if len(response.body) > limit:  # a transport that does not enforce the cap
                raise ContentTooLarge
            response = decoded(response, limit)
        except ContentTooLarge:
            return self._move("receive", Fail(_too_large(status, response.headers, limit)))
        except ContentUndecodable as exc:
            if 200 <= status < 300:
                return self._move("receive", Fail(invalid_response(response, str(exc))))
            # An error status stays an error status; its unreadable body says nothing.
            response = Response(status, response.headers, b"")
        if 200 <= status < 300:
            try:
                value: R = parse_success(self._operation.response, response)
            except PostStackError as invalid:
                return self._move("receive", Fail(invalid))
            check = self._operation.check
            why = None if check is None else check(value)
            if why is not None:
                return self._move("receive", Fail(invalid_response(response, why)))
            return self._move("receive", Done(value))
        error = error_from_response(response, now, policy=self._policy)
        policy = self._policy
        if not error.retryable or self._attempt > policy.max_retries:
            return self._move("receive", Fail(error))
        wait = error.retry_after
        if wait is None:
            wait = policy.backoff(self._attempt, self._random)
        elif wait > policy.retry_after_cap:
            return self._move("receive", Fail(error))
        return self._move("receive", Wait(wait, error))

    def transport_failed(
        self, failure: TransportFailure, elapsed: float | None = None
    ) -> Action[R]:
        """The attempt produced no whole response: ``failure`` says why.

        ``elapsed`` is as for :meth:`receive`: for the record only.
        """
        self._enter("transport_failed")
        if not isinstance(failure, TransportFailure):
            self.state = State.BROKEN
            raise CallStateError(f"transport_failed() needs a TransportFailure, got {failure!r}")
        self._outcome, self._elapsed = failure, elapsed
        return self._after_failure("transport_failed", failure)

    def _after_failure(self, event: str, failure: TransportFailure) -> Action[R]:
        if isinstance(failure, ResponseTooLarge):
            limit = self._send.request.max_response_bytes
            return self._move(event, Fail(_too_large(failure.status, failure.headers, limit)))
        error = _connection_error(failure, self._send)
        if self._attempt > self._policy.max_retries:
            return self._move(event, Fail(error))
        return self._move(event, Wait(self._policy.backoff(self._attempt, self._random), error))


def _too_large(status: int, headers: tuple[tuple[str, str], ...], limit: int) -> PostStackError:
    fields = Response(status, headers, b"").header_dict()
    return PostStackError(
        status,
        f"The API answered {status} with a body larger than max_response_bytes ({limit} bytes)",
        RESPONSE_TOO_LARGE,
        fields.get("x-request-id"),
        fields,
        retryable=False,
    )


def _connection_error(failure: TransportFailure, send: Send) -> PostStackConnectionError:
    request = send.request
    where = f"{request.method} {request.scheme}://{request.host}:{request.port}"
    detail = str(failure.__cause__ or failure) or type(failure.__cause__ or failure).__name__
    error: PostStackConnectionError
    if isinstance(failure, AttemptTimedOut):
        error = PostStackTimeoutError(
            0, f"{where} timed out after {send.timeout:g} s: {detail}", "timeout"
        )
    elif isinstance(failure, ConnectFailed):
        error = PostStackConnectionError(
            0, f"could not connect for {where}: {detail}", "connect_error"
        )
    else:
        error = PostStackConnectionError(
            0, f"the connection broke during {where}: {detail}", "connection_error"
        )
    error.__cause__ = failure.__cause__ or failure
    return error

"""The Call state machine: examples from the spec's retry matrix, then properties."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from poststack_core import (
    AttemptTimedOut,
    Call,
    CallStateError,
    ConnectFailed,
    ConnectionBroken,
    Done,
    Fail,
    Operation,
    PostStackConnectionError,
    PostStackError,
    PostStackTimeoutError,
    Response,
    Send,
    State,
    TransportFailure,
    Wait,
)
from poststack_core.endpoints import emails

from .helpers import KEY, NOW, config, response

QUOTAS = [
    "quota_exceeded",
    "monthly_limit_exceeded",
    "daily_limit_exceeded",
    "daily_cap_exceeded",
    "send_limit_exceeded",
]


def new_call(max_retries: int = 3, random: Callable[[], float] = lambda: 0.5) -> Call[object]:
    op = emails.send({"from": "a@example.com", "to": ["b@example.com"]})
    return Call(op, config(max_retries), new_key=lambda: KEY, random=random)  # type: ignore[arg-type]


Outcome = Response | TransportFailure


def run(outcomes: list[Outcome], max_retries: int = 3) -> tuple[list[float], object, int]:
    """Drive a Call through ``outcomes``; returns (waits, final action, attempts)."""
    call = new_call(max_retries)
    action = call.start()
    waits: list[float] = []
    for outcome in outcomes:
        assert isinstance(action, Send)
        if isinstance(outcome, Response):
            action = call.receive(outcome, NOW)
        else:
            action = call.transport_failed(outcome)
        if isinstance(action, Wait):
            waits.append(action.seconds)
            action = call.resume()
        else:
            break
    return waits, action, call.attempts


# -- examples: conventions.json "retry" ------------------------------------------------


def test_500_then_ok() -> None:
    waits, action, attempts = run([response(500), response(202, {"id": "em_1"})])
    assert waits == [0.125]  # random 0.5 x 0.25 s
    assert action == Done({"id": "em_1"})
    assert attempts == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_client_errors_fail_at_once(status: int) -> None:
    waits, action, attempts = run([response(status), response(200, {})])
    assert (waits, attempts) == ([], 1)
    assert isinstance(action, Fail)
    assert action.error.status_code == status


@pytest.mark.parametrize("status", [408, 429, 500, 501, 502, 503, 504, 521, 599])
def test_retryable_statuses_use_every_retry(status: int) -> None:
    waits, action, attempts = run([response(status)] * 10)
    assert attempts == 4
    assert waits == [0.125, 0.25, 0.5]
    assert isinstance(action, Fail)
    assert action.error.status_code == status


def test_max_retries_zero_disables_retrying() -> None:
    waits, action, attempts = run([response(503)] * 3, max_retries=0)
    assert (waits, attempts) == ([], 1)
    assert isinstance(action, Fail)


@pytest.mark.parametrize("code", QUOTAS)
def test_quota_429_is_never_retried_even_with_retry_after(code: str) -> None:
    r = response(429, {"error": "quota", "code": code}, [("Retry-After", "5")])
    waits, action, attempts = run([r, response(200, {})])
    assert (waits, attempts) == ([], 1)
    assert isinstance(action, Fail)
    assert (action.error.code, action.error.retry_after) == (code, 5.0)


def test_429_with_a_code_and_no_retry_after_is_a_quota_in_disguise() -> None:
    waits, _, attempts = run([response(429, {"code": "rate_limit_exceeded"}), response(200, {})])
    assert (waits, attempts) == ([], 1)


def test_429_with_a_code_and_an_unusable_retry_after_is_not_retried() -> None:
    r = response(429, {"code": "rate_limit_exceeded"}, [("Retry-After", "nan")])
    waits, action, attempts = run([r, response(200, {})])
    assert (waits, attempts) == ([], 1)
    assert isinstance(action, Fail)
    assert action.error.retry_after is None


def test_bare_429_from_a_proxy_backs_off() -> None:
    waits, action, _ = run([response(429, raw=b"Too Many Requests"), response(200, {})])
    assert waits == [0.125]
    assert isinstance(action, Done)


@pytest.mark.parametrize(("value", "wait"), [("7", 7.0), ("1.5", 1.5), ("60", 60.0), ("0", 0.0)])
def test_rate_limit_with_retry_after_waits_exactly(value: str, wait: float) -> None:
    r = response(429, {"code": "rate_limit_exceeded"}, [("Retry-After", value)])
    waits, action, _ = run([r, response(200, {"ok": True})])
    assert waits == [wait]
    assert isinstance(action, Done)


@pytest.mark.parametrize(("status", "value"), [(429, "61"), (503, "120"), (500, "1000000000")])
def test_retry_after_above_the_cap_fails_at_once_with_retry_after(status: int, value: str) -> None:
    r = response(status, {"code": "rate_limit_exceeded"}, [("Retry-After", value)])
    waits, action, attempts = run([r, response(200, {})])
    assert (waits, attempts) == ([], 1)
    assert isinstance(action, Fail)
    assert action.error.retry_after == float(value)


def test_retry_after_is_honoured_on_503() -> None:
    waits, _, _ = run([response(503, headers=[("Retry-After", "2")]), response(200, {})])
    assert waits == [2.0]


@pytest.mark.parametrize(
    "value", ["nan", "inf", "-1", "1e35", "garbage", "", "Mon, 06 Nov 1994 08:49:37 GMT"]
)
def test_unusable_retry_after_means_ordinary_backoff_never_zero(value: str) -> None:
    waits, _, _ = run([response(503, headers=[("Retry-After", value)]), response(200, {})])
    assert waits == [0.125]


@pytest.mark.parametrize(
    ("failure", "error_type"),
    [
        (ConnectFailed("refused"), PostStackConnectionError),
        (ConnectionBroken("reset"), PostStackConnectionError),
        (AttemptTimedOut("slow"), PostStackTimeoutError),
    ],
)
def test_transport_failures_retry_then_raise_status_zero(
    failure: TransportFailure, error_type: type[PostStackError]
) -> None:
    cause = OSError("the library's own exception")
    failure.__cause__ = cause
    waits, action, attempts = run([failure] * 5)
    assert waits == [0.125, 0.25, 0.5]
    assert attempts == 4
    assert isinstance(action, Fail)
    assert type(action.error) is error_type
    assert action.error.status_code == 0
    assert action.error.__cause__ is cause


def test_2xx_with_html_is_not_retried() -> None:
    waits, action, attempts = run([response(200, raw=b"<html>proxy</html>"), response(200, {})])
    assert (waits, attempts) == ([], 1)
    assert isinstance(action, Fail)
    assert (action.error.status_code, action.error.code) == (200, "invalid_response")


def test_the_same_request_and_key_go_out_on_every_attempt() -> None:
    call = new_call()
    first = call.start()
    assert isinstance(first, Send)
    assert first.request.header("Idempotency-Key") == KEY
    assert isinstance(call.receive(response(500), NOW), Wait)
    second = call.resume()
    assert isinstance(second, Send)
    assert second.request is first.request
    assert (first.attempt, second.attempt) == (1, 2)


class Keys:
    """A key factory that counts how often the Call asks it."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        return f"key-{self.calls}"


def test_callers_key_overrides_the_generated_one() -> None:
    op = emails.send({"from": "a@b.c", "to": ["d@e.f"]}, idempotency_key="order-42")
    keys = Keys()
    send = Call(op, config(), new_key=keys, random=lambda: 0.0).start()
    assert isinstance(send, Send)
    assert send.request.header("Idempotency-Key") == "order-42"
    assert keys.calls == 0


def test_a_post_asks_the_factory_once_and_keeps_the_key_for_every_attempt() -> None:
    keys = Keys()
    call = Call(
        emails.send({"from": "a@b.c", "to": ["d@e.f"]}), config(), new_key=keys, random=lambda: 0.0
    )
    sent = [call.start()]
    for _ in range(3):
        call.transport_failed(ConnectionBroken("reset"))
        sent.append(call.resume())
    assert keys.calls == 1
    assert {s.request.header("Idempotency-Key") for s in sent if isinstance(s, Send)} == {"key-1"}


@pytest.mark.parametrize(
    "operation",
    [
        emails.get("em_1"),
        emails.reschedule("em_1", "2030-01-01T00:00:00Z"),
        emails.list(),
    ],
    ids=["GET", "PATCH", "GET list"],
)
def test_no_key_on_anything_but_a_post(operation: Any) -> None:
    keys = Keys()
    send = Call(operation, config(), new_key=keys, random=lambda: 0.0).start()
    assert isinstance(send, Send)
    assert send.request.header("Idempotency-Key") is None
    assert keys.calls == 0


def _no_key() -> str:
    raise AssertionError("no key is needed")


def test_per_call_timeout_overrides_the_clients() -> None:
    get = emails.get("em_1", timeout=2.5)
    send = Call(get, config(timeout=9), new_key=_no_key, random=lambda: 0.0).start()
    assert isinstance(send, Send)
    assert send.timeout == 2.5
    send = Call(emails.get("em_1"), config(timeout=9), new_key=_no_key, random=lambda: 0.0).start()
    assert isinstance(send, Send)
    assert send.timeout == 9.0


# -- properties ---------------------------------------------------------------------------

retry_after_values = st.one_of(
    st.none(),
    st.sampled_from(["0", "1.5", "7", "60", "61", "nan", "inf", "-1", "1e35", "", "soon"]),
    st.integers(min_value=0, max_value=200).map(str),
)


@dataclass(frozen=True)
class Reply:
    status: int
    code: str | None
    retry_after: str | None

    def response(self) -> Response:
        body = {"error": "x", "code": self.code} if self.code else {"error": "x"}
        headers = [("Retry-After", self.retry_after)] if self.retry_after is not None else []
        if 200 <= self.status < 300:
            body = {"id": "em_1"}
        return response(self.status, body, headers)


replies = st.builds(
    Reply,
    st.sampled_from([200, 202, 400, 401, 404, 408, 409, 422, 429, 500, 502, 503, 504, 599]),
    st.sampled_from([None, "rate_limit_exceeded", "internal_error", *QUOTAS]),
    retry_after_values,
)
failures = st.sampled_from([ConnectFailed, AttemptTimedOut, ConnectionBroken]).map(lambda t: t("x"))
outcomes = st.lists(st.one_of(replies, failures), min_size=1, max_size=8)


@settings(max_examples=400)
@given(outcomes, st.integers(min_value=0, max_value=5), st.floats(min_value=0, max_value=0.999))
def test_call_properties(
    script: list[Reply | TransportFailure], max_retries: int, rnd: float
) -> None:
    call = new_call(max_retries, lambda: rnd)
    action = call.start()
    requests = []
    last: Reply | TransportFailure | None = None
    for item in script:
        assert isinstance(action, Send)
        requests.append(action.request)
        last = item
        if isinstance(item, Reply):
            action = call.receive(item.response(), NOW)
        else:
            action = call.transport_failed(item)
        if isinstance(action, Wait):
            retry = call.attempts
            assert retry <= max_retries  # never a wait after the last allowed attempt
            ra = item.retry_after if isinstance(item, Reply) else None
            if isinstance(item, Reply) and ra is not None and ra.replace(".", "", 1).isdigit():
                # A usable Retry-After is honoured exactly (it is under the cap, or no Wait).
                assert action.seconds == float(ra) <= 60.0
            else:
                ceiling = 0.25 * 2 ** (retry - 1)
                assert 0.0 <= action.seconds < ceiling
            if isinstance(item, Reply):
                assert item.status >= 500 or item.status in (408, 429)
                if item.status == 429:
                    assert item.code not in QUOTAS
                    assert item.code is None or item.retry_after is not None
            action = call.resume()
        else:
            break
    # Attempts never exceed max_retries + 1, and one key served every attempt.
    assert call.attempts <= max_retries + 1
    assert len({r.header("Idempotency-Key") for r in requests}) == 1
    assert all(r is requests[0] for r in requests)
    if isinstance(action, Send):
        return  # the script ran out while the call still wanted to send
    # The outcome reflects the last thing that happened.
    assert last is not None
    if isinstance(action, Done):
        assert isinstance(last, Reply)
        assert 200 <= last.status < 300
        assert call.state is State.DONE
    else:
        assert isinstance(action, Fail)
        assert call.state is State.FAILED
        if isinstance(last, Reply):
            assert action.error.status_code == last.status
            if not (last.status >= 500 or last.status in (408, 429)):
                assert call.attempts == len(requests)  # a non-retryable status ends the call
        else:
            assert action.error.status_code == 0
            assert isinstance(action.error, PostStackConnectionError)
            assert call.attempts == max_retries + 1


# -- totality: every (state, event) pair is legal or a clear, sticky error ---------------

_ARGS: dict[str, tuple[object, ...]] = {
    "start": (),
    "resume": (),
    "receive": (response(503), NOW),
    "transport_failed": (ConnectionBroken("x"),),
}


def _reach(state: State) -> Call[object]:
    call = new_call(max_retries=1)
    if state is State.IDLE:
        return call
    call.start()
    if state is State.SENDING:
        return call
    if state is State.WAITING:
        call.receive(response(503), NOW)
    elif state is State.DONE:
        call.receive(response(200, {}), NOW)
    elif state is State.FAILED:
        call.receive(response(400), NOW)
    else:
        with pytest.raises(CallStateError):
            call.start()
    assert call.state is state
    return call


EVENTS = ("start", "receive", "transport_failed", "resume")
LEGAL = {
    (State.IDLE, "start"),
    (State.SENDING, "receive"),
    (State.SENDING, "transport_failed"),
    (State.WAITING, "resume"),
}


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("event", EVENTS)
def test_every_state_event_pair(state: State, event: str) -> None:
    call = _reach(state)
    handler = getattr(call, event)
    if (state, event) in LEGAL:
        action = handler(*_ARGS[event])
        assert isinstance(action, (Send, Wait, Done, Fail))
        assert call.state is not State.BROKEN
    else:
        with pytest.raises(CallStateError, match=event):
            handler(*_ARGS[event])
        assert call.state is State.BROKEN
        for other in EVENTS:  # the error state sticks
            with pytest.raises(CallStateError):
                getattr(call, other)(*_ARGS[other])


def test_transport_failed_needs_a_transport_failure() -> None:
    call = new_call()
    call.start()
    with pytest.raises(CallStateError):
        call.transport_failed(OSError("raw"))  # type: ignore[arg-type]
    assert call.state is State.BROKEN


class CallMachine(RuleBasedStateMachine):
    """Random event orders, legal or not: the Call never sends after it is finished."""

    def __init__(self) -> None:
        super().__init__()
        self.call = new_call(max_retries=2)
        self.sends = 0
        self.finished = False

    def _fire(self, event: str, *args: object) -> None:
        before = self.call.state
        legal = (before, event) in LEGAL
        try:
            action = getattr(self.call, event)(*args)
        except CallStateError:
            assert not legal
            assert self.call.state is State.BROKEN
            return
        assert legal
        if isinstance(action, Send):
            self.sends += 1
        if isinstance(action, (Done, Fail)):
            self.finished = True

    @rule()
    def start(self) -> None:
        self._fire("start")

    @rule()
    def resume(self) -> None:
        self._fire("resume")

    @rule(status=st.sampled_from([200, 400, 429, 503]))
    def receive(self, status: int) -> None:
        self._fire("receive", response(status, {} if status == 200 else None), NOW)

    @rule()
    def fail(self) -> None:
        self._fire("transport_failed", ConnectionBroken("x"))

    @precondition(lambda self: self.call.state is State.BROKEN)
    @rule()
    def broken_stays_broken(self) -> None:
        with pytest.raises(CallStateError):
            self.call.start()

    @invariant()
    def bounded(self) -> None:
        assert self.sends <= 3
        assert self.call.attempts == self.sends


TestCallMachine = CallMachine.TestCase


@pytest.mark.parametrize("key", ["clé-日本", "é", "", "a\nb", "x" * 256, " k", "k ", "\tk"])
def test_unusable_idempotency_keys_fail_before_sending(key: str) -> None:
    with pytest.raises(ValueError, match="idempotency_key"):
        emails.send({"from": "a@b.c", "to": ["x@y.z"]}, idempotency_key=key)


def test_an_operations_check_turns_a_broken_promise_into_invalid_response() -> None:
    def check(value: Any) -> str | None:
        return None if value.get("ok") else "no ok in the answer"

    op = Operation("POST", "/x", body={}, check=check)
    call = Call(op, config(), new_key=lambda: KEY, random=lambda: 0.0)
    call.start()
    action = call.receive(response(202, {"nope": 1}, [("x-request-id", "req_4")]), NOW)
    assert isinstance(action, Fail)
    assert (action.error.status_code, action.error.code) == (202, "invalid_response")
    assert action.error.error == "The API answered 202 with no ok in the answer"
    assert action.error.request_id == "req_4"
    call = Call(op, config(), new_key=lambda: KEY, random=lambda: 0.0)
    call.start()
    assert call.receive(response(200, {"ok": True}), NOW) == Done({"ok": True})

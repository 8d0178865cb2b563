"""Attempt records, rate limits and raw responses: what a Call says of its attempts.

Examples first, then properties: over any sequence of answers and failures the
records agree with the actions the Call returned, and asking for them changes
nothing the Call decides.
"""

from __future__ import annotations

import dataclasses
import pickle
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from poststack_core import (
    Attempt,
    AttemptTimedOut,
    Call,
    CallStateError,
    ConnectFailed,
    ConnectionBroken,
    Done,
    Fail,
    PostStackConnectionError,
    RateLimit,
    Resource,
    Response,
    ResponseTooLarge,
    Send,
    State,
    TransportFailure,
    Wait,
    operation_name,
)
from poststack_core.endpoints import Resources, domains, emails

from ..recording import load_endpoints
from .helpers import KEY, NOW, config, response

EMAIL = {"from": "a@example.com", "to": ["b@example.com"]}
LIMITS = (("x-ratelimit-limit", "10"), ("x-ratelimit-remaining", "7"), ("x-ratelimit-reset", "2"))


def send_call(max_retries: int = 3, *, name: str = "emails.send") -> Call[Any]:
    return Call(
        emails.send(EMAIL),  # type: ignore[arg-type]
        config(max_retries),
        new_key=lambda: KEY,
        random=lambda: 0.5,
        name=name,
    )


# -- records, state by state ------------------------------------------------------------


def test_a_sent_attempt_is_described_by_its_request_alone() -> None:
    call = send_call()
    call.start()
    assert call.record() == Attempt(
        "emails.send", "POST", "https://api.poststack.dev/emails", "/emails", 1, KEY
    )


def test_a_retried_attempt_holds_its_answer_the_wait_and_why() -> None:
    call = send_call()
    call.start()
    headers = [("X-Request-Id", "req_1"), *LIMITS]
    action = call.receive(response(503, {"error": "down"}, headers), NOW, 0.25)
    assert isinstance(action, Wait)
    record = call.record()
    assert (record.status, record.request_id, record.elapsed) == (503, "req_1", 0.25)
    assert record.headers["x-request-id"] == "req_1"  # names in lower case
    assert record.rate_limit == RateLimit(10, 7, 2.0)
    assert record.wait == action.seconds == 0.125
    assert record.error is action.error
    assert record.retry
    assert record.reason == "503: down (request req_1)"
    call.resume()
    assert call.record() == Attempt(
        "emails.send", "POST", "https://api.poststack.dev/emails", "/emails", 2, KEY
    )


def test_the_attempt_that_succeeds_has_no_wait_and_no_error() -> None:
    call = send_call()
    call.start()
    call.receive(response(202, {"id": "em_1"}, [("x-request-id", "req_9")]), NOW, 0.5)
    record = call.record()
    assert (record.status, record.request_id, record.wait, record.error) == (
        202,
        "req_9",
        None,
        None,
    )
    assert record.rate_limit == RateLimit()
    assert not record.retry
    assert record.reason is None


def test_the_attempt_that_fails_the_call_holds_the_error() -> None:
    call = send_call()
    call.start()
    action = call.receive(response(422, {"error": "bad", "code": "invalid"}), NOW)
    assert isinstance(action, Fail)
    record = call.record()
    assert (record.status, record.wait, record.elapsed) == (422, None, None)
    assert record.error is action.error


@pytest.mark.parametrize("failure", [ConnectFailed("no"), AttemptTimedOut("slow")])
def test_a_transport_failure_has_no_status_headers_or_rate_limit(failure: TransportFailure) -> None:
    call = send_call()
    call.start()
    action = call.transport_failed(failure, 1.5)
    assert isinstance(action, Wait)
    record = call.record()
    assert (record.status, record.headers, record.rate_limit) == (None, {}, None)
    assert record.elapsed == 1.5
    assert isinstance(record.error, PostStackConnectionError)


def test_a_response_too_large_keeps_the_head_that_arrived() -> None:
    call = send_call()
    call.start()
    call.transport_failed(ResponseTooLarge(200, (("X-Request-Id", "req_2"),), 10))
    record = call.record()
    assert (record.status, record.request_id, record.rate_limit) == (200, "req_2", None)
    assert record.error is not None
    assert record.error.code == "response_too_large"


def test_an_interim_answer_is_recorded_with_its_status() -> None:
    call = send_call()
    call.start()
    call.receive(response(101), NOW)
    record = call.record()
    assert record.status == 101
    assert record.error is not None
    assert record.error.code == "connection_error"


def test_a_query_string_is_in_the_url_and_not_in_the_path() -> None:
    call = Call(
        emails.list({"page": 2}), config(), new_key=lambda: KEY, random=lambda: 0.5, name="n"
    )
    call.start()
    record = call.record()
    assert (record.url, record.path) == ("https://api.poststack.dev/emails?page=2", "/emails")
    assert record.idempotency_key is None  # not a POST


def test_without_a_name_the_operation_is_empty() -> None:
    call = send_call(name="")
    call.start()
    assert call.name == ""
    assert call.record().operation == ""


@pytest.mark.parametrize("state", [State.IDLE, State.BROKEN])
def test_there_is_no_record_before_the_start_or_once_broken(state: State) -> None:
    call = send_call()
    if state is State.BROKEN:
        with pytest.raises(CallStateError):
            call.resume()
    with pytest.raises(CallStateError, match="record"):
        call.record()
    assert call.state is state  # a query: it breaks nothing


def test_records_are_values_without_the_key() -> None:
    call = send_call()
    call.start()
    call.receive(response(503, {"error": "x"}, LIMITS), NOW, 0.1)
    record = call.record()
    copied = pickle.loads(pickle.dumps(record))
    # Exceptions compare by identity: the error is compared as what it shows.
    assert dataclasses.replace(copied, error=None) == dataclasses.replace(record, error=None)
    assert repr(copied.error) == repr(record.error)
    assert record == call.record()
    assert "sk_test_core" not in repr(record)
    assert "sk_test_core" not in repr(pickle.dumps(record))
    with pytest.raises(TypeError):
        hash(record)


# -- rate limits --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (LIMITS, RateLimit(10, 7, 2.0)),
        ((), RateLimit()),
        ((("X-RateLimit-Limit", " 5 "),), RateLimit(limit=5)),
        ((("x-ratelimit-remaining", "0"),), RateLimit(remaining=0)),
        ((("x-ratelimit-reset", "0.25"),), RateLimit(reset=0.25)),
        # A Unix timestamp is seconds from the answer; one in the past is 0.
        ((("x-ratelimit-reset", str(NOW + 30)),), RateLimit(reset=30.0)),
        ((("x-ratelimit-reset", str(NOW - 30)),), RateLimit(reset=0.0)),
        # Counts are whole numbers; anything not a finite number >= 0 is no statement.
        ((("x-ratelimit-limit", "2.5"),), RateLimit()),
        ((("x-ratelimit-limit", "10.0"),), RateLimit(limit=10)),
        ((("x-ratelimit-remaining", "-1"),), RateLimit()),
        ((("x-ratelimit-limit", "nan"),), RateLimit()),
        ((("x-ratelimit-reset", "inf"),), RateLimit()),
        ((("x-ratelimit-reset", "soon"),), RateLimit()),
        ((("x-ratelimit-limit", ""),), RateLimit()),
    ],
)
def test_rate_limit_headers(headers: tuple[tuple[str, str], ...], expected: RateLimit) -> None:
    assert RateLimit.of(Response(200, headers, b"").header_dict(), NOW) == expected


@given(st.text(max_size=12))
def test_any_header_text_gives_a_rate_limit_or_none_never_an_error(text: str) -> None:
    headers = tuple((name, text) for name, _ in LIMITS)
    limit = RateLimit.of(Response(200, headers, b"").header_dict(), NOW)
    for value in (limit.limit, limit.remaining, limit.reset):
        assert value is None or value >= 0


# -- raw responses ------------------------------------------------------------------------


def test_a_raw_response_is_the_value_with_the_answer_it_came_from() -> None:
    call = send_call()
    call.start()
    call.receive(response(500), NOW)
    call.resume()
    call.transport_failed(ConnectionBroken("reset"))
    call.resume()
    headers = [("X-Request-Id", "req_3"), *LIMITS]
    done = call.receive(response(202, {"id": "em_1"}, headers), NOW, 0.75)
    assert done == Done({"id": "em_1"})
    raw = call.raw_response()
    assert raw.parsed == {"id": "em_1"}
    assert (raw.status_code, raw.request_id, raw.retries, raw.elapsed) == (202, "req_3", 2, 0.75)
    assert raw.headers["x-ratelimit-limit"] == "10"
    assert raw.rate_limit == RateLimit(10, 7, 2.0)
    assert raw.idempotency_key == KEY
    assert pickle.loads(pickle.dumps(raw)) == raw


@pytest.mark.parametrize("status", [None, 503, 400])
def test_only_a_done_call_has_a_raw_response(status: int | None) -> None:
    call = send_call()
    call.start()
    if status is not None:
        call.receive(response(status), NOW)
    with pytest.raises(CallStateError, match="raw_response"):
        call.raw_response()


# -- operation names ------------------------------------------------------------------------


def test_operations_are_named_after_their_definition() -> None:
    assert operation_name(emails.send) == "emails.send"
    assert operation_name(domains.get_dmarc_reports) == "domains.get_dmarc_reports"


def test_every_definition_is_named_as_the_spec_names_it() -> None:
    spec = {record["name"] for record in load_endpoints() if record["kind"] == "http"}
    names: set[str] = set()
    for attribute, hint in Resources.__annotations__.items():
        resource: type[Resource[Any]] = hint.__origin__
        for value in vars(resource).values():
            definition = getattr(value, "definition", None)
            if definition is not None:
                name = operation_name(definition)
                assert name.partition(".")[0] == attribute
                names.add(name)
    # Every HTTP method of the spec; walkers add none (their pages are the list's calls).
    assert names - spec == {"emails.send_many", "emails.send_chunk"}  # bulk runs, ours alone
    assert spec <= names


# -- properties -----------------------------------------------------------------------------

answers = st.sampled_from([200, 202, 400, 408, 422, 429, 500, 503]).map(
    lambda status: response(
        status,
        {"id": "em_1"} if status < 300 else {"error": "x"},
        [("x-request-id", f"req_{status}"), *LIMITS],
    )
)
failures = st.sampled_from([ConnectFailed, AttemptTimedOut, ConnectionBroken]).map(lambda t: t("x"))
scripts = st.lists(
    st.tuples(st.one_of(answers, failures), st.floats(min_value=0, max_value=30)),
    min_size=1,
    max_size=6,
)


def _shape(action: object) -> object:
    """An action as a comparable value (errors compare by identity, so by what they show)."""
    if isinstance(action, Wait):
        return ("wait", action.seconds, repr(action.error))
    if isinstance(action, Fail):
        return ("fail", repr(action.error))
    return action


def _drive(
    script: list[tuple[Response | TransportFailure, float]], max_retries: int, observe: bool
) -> tuple[list[object], list[Attempt]]:
    call = send_call(max_retries)
    action = call.start()
    actions: list[object] = [_shape(action)]
    records: list[Attempt] = []
    for outcome, elapsed in script:
        assert isinstance(action, Send)
        if observe:
            sent = call.record()
            assert (sent.attempt, sent.status, sent.elapsed) == (action.attempt, None, None)
        if isinstance(outcome, Response):
            action = call.receive(outcome, NOW, elapsed)
        else:
            action = call.transport_failed(outcome, elapsed)
        actions.append(_shape(action))
        if observe:
            record = call.record()
            records.append(record)
            assert record.attempt == call.attempts
            assert record.elapsed == elapsed
            assert record.idempotency_key == KEY
            if isinstance(outcome, Response):
                assert record.status == outcome.status
                assert record.request_id == f"req_{outcome.status}"
                assert record.rate_limit == RateLimit(10, 7, 2.0)
            else:
                assert (record.status, record.rate_limit) == (None, None)
            if isinstance(action, Wait):
                assert (record.wait, record.error) == (action.seconds, action.error)
            elif isinstance(action, Fail):
                assert (record.wait, record.error) == (None, action.error)
            else:
                assert isinstance(action, Done)
                assert (record.wait, record.error) == (None, None)
                assert call.raw_response().parsed == action.value
                assert call.raw_response().retries == call.attempts - 1
        if not isinstance(action, Wait):
            break
        action = call.resume()
        actions.append(_shape(action))
    return actions, records


@settings(max_examples=300)
@given(scripts, st.integers(min_value=0, max_value=4))
def test_records_agree_with_the_actions_and_asking_changes_nothing(
    script: list[tuple[Response | TransportFailure, float]], max_retries: int
) -> None:
    seen, records = _drive(script, max_retries, observe=True)
    unseen, _ = _drive(script, max_retries, observe=False)
    assert seen == unseen  # the same decisions, observed or not
    assert [r.attempt for r in records] == list(range(1, len(records) + 1))
    # Only the last record may end the call; every one before it was retried.
    assert all(r.retry for r in records[:-1])

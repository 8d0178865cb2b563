"""The bulk engine's core through its public API: plans, keys, chunk splitting, runs, journals.

Everything here is pure: a "server" is a function from a request to an
answer, and time is a number the test passes in.
"""

from __future__ import annotations

import dataclasses
import json
import math
import pickle
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from poststack_core import (
    BATCH_LIMIT,
    SPLIT_STATUSES,
    CallStateError,
    Chunk,
    ChunkSend,
    EmailResult,
    JournalError,
    Operation,
    PostStackError,
    Progress,
    RunChangedError,
    SendManyError,
    SendManyPlan,
    SendManyResult,
    SendManyRun,
    chunk_operation,
    manifest_operation,
    plan_send_many,
)
from poststack_core.endpoints import emails as endpoint


def email(n: int, **extra: Any) -> dict[str, Any]:
    return {"from": "news@example.com", "to": [f"u{n}@example.com"], "subject": f"#{n}", **extra}


def inbox(n: int) -> list[dict[str, Any]]:
    return [email(i) for i in range(n)]


def error(status: int, code: str | None = None, retry_after: float | None = None) -> PostStackError:
    return PostStackError(status, f"status {status}", code, "req_1", {}, retry_after)


THROTTLED = error(429, "rate_limit_exceeded", 1.0)
QUOTA = error(429, "monthly_limit_exceeded")
UNAUTHORIZED = error(401, "unauthorized")
UNAVAILABLE = error(503, "internal_error")


# --- the plan ---------------------------------------------------------------------------


def test_a_plan_cuts_the_input_into_chunks_with_deterministic_keys() -> None:
    plan = plan_send_many(inbox(250), run_id="news-7")
    assert [(c.index, c.start, len(c.emails), c.batched) for c in plan.chunks] == [
        (0, 0, 100, True),
        (1, 100, 100, True),
        (2, 200, 50, True),
    ]
    assert plan.total == 250
    for chunk in plan.chunks:
        run_id, index, digest = chunk.key.rsplit("-", 2)
        assert (run_id, int(index)) == ("news-7", chunk.index)
        assert len(digest) == 16
        assert int(digest, 16) >= 0
    again = plan_send_many(inbox(250), run_id="news-7")
    assert again == plan


def test_a_key_depends_on_the_content_not_on_how_the_dicts_were_written() -> None:
    shuffled = [dict(reversed(list(e.items()))) for e in inbox(3)]
    assert plan_send_many(shuffled, run_id="r") == plan_send_many(inbox(3), run_id="r")


def test_a_change_changes_only_its_own_chunks_key_and_always_the_fingerprint() -> None:
    base = plan_send_many(inbox(250), run_id="r")
    changed_input = inbox(250)
    changed_input[150]["subject"] = "changed"
    changed = plan_send_many(changed_input, run_id="r")
    assert [a.key == b.key for a, b in zip(base.chunks, changed.chunks, strict=True)] == [
        True,
        False,
        True,
    ]
    variants = [
        changed,
        plan_send_many(inbox(249), run_id="r"),
        plan_send_many(inbox(251), run_id="r"),
        plan_send_many(inbox(250)[::-1], run_id="r"),
        plan_send_many(inbox(250), run_id="r", batch_size=50),
        plan_send_many(inbox(250), run_id="other"),
    ]
    fingerprints = {base.fingerprint, *(v.fingerprint for v in variants)}
    assert len(fingerprints) == 1 + len(variants)


def test_batch_size_one_sends_each_email_on_its_own() -> None:
    plan = plan_send_many(inbox(3), run_id="r", batch_size=1)
    assert [(c.start, c.batched) for c in plan.chunks] == [(0, False), (1, False), (2, False)]
    operation = chunk_operation(plan.chunks[1], timeout=5)
    assert (operation.method, operation.path) == ("POST", "/emails")
    assert operation.body == email(1)
    assert operation.idempotency_key == plan.chunks[1].key
    assert operation.timeout == 5
    assert operation.check is not None
    assert operation.check({"id": "em_1"}) is None
    assert operation.check({"id": ""}) == "no email id"


def test_a_chunk_operation_is_its_batch_or_a_part_with_a_key_of_its_own() -> None:
    chunk = plan_send_many(inbox(10), run_id="r").chunks[0]
    whole = chunk_operation(chunk)
    assert (whole.method, whole.path, whole.idempotency_key) == ("POST", "/emails/batch", chunk.key)
    assert whole.body == {"emails": inbox(10)}
    part = chunk_operation(chunk, 5, 8)
    assert part.idempotency_key == f"{chunk.key}/5-8"
    assert part.body == {"emails": inbox(10)[5:8]}
    assert part.check is not None
    assert part.check({"data": [{"id": "a"}, {"id": "b"}, {"error": "c"}]}) is None
    assert part.check({"data": [{"id": "a"}]}) == "1 results for 3 emails"
    assert part.check({"data": [{"id": "a"}, "b", {"id": "c"}]}) == "3 results for 3 emails"
    assert part.check({}) == "no data list, where 3 results were promised"


def test_a_chunk_travels_as_plain_data() -> None:
    chunk = plan_send_many(inbox(3), run_id="r").chunks[0]
    fields = json.loads(json.dumps(dataclasses.asdict(chunk)))
    assert Chunk(**fields) == chunk
    assert pickle.loads(pickle.dumps(chunk)) == chunk


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"emails": ()}, "1 to 100 emails"),
        ({"emails": tuple(inbox(101))}, "1 to 100 emails"),
        ({"emails": tuple(inbox(2)), "batched": False}, "exactly 1 unless batched"),
        ({"emails": ("x",)}, r"emails\[0\] must be a dict"),
    ],
)
def test_a_chunk_rebuilt_from_bad_data_is_refused(fields: dict[str, Any], message: str) -> None:
    base = {"index": 0, "start": 0, "emails": (email(0),), "key": "r-0-x", "batched": True}
    with pytest.raises((ValueError, TypeError), match=message):
        Chunk(**{**base, **fields})


@pytest.mark.parametrize(
    ("kwargs", "error_type", "message"),
    [
        ({"run_id": ""}, ValueError, "run_id must be 1 to 200"),
        ({"run_id": "a b"}, ValueError, "without spaces"),
        ({"run_id": "é"}, ValueError, "printable ASCII"),
        ({"run_id": "x" * 201}, ValueError, "1 to 200"),
        ({"run_id": 7}, TypeError, "run_id must be a str"),
        ({"batch_size": 0}, ValueError, "batch_size must be 1 to 100"),
        ({"batch_size": 101}, ValueError, "batch_size must be 1 to 100"),
        ({"batch_size": True}, TypeError, "batch_size must be an int"),
        ({"emails": "a@b.c"}, TypeError, "emails must be a list"),
        ({"emails": [email(0), 3]}, TypeError, r"emails\[1\] must be a dict"),
        ({"emails": [email(0), email(1, tags={1})]}, TypeError, r"emails\[1\] is not JSON"),
        ({"emails": [email(0, score=math.nan)]}, ValueError, r"emails\[0\] is not JSON"),
        (
            {"emails": [*inbox(120), email(120, attachments=[{"content": "%%"}])]},
            ValueError,
            r"emails\[120\]\.attachments\[0\]\.content is not valid base64",
        ),
    ],
)
def test_bad_input_is_refused_before_anything_is_planned(
    kwargs: dict[str, Any], error_type: type[Exception], message: str
) -> None:
    arguments = {"emails": inbox(2), "run_id": "r", **kwargs}
    with pytest.raises(error_type, match=message):
        plan_send_many(**arguments)


def test_the_manifest_names_the_plan_under_a_key_of_the_run_id_alone() -> None:
    plan = plan_send_many(inbox(250), run_id="news-7")
    operation = manifest_operation(plan, timeout=3)
    assert (operation.method, operation.path) == ("POST", "/emails/spam-preview")
    assert operation.idempotency_key == "news-7-plan"
    assert operation.timeout == 3
    assert operation.body["from"] == "news@example.com"
    assert operation.body["to"] == ["u0@example.com"]
    assert plan.fingerprint in operation.body["text"]
    changed = plan_send_many(inbox(251), run_id="news-7")
    other = manifest_operation(changed)
    assert other.idempotency_key == operation.idempotency_key
    assert other.body != operation.body
    odd = plan_send_many([{"to": "not a list", "subject": "x"}], run_id="r")
    assert set(manifest_operation(odd).body) == {"subject", "text"}


# --- sending one chunk ------------------------------------------------------------------


def server_refusing(bad: set[int]) -> Callable[[Chunk, Operation[Any]], Any]:
    """A batch endpoint that refuses (422) any batch holding an email of ``bad``."""

    def answer(chunk: Chunk, operation: Operation[Any]) -> Any:
        sent = operation.body["emails"] if chunk.batched else [operation.body]
        positions = [int(e["subject"][1:]) for e in sent]
        refused = [p for p in positions if p in bad]
        if refused:
            raise PostStackError(422, f"emails[{refused[0]}] is invalid", "validation_error")
        if not chunk.batched:
            return {"id": f"em_{positions[0]}"}
        return {"data": [{"id": f"em_{p}"} for p in positions]}

    return answer


def run_chunk(chunk: Chunk, answer: Callable[[Chunk, Operation[Any]], Any]) -> tuple[Any, int]:
    send = ChunkSend(chunk)
    requests = 0
    while (operation := send.next()) is not None:
        requests += 1
        try:
            value = answer(chunk, operation)
        except PostStackError as exc:
            send.failed(exc)
        else:
            assert operation.check is None or operation.check(value) is None
            send.succeeded(value)
    assert send.chunk is chunk
    return send.results, requests


@settings(max_examples=200)
@given(n=st.integers(1, 100), bad=st.sets(st.integers(0, 99), max_size=6))
def test_one_bad_email_costs_only_itself(n: int, bad: set[int]) -> None:
    bad = {b for b in bad if b < n}
    chunk = plan_send_many(inbox(n), run_id="r").chunks[0]
    results, requests = run_chunk(chunk, server_refusing(bad))
    assert len(results) == n
    for position, outcome in enumerate(results):
        if position in bad:
            assert isinstance(outcome, PostStackError)
            assert outcome.status_code == 422
        else:
            assert outcome == f"em_{position}"
    # Halving finds each bad email in about 2 log2(n) requests.
    depth = math.ceil(math.log2(n)) if n > 1 else 0
    assert requests <= 1 + 2 * len(bad) * depth


def test_parts_of_a_chunk_split_the_same_way_every_time() -> None:
    chunk = plan_send_many(inbox(10), run_id="r").chunks[0]
    keys: list[list[str | None]] = [[], []]
    for seen in keys:

        def answer(chunk: Chunk, operation: Operation[Any], seen: list[str | None] = seen) -> Any:
            seen.append(operation.idempotency_key)
            return server_refusing({3})(chunk, operation)

        run_chunk(chunk, answer)
    assert keys[0] == keys[1]
    assert keys[0][0] == chunk.key
    assert len(set(keys[0])) == len(keys[0])


@pytest.mark.parametrize("status", [401, 408, 409, 429, 500, 503, 0])
def test_a_refusal_that_is_no_single_emails_fault_is_every_emails(status: int) -> None:
    chunk = plan_send_many(inbox(5), run_id="r").chunks[0]
    failure = error(status)

    def answer(chunk: Chunk, operation: Operation[Any]) -> Any:
        raise failure

    results, requests = run_chunk(chunk, answer)
    assert status not in SPLIT_STATUSES
    assert requests == 1
    assert results == (failure,) * 5


def test_entries_the_api_refused_inside_an_accepted_batch_are_those_emails_errors() -> None:
    chunk = plan_send_many(inbox(3), run_id="r").chunks[0]

    def answer(chunk: Chunk, operation: Operation[Any]) -> Any:
        return {"data": [{"id": "em_0"}, {"error": "bad address", "code": "invalid"}, {}]}

    results, _ = run_chunk(chunk, answer)
    assert results[0] == "em_0"
    assert isinstance(results[1], PostStackError)
    assert (results[1].status_code, results[1].error, results[1].code) == (
        422,
        "bad address",
        "invalid",
    )
    assert not results[1].retryable
    assert isinstance(results[2], PostStackError)
    assert results[2].error == "the API gave this email no id"


def test_a_chunk_send_refuses_events_out_of_order() -> None:
    send = ChunkSend(plan_send_many(inbox(2), run_id="r").chunks[0])
    with pytest.raises(CallStateError, match="no request handed out"):
        send.succeeded({"data": []})
    with pytest.raises(CallStateError, match="not done yet"):
        _ = send.results
    assert send.next() is not None
    with pytest.raises(CallStateError, match="before the last request's outcome"):
        send.next()
    send.failed(UNAVAILABLE)
    assert send.next() is None
    assert send.results == (UNAVAILABLE, UNAVAILABLE)


# --- a run ------------------------------------------------------------------------------


def ids_for(chunk: Chunk) -> list[str]:
    return [f"em_{chunk.start + offset}" for offset in range(len(chunk.emails))]


def finish(run: SendManyRun, now: float = 1.0, answer: Callable[[Chunk], Any] = ids_for) -> None:
    while (chunk := run.next_chunk()) is not None:
        run.chunk_done(chunk, answer(chunk), now)


def test_a_run_hands_out_every_chunk_once_and_keeps_every_outcome_in_place() -> None:
    plan = plan_send_many(inbox(250), run_id="r")
    run = SendManyRun(plan, 0.0)
    first, second = run.next_chunk(), run.next_chunk()
    assert first is plan.chunks[0]
    assert second is plan.chunks[1]
    assert not run.finished
    run.chunk_done(second, ids_for(second), 0.5)
    run.chunk_done(first, [UNAVAILABLE] * 100, 0.6)
    finish(run)
    assert run.finished
    assert not run.pending
    result = run.result()
    assert (result.sent, result.failed, result.skipped) == (150, 100, 0)
    assert result.ids[:100] == [None] * 100
    assert result.ids[100:] == [f"em_{i}" for i in range(100, 250)]
    assert result[0] == EmailResult(0, "failed", None, UNAVAILABLE)
    assert result[249] == EmailResult(249, "sent", "em_249", None)


def test_only_fully_sent_chunks_go_to_the_journal() -> None:
    plan = plan_send_many(inbox(250), run_id="r")
    run = SendManyRun(plan, 0.0)
    assert run.journal_header().endswith("\n")
    header = json.loads(run.journal_header())
    assert header == {
        "journal": "poststack send_many",
        "version": 1,
        "run_id": "r",
        "plan": plan.fingerprint,
        "emails": 250,
        "requests": 3,
    }
    finish(run, answer=lambda c: [*ids_for(c)[:-1], UNAVAILABLE] if c.index == 1 else ids_for(c))
    lines = run.take_journal()
    assert [json.loads(line)["chunk"] for line in lines] == [0, 2]
    assert json.loads(lines[1]) == {
        "chunk": 2,
        "key": plan.chunks[2].key,
        "ids": ids_for(plan.chunks[2]),
    }
    assert run.take_journal() == []


def test_a_throttled_chunk_goes_back_to_the_front_a_few_times() -> None:
    plan = plan_send_many(inbox(300), run_id="r")
    run = SendManyRun(plan, 0.0)
    chunk = run.next_chunk()
    assert chunk is not None
    for _ in range(5):
        run.chunk_done(chunk, [THROTTLED] * 100, 0.1)
        again = run.next_chunk()
        assert again is chunk  # first in line again
        chunk = again
    run.chunk_done(chunk, [THROTTLED] * 100, 0.1)  # the sixth time it counts as failed
    finish(run)
    result = run.result()
    assert (result.sent, result.failed) == (200, 100)
    assert result[0].error is THROTTLED


@pytest.mark.parametrize("stop", [QUOTA, UNAUTHORIZED], ids=["quota", "401"])
def test_a_quota_or_a_bad_key_ends_the_run(stop: PostStackError) -> None:
    plan = plan_send_many(inbox(400), run_id="r")
    run = SendManyRun(plan, 0.0)
    first, second = run.next_chunk(), run.next_chunk()
    assert first is not None
    assert second is not None
    run.chunk_done(first, [stop] * 100, 0.1)
    assert run.next_chunk() is None
    run.chunk_done(second, ids_for(second), 0.2)  # in flight: still recorded
    assert run.finished
    result = run.result()
    assert (result.sent, result.failed, result.skipped) == (100, 100, 200)
    assert result.stopped_by is stop
    assert result[399] == EmailResult(399, "skipped", None, stop)
    assert not result.cancelled


def test_a_cancelled_run_skips_what_was_not_started() -> None:
    run = SendManyRun(plan_send_many(inbox(300), run_id="r"), 0.0)
    chunk = run.next_chunk()
    assert chunk is not None
    run.cancel()
    assert run.next_chunk() is None
    run.chunk_done(chunk, ids_for(chunk), 1.0)
    # A throttled answer after cancel is not sent again.
    result = run.result()
    assert (result.sent, result.skipped) == (100, 200)
    assert result.cancelled
    assert result[150] == EmailResult(150, "skipped", None, None)


def test_a_throttled_chunk_is_not_requeued_once_the_run_is_cancelled() -> None:
    run = SendManyRun(plan_send_many(inbox(100), run_id="r"), 0.0)
    chunk = run.next_chunk()
    assert chunk is not None
    run.cancel()
    run.chunk_done(chunk, [THROTTLED] * 100, 1.0)
    assert run.finished
    assert run.result().failed == 100


def test_a_run_refuses_reports_it_did_not_ask_for() -> None:
    plan = plan_send_many(inbox(150), run_id="r")
    run = SendManyRun(plan, 0.0)
    with pytest.raises(CallStateError, match="not in flight"):
        run.chunk_done(plan.chunks[0], ids_for(plan.chunks[0]), 0.0)
    chunk = run.next_chunk()
    assert chunk is not None
    with pytest.raises(ValueError, match="3 outcomes for 100 emails"):
        run.chunk_done(chunk, ["a", "b", "c"], 0.0)
    other = plan_send_many(inbox(150), run_id="r").chunks[0]
    with pytest.raises(CallStateError, match="not in flight"):
        run.chunk_done(other, ids_for(other), 0.0)  # equal, but not the one handed out


def test_progress_counts_and_the_recent_rate() -> None:
    run = SendManyRun(plan_send_many(inbox(500), run_id="r"), 100.0)
    assert run.progress(100.0) == Progress(500, 0, 0, 0, 0.0, 0.0)
    for when in (101.0, 102.0):
        chunk = run.next_chunk()
        assert chunk is not None
        run.chunk_done(chunk, ids_for(chunk), when)
    progress = run.progress(104.0)
    assert (progress.sent, progress.done, progress.remaining) == (200, 200, 300)
    assert progress.rate == pytest.approx(200 / 4)
    assert progress.eta == pytest.approx(300 / 50)
    later = run.progress(120.0)  # nothing settled in the last 10 s
    assert later.rate == 0.0
    assert later.eta is None
    assert later.elapsed == 20.0
    finish(run, 121.0)
    assert run.progress(121.0).eta == 0.0


# --- journals ---------------------------------------------------------------------------


def journal_of(plan: SendManyPlan, done: Sequence[int]) -> list[str]:
    run = SendManyRun(plan, 0.0)
    lines = [run.journal_header()]
    finish(run)
    records = run.take_journal()
    return lines + [r for r in records if json.loads(r)["chunk"] in done]


def test_a_rerun_takes_the_journalled_chunks_as_done() -> None:
    plan = plan_send_many(inbox(250), run_id="r")
    lines = journal_of(plan, [0, 2])
    rerun = SendManyRun(plan, 0.0)
    assert rerun.resume([line.rstrip("\n") for line in lines])
    assert rerun.next_chunk() is plan.chunks[1]
    assert rerun.next_chunk() is None
    assert rerun.progress(0.0).sent == 150
    result_before = rerun.result()
    assert result_before.already_sent == 150
    assert result_before.skipped == 100  # not settled yet
    assert result_before.ids[0] == "em_0"


def test_an_empty_journal_is_a_new_one() -> None:
    run = SendManyRun(plan_send_many(inbox(2), run_id="r"), 0.0)
    assert not run.resume([])
    assert not run.resume(["", "  "])


def test_a_journal_of_another_plan_under_the_same_run_id_is_a_changed_input() -> None:
    before = plan_send_many(inbox(250), run_id="r")
    lines = journal_of(before, [0])
    changed = inbox(250)
    changed[3]["subject"] = "new"
    with pytest.raises(RunChangedError, match="different input") as raised:
        SendManyRun(plan_send_many(changed, run_id="r"), 0.0).resume(lines, where="journal j")
    assert raised.value.run_id == "r"
    assert "journal j records 250 emails in 3 requests" in str(raised.value)
    copy = pickle.loads(pickle.dumps(raised.value))
    assert (type(copy), copy.run_id, str(copy)) == (RunChangedError, "r", str(raised.value))


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["not json"], "line 1 is not JSON"),
        (["[1, 2]"], "line 1 is not a JSON object"),
        (['{"journal": "something else", "version": 1}'], "not a poststack send_many journal"),
        (['{"journal": "poststack send_many", "version": 2}'], "not a poststack send_many"),
        (
            ['{"journal": "poststack send_many", "version": 1, "run_id": "other"}'],
            "belongs to run 'other'",
        ),
    ],
)
def test_a_file_that_is_no_journal_of_this_run_is_refused(lines: list[str], message: str) -> None:
    plan = plan_send_many(inbox(3), run_id="r")
    with pytest.raises(JournalError, match=message):
        SendManyRun(plan, 0.0).resume(lines)


@pytest.mark.parametrize(
    "record",
    [
        {"chunk": 5, "key": "x", "ids": ["a"]},
        {"chunk": True, "key": "x", "ids": ["a"]},
        {"chunk": 0, "key": "wrong", "ids": ["em_0", "em_1", "em_2"]},
        {"chunk": 0, "ids": ["em_0"]},
        {"chunk": 0, "ids": ["em_0", "", "em_2"]},
        {"chunk": 0, "ids": "em_0"},
    ],
)
def test_a_journal_line_that_is_no_chunk_of_this_plan_is_refused(record: dict[str, Any]) -> None:
    plan = plan_send_many(inbox(3), run_id="r")
    header = SendManyRun(plan, 0.0).journal_header()
    record.setdefault("key", plan.chunks[0].key)
    with pytest.raises(JournalError, match="line 2 is no chunk of this plan"):
        SendManyRun(plan, 0.0).resume([header, json.dumps(record)])


# --- registering the plan ---------------------------------------------------------------


def test_the_answer_to_the_plans_registration() -> None:
    plan = plan_send_many(inbox(300), run_id="r")
    run = SendManyRun(plan, 0.0)
    assert run.registered(None) is None
    conflict = error(409, "conflict")
    with pytest.raises(RunChangedError, match="different input") as raised:
        run.registered(conflict)
    assert raised.value.__cause__ is conflict
    warning = run.registered(error(404, "not_found"))
    assert warning is not None
    assert "will not be detected" in warning
    assert run.pending
    assert run.registered(UNAUTHORIZED) is None
    assert not run.pending
    result = run.result()
    assert (result.skipped, result.stopped_by) == (300, UNAUTHORIZED)


# --- the result -------------------------------------------------------------------------


def sample_result() -> SendManyResult:
    run = SendManyRun(plan_send_many(inbox(4), run_id="r", batch_size=1), 0.0)
    outcomes: list[Any] = [["em_0"], [error(422, "invalid")], ["em_2"]]
    for outcome in outcomes:
        chunk = run.next_chunk()
        assert chunk is not None
        run.chunk_done(chunk, outcome, 0.0)
    run.cancel()
    return run.result()


def test_a_result_is_a_sequence_of_email_results() -> None:
    result = sample_result()
    assert len(result) == 4
    assert [r.status for r in result] == ["sent", "failed", "sent", "skipped"]
    assert result[-1] == result[3]
    assert result[1:3] == [result[1], result[2]]
    assert result.ids == ["em_0", None, "em_2", None]
    assert [r.index for r in result.failures()] == [1, 3]
    assert not result.ok
    assert repr(result) == "<SendManyResult run_id='r' sent=2 failed=1 skipped=1>"
    with pytest.raises(IndexError):
        result[4]
    with pytest.raises(IndexError):
        result[-5]


def test_raise_for_failures() -> None:
    result = sample_result()
    with pytest.raises(SendManyError) as raised:
        result.raise_for_failures()
    failure = raised.value
    assert failure.result is result
    assert (failure.status_code, failure.code) == (422, "invalid")
    assert str(failure).startswith("422 invalid: 2 of 4 emails not sent (1 failed, 1 skipped)")
    assert isinstance(failure.__cause__, PostStackError)
    copy = pickle.loads(pickle.dumps(failure))
    assert (type(copy), copy.status_code, copy.result.ids) == (SendManyError, 422, result.ids)
    run = SendManyRun(plan_send_many(inbox(2), run_id="r"), 0.0)
    finish(run)
    assert run.result().raise_for_failures() is not None
    cancelled = SendManyRun(plan_send_many(inbox(2), run_id="r"), 0.0)
    cancelled.cancel()
    with pytest.raises(SendManyError) as raised:
        cancelled.result().raise_for_failures()
    assert (raised.value.status_code, raised.value.code) == (0, "cancelled")


def test_a_result_needs_one_id_slot_per_email() -> None:
    with pytest.raises(ValueError, match="one state and one id"):
        SendManyResult("r", b"\x01", [], {})


# --- the send_many and send_chunk definitions -------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error_type", "message"),
    [
        ({"concurrency": 0}, ValueError, "concurrency must be 1 to 256"),
        ({"concurrency": 257}, ValueError, "concurrency must be 1 to 256"),
        ({"concurrency": 2.0}, TypeError, "concurrency must be an int"),
        ({"on_progress": "print"}, TypeError, "on_progress must be a callable"),
        ({"cancel": True}, TypeError, "cancel must have an is_set"),
        ({"journal": 7, "run_id": "r"}, TypeError, "journal must be a file path"),
        ({"journal": "", "run_id": "r"}, TypeError, "journal must be a file path"),
        ({"journal": "j.jsonl"}, ValueError, "a journal needs a run_id"),
        ({"detect_changes": 1}, TypeError, "detect_changes must be True or False"),
        ({"timeout": -1}, ValueError, "timeout"),
        ({"run_id": "has space"}, ValueError, "without spaces"),
    ],
)
def test_send_many_checks_its_arguments(
    kwargs: dict[str, Any], error_type: type[Exception], message: str
) -> None:
    with pytest.raises(error_type, match=message):
        endpoint.send_many(inbox(2), **kwargs)


def test_send_many_describes_a_run() -> None:
    from pathlib import Path

    job = endpoint.send_many(inbox(150), run_id="r", journal=Path("j.jsonl"), concurrency=2)
    assert (job.journal, job.concurrency, job.registers) == ("j.jsonl", 2, True)
    assert job.plan("ignored") == plan_send_many(inbox(150), run_id="r")  # the caller's id
    assert not endpoint.send_many(inbox(1)).registers  # a fresh id cannot be in use
    assert not endpoint.send_many(inbox(1), run_id="r", detect_changes=False).registers
    assert endpoint.send_many(inbox(1)).plan("fresh").run_id == "fresh"


def test_send_chunk_is_a_run_of_that_one_chunk() -> None:
    chunk = plan_send_many(inbox(250), run_id="news-7").chunks[2]
    job = endpoint.send_chunk(chunk, timeout=9)
    assert not job.registers
    assert job.timeout == 9
    plan = job.plan("ignored")
    assert plan.chunks == (chunk,)
    assert plan.run_id == "news-7"
    run = SendManyRun(plan, 0.0)
    finish(run)
    result = run.result()
    assert [r.index for r in result] == list(range(200, 250))
    assert result.ids == [f"em_{i}" for i in range(200, 250)]
    with pytest.raises(TypeError, match="chunk must be a Chunk"):
        endpoint.send_chunk({"emails": []})  # type: ignore[arg-type]


def test_the_batch_limit_is_the_specs() -> None:
    assert BATCH_LIMIT == 100
    assert sorted(SPLIT_STATUSES) == [400, 403, 404, 413, 422]


OUTCOMES = st.sampled_from(["ids", "unavailable", "throttled", "quota", "one bad", "cancel"])


def play(run: SendManyRun, data: st.DataObject) -> tuple[dict[int, int], dict[int, Any], bool]:
    """Drive ``run`` as concurrent workers would, in an order hypothesis picks.

    Returns how often each chunk was handed out, the last outcome reported
    for each email, and whether a quota was reported.
    """
    in_flight: list[Chunk] = []
    handed: dict[int, int] = {}
    reported: dict[int, Any] = {}
    quota_seen = False
    for step in range(10_000):
        if run.pending and (not in_flight or data.draw(st.booleans())):
            chunk = run.next_chunk()
            assert chunk is not None
            handed[chunk.index] = handed.get(chunk.index, 0) + 1
            in_flight.append(chunk)
            continue
        if not in_flight:
            break
        chunk = in_flight.pop(data.draw(st.integers(0, len(in_flight) - 1)))
        kind = data.draw(OUTCOMES)
        if kind == "cancel":
            run.cancel()
            kind = "ids"
        outcomes: list[Any]
        if kind == "ids":
            outcomes = ids_for(chunk)
        elif kind == "one bad":
            outcomes = [*ids_for(chunk)[:-1], error(422)]
        else:
            failure = {"unavailable": UNAVAILABLE, "throttled": THROTTLED, "quota": QUOTA}[kind]
            outcomes = [failure] * len(chunk.emails)
            quota_seen = quota_seen or kind == "quota"
        run.chunk_done(chunk, outcomes, float(step))
        for offset, outcome in enumerate(outcomes):
            reported[chunk.start + offset] = outcome
    return handed, reported, quota_seen


@settings(max_examples=150, deadline=None)
@given(total=st.integers(0, 250), batch_size=st.sampled_from([3, 40, 100]), data=st.data())
def test_any_interleaving_settles_every_email_exactly_once(
    total: int, batch_size: int, data: st.DataObject
) -> None:
    run = SendManyRun(plan_send_many(inbox(total), run_id="r", batch_size=batch_size), 0.0)
    handed, reported, quota_seen = play(run, data)
    assert run.finished
    assert run.next_chunk() is None
    result = run.result()
    assert len(result) == total
    assert result.sent + result.failed + result.skipped == total
    assert all(count <= 6 for count in handed.values())  # once, plus throttled requeues
    for position, item in enumerate(result):
        assert item.index == position
        last = reported.get(item.index)
        if item.status == "sent":
            assert item.id == last == f"em_{item.index}"
            assert item.error is None
        elif item.status == "failed":
            assert item.error is not None
            assert item.error is last
        else:
            assert item.id is None
            assert last is None or last is THROTTLED  # throttled, then never sent again
    progress = run.progress(10_001.0)
    counts = (progress.sent, progress.failed, progress.skipped)
    assert counts == (result.sent, result.failed, result.skipped)
    if quota_seen:
        assert result.stopped_by is QUOTA

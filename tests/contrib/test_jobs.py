"""poststack.contrib._jobs: the decisions every job-queue integration shares.

Job keys and chunk job ids (properties over any id), the retry waits
(properties over any error), one client per process across a real fork and
racing threads, chunks as job arguments, and a chunk's outcome against the
sandbox. No queue library is needed.
"""

from __future__ import annotations

import json
import os
import re
import threading
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from poststack import PostStack, PostStackError, SendManyError
from poststack.contrib._jobs import (
    ClientSet,
    JobRetries,
    ProcessClient,
    chunk_from_job,
    chunk_job,
    chunk_job_id,
    chunk_outcome,
    job_key,
    plan_chunks,
    send_key,
)
from poststack.testing import Sandbox
from poststack_core._operation import check_idempotency_key

QUEUES = st.sampled_from(["rq", "arq", "dramatiq", "celery"])
RUN_IDS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,40}", fullmatch=True)


def email(n: int) -> Any:
    return {"from": "a@yourdomain.com", "to": [f"u{n}@example.org"], "subject": "s", "text": "t"}


@given(QUEUES, st.text(min_size=1, max_size=400))
def test_a_job_key_is_stable_valid_and_readable_when_it_can_be(queue: str, job_id: str) -> None:
    key = job_key(queue, job_id)
    assert key == job_key(queue, job_id)
    assert check_idempotency_key(key) == key
    assert key.startswith(f"{queue}-")
    if re.fullmatch(r"[!-~]{1,200}", job_id):
        assert key == f"{queue}-{job_id}"
    else:
        assert re.fullmatch(rf"{queue}-sha256-[0-9a-f]{{64}}", key)


@given(QUEUES, st.text(min_size=1, max_size=50), st.text(min_size=1, max_size=50))
def test_two_jobs_never_share_a_key(queue: str, first: str, second: str) -> None:
    if first != second:
        assert job_key(queue, first) != job_key(queue, second)


def test_the_payloads_own_key_wins() -> None:
    assert send_key({"idempotency_key": "receipt-7"}, "rq-1") == "receipt-7"
    assert send_key({}, "rq-1") == "rq-1"
    assert send_key({"idempotency_key": ""}, "rq-1") == "rq-1"


@given(
    st.one_of(st.sampled_from([0, 200, 400, 401, 404, 408, 409, 422, 429]), st.integers(500, 599)),
    st.sampled_from([None, "rate_limit_exceeded", "internal_error", "monthly_limit_exceeded"]),
    st.one_of(st.none(), st.floats(0, 3600)),
    st.integers(0, 40),
    st.integers(0, 20),
    st.floats(0, 0.999),
)
def test_a_job_retries_only_when_the_error_says_so_and_within_its_bound(
    status: int,
    code: str | None,
    retry_after: float | None,
    retries: int,
    bound: int,
    jitter: float,
) -> None:
    error = PostStackError(status, "x", code, retry_after=retry_after)
    policy = JobRetries(bound, backoff=2, backoff_max=600)
    delay = policy.delay(error, retries, rng=lambda: jitter)
    assert (delay is None) == (not error.retryable or retries >= bound)
    if delay is not None and retry_after is None:
        ceiling = min(600, 2 * 2**retries)
        assert ceiling / 2 <= delay <= ceiling
    elif delay is not None:
        assert delay == retry_after
    # Unbounded (arq counts the tries itself): only the error decides.
    assert (JobRetries(None).delay(error, retries) is None) == (not error.retryable)


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"max_retries": -1}, ValueError),
        ({"max_retries": True}, TypeError),
        ({"max_retries": 1.5}, TypeError),
        ({"backoff": 0}, ValueError),
        ({"backoff": float("nan")}, ValueError),
        ({"backoff": "2"}, TypeError),
        ({"backoff": 10, "backoff_max": 5}, ValueError),
    ],
)
def test_retry_settings_are_checked(options: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        JobRetries(**options)


def test_a_forked_child_makes_its_own_client() -> None:
    made: list[int] = []

    def factory() -> object:
        made.append(os.getpid())
        return object()

    clients = ProcessClient(factory)
    parents = clients.get()
    assert clients.get() is parents
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: a fresh client, made here, and never the parent's
        try:
            child = clients.get()
            ok = child is not parents and made[-1] == os.getpid() and clients.get() is child
            os.write(write, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        assert pipe.read() == b"1"
    os.waitpid(pid, 0)
    assert clients.get() is parents
    assert made == [os.getpid()]
    assert clients.release() is parents
    assert clients.release() is None


def test_threads_of_a_process_share_one_client() -> None:
    made: list[object] = []
    start = threading.Barrier(8)

    def factory() -> object:
        made.append(client := object())
        return client

    clients = ProcessClient(factory)
    got: list[object] = []

    def use() -> None:
        start.wait()
        got.append(clients.get())

    threads = [threading.Thread(target=use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 1
    assert got == made * 8


def test_a_client_set_hands_over_every_client_it_made_once() -> None:
    made: list[tuple[str, object]] = []

    def factory(name: str) -> Any:
        def make() -> object:
            made.append((name, client := object()))
            return client

        return make

    clients = ClientSet(factory("default"))
    assert clients.of(None) is clients.default
    own = clients.of(factory("own"))
    unused = clients.of(factory("unused"))
    default_client, own_client = clients.default.get(), own.get()
    assert unused is not own
    # Every client made, the default and the factory's, once; none for the unused factory.
    assert clients.release_all() == [default_client, own_client]
    assert made == [("default", default_client), ("own", own_client)]
    assert clients.release_all() == []


@given(RUN_IDS, st.integers(1, 250), st.integers(1, 100))
def test_chunks_travel_as_json_and_come_back_the_same(run_id: str, count: int, size: int) -> None:
    plan = plan_chunks([email(n) for n in range(count)], run_id=run_id, batch_size=size)
    for chunk in plan.chunks:
        carried = json.loads(json.dumps(chunk_job(chunk)))
        assert chunk_from_job(carried) == chunk
        job_id = chunk_job_id("rq", chunk)
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,200}", job_id)
        assert job_id == chunk_job_id("rq", chunk_from_job(carried))
    assert len({chunk_job_id("rq", c) for c in plan.chunks}) == len(plan.chunks)


def test_a_chunk_job_refuses_what_is_not_a_chunk() -> None:
    (chunk,) = plan_chunks([email(1)], run_id="r", batch_size=10).chunks
    with pytest.raises(TypeError, match="a dict"):
        chunk_from_job([1, 2])
    with pytest.raises(ValueError, match="fields"):
        chunk_from_job({**chunk_job(chunk), "extra": 1})
    with pytest.raises(TypeError, match="JSON"):
        plan_chunks([{**email(1), "headers": {"X": object()}}], run_id="r", batch_size=10)


def test_a_chunks_outcome_is_retryable_only_when_an_unsent_email_may_go_through() -> None:
    with (
        Sandbox(api_key="sk_test_jobs") as sb,
        PostStack(api_key=sb.api_key, base_url=sb.base_url, max_retries=0) as client,
    ):
        chunks = plan_chunks([email(n) for n in range(6)], run_id="r-1", batch_size=2).chunks
        done = chunk_outcome(chunks[0], client.emails.send_chunk(chunks[0]))
        assert done["key"] == chunks[0].key
        assert done["start"] == 0
        assert done["ids"] == [e.id for e in sb.outbox]

        sb.faults.next(status=503, retry_after=3, method="POST", path="/emails/batch")
        with pytest.raises(SendManyError) as temporary:
            chunk_outcome(chunks[1], client.emails.send_chunk(chunks[1]))
        assert temporary.value.retryable
        assert temporary.value.retry_after == 3

        sb.faults.next(status=401, code="unauthorized", method="POST", path="/emails/batch")
        with pytest.raises(SendManyError) as final:
            chunk_outcome(chunks[2], client.emails.send_chunk(chunks[2]))
        assert not final.value.retryable
        assert len(sb.outbox) == 2

"""poststack.contrib.celery with real worker processes, a real Redis broker and the sandbox.

The sandbox runs in this process; workers reach it over loopback HTTP with the key
and base URL in their environment. The point of these tests: whatever happens to
a worker, the sandbox ends up with exactly one email per task.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from celery.result import AsyncResult
from hypothesis import given
from hypothesis import strategies as st

from poststack import PostStackConnectionError, PostStackError
from poststack.contrib.celery import (
    SendEmailTask,
    idempotency_key_for,
    register,
    retry_delay,
)
from poststack.testing import Sandbox
from tests.contrib.celery_harness import Worker, redis_server, workers
from tests.contrib.celeryapp import make_app
from tests.contrib.conftest import doc_blocks, wait_until

MESSAGE: Any = {"from": "hello@yourdomain.com", "subject": "Hi", "text": "Hello"}


def message(n: int = 0) -> Any:
    return {**MESSAGE, "to": [f"user{n}@example.org"]}


@dataclass
class Env:
    sb: Sandbox
    broker: str
    tmp: Path
    app: Celery
    send_email: SendEmailTask

    def worker_env(self, **extra: str) -> dict[str, str]:
        return {
            "POSTSTACK_API_KEY": self.sb.api_key,
            "POSTSTACK_BASE_URL": self.sb.base_url,
            "POSTSTACK_TEST_BROKER": self.broker,
            **extra,
        }

    def worker(self, name: str, **options: Any) -> Worker:
        env = options.pop("env", {})
        return Worker(name, self.worker_env(**env), self.tmp / f"{name}.log", **options)


@pytest.fixture
def env(sb: Sandbox, tmp_path: Path) -> Iterator[Env]:
    with redis_server(tmp_path) as broker:
        app, send_email = make_app(broker)
        try:
            yield Env(sb, broker, tmp_path, app, send_email)
        finally:
            app.close()


def post_emails(sb: Sandbox) -> list[Any]:
    return [r for r in sb.requests if (r.method, r.path) == ("POST", "/emails")]


def test_send_retry_and_give_up(env: Env) -> None:
    sb = env.sb
    with workers(env.worker("w1")):
        # A plain send: the key comes from the task id.
        result = env.send_email.delay(message(1))
        assert result.get(timeout=60) == {"id": sb.wait_for_emails(1)[0].id}
        assert [r.idempotency_key for r in post_emails(sb)] == [f"celery-{result.id}"]

        # The first attempt creates the email but its response is lost (503 after
        # processing), and so do the next five: the client's own retries run out,
        # the task is re-queued, and the replayed key finally answers the first id.
        sb.clear()
        sb.faults.next(status=503, process=True, method="POST", path="/emails", count=6)
        result = env.send_email.delay(message(2))
        answer = result.get(timeout=90)
        (email,) = sb.outbox
        assert answer == {"id": email.id}
        keys = [r.idempotency_key for r in post_emails(sb)]
        assert keys == [f"celery-{result.id}"] * 7
        assert result.retries >= 1

        # No response at all (connection reset, never processed), then success.
        sb.clear()
        sb.faults.next(reset=True, method="POST", path="/emails", count=5)
        result = env.send_email.delay(message(3))
        assert result.get(timeout=90) == {"id": sb.wait_for_emails(1)[0].id}
        assert len(post_emails(sb)) == 6
        assert len(sb.outbox) == 1

        # A 4xx is final: one request, no retry, the task fails.
        sb.clear()
        bad = env.send_email.delay({**message(4), "subject": ""})
        with pytest.raises(Exception, match="subject"):
            bad.get(timeout=60)
        assert bad.state == "FAILURE"
        sb.faults.next(status=429, code="monthly_limit_exceeded", path="/emails")
        quota = env.send_email.delay(message(5))
        with pytest.raises(Exception, match=r"Too Many Requests|limit"):
            quota.get(timeout=60)
        assert len(post_emails(sb)) == 2
        assert sb.outbox == []

        # The payload's own idempotency_key de-duplicates two different tasks.
        sb.clear()
        receipt = {**message(6), "idempotency_key": "receipt-1001"}
        first = env.send_email.delay(receipt).get(timeout=60)
        second = env.send_email.delay(receipt).get(timeout=60)
        assert first == second
        assert len(sb.outbox) == 1
        assert [r.idempotency_key for r in post_emails(sb)] == ["receipt-1001"] * 2


def test_killed_mid_send_then_redelivered_sends_once(env: Env) -> None:
    """SIGKILL the worker while its request is at the API; the redelivered task
    (same task id, same key) must not create a second email."""
    sb = env.sb
    visibility = {"POSTSTACK_TEST_VISIBILITY": "4"}
    # The request is held for 2 s, then processed (the email is created); its
    # response goes nowhere, because by then the worker is dead.
    sb.faults.next(delay=2.0, process=True, reset=True, method="POST", path="/emails")
    first = env.worker("doomed", env=visibility, concurrency=1)
    with workers(first):
        result = env.send_email.delay(message(1))
        sb.wait_for_requests(1, timeout=60)  # mid-send
        first.kill()
        (created,) = sb.wait_for_emails(1, timeout=30)
    assert result.state == "PENDING"  # never acknowledged, never finished

    with workers(env.worker("successor", env=visibility, concurrency=1)):
        # Redis hands the unacknowledged task out again after the visibility timeout.
        assert result.get(timeout=120) == {"id": created.id}
    assert len(sb.outbox) == 1
    keys = [r.idempotency_key for r in post_emails(sb)]
    assert keys == [f"celery-{result.id}"] * 2


def test_prefork_child_killed_mid_send_is_requeued_and_sends_once(env: Env) -> None:
    """reject_on_worker_lost: the pool child dies mid-send, the parent puts the task
    back at once, a new child runs it while the first request is still at the API."""
    sb = env.sb
    # The first request is held 3 s, then processed; the retry overtakes it.
    sb.faults.next(delay=3.0, process=True, reset=True, method="POST", path="/emails")
    worker = env.worker("forking", pool="prefork", concurrency=1)
    with workers(worker):
        result = env.send_email.delay(message(1))
        sb.wait_for_requests(1, timeout=60)
        held_until = time.monotonic() + 3.0
        (child,) = worker.children()
        os.kill(child, signal.SIGKILL)
        answer = result.get(timeout=120)
        (email,) = sb.wait_for_emails(1)
        assert answer == {"id": email.id}
        assert "WorkerLostError" in worker.output()
    # Let the held request finish too: it replays the key and creates nothing. (If
    # the machine is too slow for it to finish in this margin, the check is weaker,
    # never wrong.)
    wait_until(lambda: time.monotonic() > held_until + 1.0, 30, "the held request")
    assert len(sb.outbox) == 1
    assert [r.idempotency_key for r in post_emails(sb)] == [f"celery-{result.id}"] * 2


# Its waits below bound it, not the suite's 120 s: under load, 500 sends take minutes.
@pytest.mark.timeout(600)
def test_500_sends_through_two_workers_create_exactly_500(env: Env) -> None:
    sb = env.sb
    with workers(env.worker("alpha"), env.worker("beta")) as (alpha, beta):
        results: list[AsyncResult[Any]] = [env.send_email.delay(message(n)) for n in range(500)]
        sb.wait_for_emails(500, timeout=300)
        answers = [result.get(timeout=120) for result in results]
        ran_on = {result.worker for result in results}
    outbox = sb.outbox
    assert len(outbox) == 500
    assert sorted(a["id"] for a in answers) == sorted(e.id for e in outbox)
    assert sorted(e.to[0] for e in outbox) == sorted(f"user{n}@example.org" for n in range(500))
    assert len({r.id for r in results}) == 500
    assert {name.split("@")[0] for name in ran_on if name} == {alpha.name, beta.name}


def test_retry_delay() -> None:
    def delay(error: PostStackError, retries: int = 0, jitter: float = 1.0) -> float | None:
        return retry_delay(error, retries, backoff=2, backoff_max=60, rng=lambda: jitter)

    assert delay(PostStackConnectionError(0, "refused")) == 2
    assert delay(PostStackError(503, "down"), 3) == 16
    assert delay(PostStackError(500, "x"), 3, jitter=0.0) == 8
    assert delay(PostStackError(500, "x"), 10) == 60
    assert delay(PostStackError(500, "x"), 10_000) == 60
    assert delay(PostStackError(408, "timeout")) == 2
    assert delay(PostStackError(200, "garbled", "invalid_response")) == 2
    assert delay(PostStackError(429, "slow down", "rate_limit_exceeded", retry_after=120)) == 120
    assert delay(PostStackError(429, "proxy")) == 2
    assert delay(PostStackError(503, "busy", retry_after=7.5)) == 7.5
    for final in (
        PostStackError(400, "bad", "invalid_request"),
        PostStackError(401, "key", "unauthorized"),
        PostStackError(404, "nope", "not_found"),
        PostStackError(422, "unverified", "unprocessable_entity"),
        PostStackError(429, "quota", "monthly_limit_exceeded", retry_after=5),
        PostStackError(429, "quota in disguise", "rate_limit_exceeded"),
    ):
        assert delay(final) is None, final


@given(
    st.one_of(st.sampled_from([0, 200, 400, 404, 408, 409, 422, 429]), st.integers(500, 599)),
    st.sampled_from([None, "rate_limit_exceeded", "internal_error", "quota_exceeded"]),
    st.one_of(st.none(), st.floats(0, 3600)),
    st.integers(0, 100),
    st.floats(0, 0.999),
)
def test_retry_delay_follows_the_errors_own_answer(
    status: int, code: str | None, retry_after: float | None, retries: int, jitter: float
) -> None:
    error = PostStackError(status, "x", code, retry_after=retry_after)
    delay = retry_delay(error, retries, backoff=2, backoff_max=600, rng=lambda: jitter)
    assert (delay is None) == (not error.retryable)
    if delay is not None and retry_after is None:
        ceiling = min(600, 2 * 2**retries)
        assert ceiling / 2 <= delay <= ceiling
    elif delay is not None:
        assert delay == retry_after


def test_idempotency_key_for() -> None:
    assert idempotency_key_for(message(), "abc") == "celery-abc"
    assert idempotency_key_for({**message(), "idempotency_key": "own"}, "abc") == "own"
    assert idempotency_key_for(message(), None) is None


def test_register_options() -> None:
    app = Celery("options", set_as_current=False)
    task = register(app, name="mail.send", max_retries=3, rate_limit="10/s", time_limit=60)
    assert app.tasks["mail.send"] == task
    assert (task.acks_late, task.reject_on_worker_lost, task.max_retries) == (True, True, 3)
    assert (task.rate_limit, task.time_limit) == ("10/s", 60)
    assert "poststack.send_email" not in app.tasks  # nothing leaks in from other apps
    app.close()


def test_docs(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    (tasks_block,) = doc_blocks("celery")
    folder = env.tmp / "docs_project"
    folder.mkdir()
    (folder / "tasks.py").write_text(tasks_block)
    worker_env = {"CELERY_BROKER_URL": env.broker, "PYTHONPATH": str(folder)}
    monkeypatch.setenv("CELERY_BROKER_URL", env.broker)
    namespace: dict[str, Any] = {"__name__": "docs_tasks"}
    exec(tasks_block, namespace)
    try:
        worker = env.worker("docs", app="tasks", cwd=folder, env=worker_env)
        with workers(worker):
            namespace["on_order_paid"](1001, "buyer@example.org")
            namespace["on_order_paid"](1001, "buyer@example.org")  # a duplicate event
            (receipt,) = env.sb.wait_for_emails(1, timeout=60)
            namespace["on_order_paid"](1002, "other@example.org")
            env.sb.wait_for_emails(2, timeout=60)
            # All three tasks ran; the duplicate event created nothing.
            wait_until(lambda: worker.output().count(" succeeded in ") == 3, 60, "3 tasks")
    finally:
        namespace["app"].close()
    assert receipt.to == ("buyer@example.org",)
    assert receipt.subject == "Your receipt for order 1001"
    assert [e.subject for e in env.sb.outbox] == [
        "Your receipt for order 1001",
        "Your receipt for order 1002",
    ]
    assert os.environ["CELERY_BROKER_URL"] == env.broker

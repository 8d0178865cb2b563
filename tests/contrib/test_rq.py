"""poststack.contrib.rq with real RQ workers (forking ``Worker``), a real Redis and the sandbox.

The sandbox runs in this process; the workers reach it over loopback HTTP with
the key and base URL in their environment. Whatever happens to a work horse or
a worker, the sandbox ends up with exactly one email per job. Waits are on
Redis state (job statuses) and on the sandbox (requests, outbox), never sleeps.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from rq import Queue, Retry
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry

from poststack.contrib.rq import (
    CRASH_RETRIES,
    enqueue_email,
    enqueue_send_many,
    send_chunk,
    send_email,
)
from poststack.testing import Sandbox
from tests.contrib.closing import CLOSED_LOG, closed_pids
from tests.contrib.conftest import doc_blocks, wait_until
from tests.contrib.harness import (
    WorkerProcess,
    hold_next_send,
    keys_sent,
    posts,
    redis_server,
    worker_env,
    workers,
)
from tests.contrib.rqapp import noted_send, send_receipt, welcome_and_tips

MESSAGE: Any = {"from": "hello@yourdomain.com", "subject": "Hi", "text": "Hello"}
DONE = {JobStatus.FINISHED, JobStatus.FAILED}


def message(n: int = 0) -> Any:
    return {**MESSAGE, "to": [f"user{n}@example.org"]}


@dataclass
class Env:
    sb: Sandbox
    url: str
    redis: Redis
    queue: Queue
    tmp: Path

    def worker(
        self,
        name: str,
        *,
        worker_class: str = "rq.Worker",
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        queue: str = "mail",
        maintenance_interval: int = 600,
    ) -> WorkerProcess:
        command = [
            sys.executable,
            "-m",
            "rq.cli",
            "worker",
            "--url",
            self.url,
            "--name",
            name,
            "--worker-class",
            worker_class,
            "--with-scheduler",
            "--job-monitoring-interval",
            "1",
            "--maintenance-interval",
            str(maintenance_interval),
            queue,
        ]
        return WorkerProcess(
            name,
            command,
            worker_env(self.sb, **(env or {})),
            self.tmp / f"{name}.log",
            ready="Listening on",
            **({"cwd": cwd} if cwd else {}),
        )


@pytest.fixture
def env(sb: Sandbox, tmp_path: Path) -> Iterator[Env]:
    with redis_server(tmp_path) as url:
        redis = Redis.from_url(url)
        try:
            yield Env(sb, url, redis, Queue("mail", connection=redis), tmp_path)
        finally:
            redis.close()


def finished(job: Job, timeout: float = 90) -> Job:
    """Wait until ``job`` has finished or failed for good (its status in Redis)."""
    wait_until(lambda: job.get_status(refresh=True) in DONE, timeout, f"job {job.id} to end")
    job.refresh()
    return job


def test_send_retry_and_give_up(env: Env) -> None:
    sb = env.sb
    with workers(env.worker("w1")):
        # A plain send: the key comes from the job id.
        job = finished(enqueue_email(env.queue, message(1)))
        (email,) = sb.outbox
        assert job.return_value() == {"id": email.id}
        assert keys_sent(sb) == [f"rq-{job.id}"]

        # 503 then 200: the first attempt creates the email but its answer is lost,
        # three more 503s use up the client's own retries, and RQ runs the job again
        # (a returned rq.Retry), whose replayed key answers the first email's id.
        sb.clear()
        sb.faults.next(status=503, process=True, method="POST", path="/emails")
        sb.faults.next(status=503, method="POST", path="/emails", count=3)
        job = finished(enqueue_email(env.queue, message(2)))
        (email,) = sb.outbox
        assert job.get_status() == JobStatus.FINISHED
        assert job.return_value() == {"id": email.id}
        assert job.number_of_retries == 1
        assert keys_sent(sb) == [f"rq-{job.id}"] * 5

        # A throttling 429's Retry-After is the wait RQ schedules (whole seconds).
        sb.clear()
        sb.faults.next(status=429, retry_after=2, method="POST", path="/emails", count=4)
        job = finished(enqueue_email(env.queue, message(3)))
        assert job.return_value() == {"id": sb.outbox[0].id}
        (retried,) = [r for r in job.results() if r.type.name == "RETRIED"]
        assert retried.return_value.intervals == [2]
        assert len(posts(sb)) == 5

        # A 4xx is final: one request, the job fails, and the crash retries that
        # enqueue_email gave it are not spent on it.
        sb.clear()
        bad = finished(enqueue_email(env.queue, {**message(4), "subject": ""}))
        assert bad.get_status() == JobStatus.FAILED
        assert "subject" in (bad.latest_result().exc_string or "")
        assert bad.retries_left == 0
        sb.faults.next(status=429, code="monthly_limit_exceeded", path="/emails")
        quota = finished(enqueue_email(env.queue, message(5)))
        assert quota.get_status() == JobStatus.FAILED
        assert "monthly_limit_exceeded" in (quota.latest_result().exc_string or "")
        assert len(posts(sb)) == 2
        assert sb.outbox == []

        # The payload's own idempotency_key de-duplicates two different jobs.
        sb.clear()
        receipt = {**message(6), "idempotency_key": "receipt-1001"}
        first = finished(enqueue_email(env.queue, receipt))
        second = finished(enqueue_email(env.queue, receipt))
        assert first.return_value() == second.return_value()
        assert len(sb.outbox) == 1
        assert keys_sent(sb) == ["receipt-1001"] * 2

        # Plain queue.enqueue works too, and a user's own job gets a client and a key.
        sb.clear()
        plain = finished(env.queue.enqueue(send_email, message(7)))
        own = finished(env.queue.enqueue(send_receipt, 1001, "buyer@example.org"))
        twice = finished(env.queue.enqueue(welcome_and_tips, "new@example.org"))
        assert [e.subject for e in sb.outbox] == [
            "Hi",
            "Receipt for order 1001",
            "welcome",
            "tips",
        ]
        assert plain.return_value() == {"id": sb.outbox[0].id}
        assert own.return_value() == sb.outbox[1].id
        assert twice.return_value() == [sb.outbox[2].id, sb.outbox[3].id]
        assert keys_sent(sb) == [
            f"rq-{plain.id}",
            f"rq-{own.id}",
            f"rq-{twice.id}-welcome",
            f"rq-{twice.id}-tips",
        ]


def test_bad_payloads_fail_before_anything_is_queued(env: Env) -> None:
    for bad, error in [
        ("not a dict", TypeError),
        ({**message(), "attachments": [{"filename": "a.txt", "content": b"raw"}]}, TypeError),
        ({**message(), "headers": {"X-When": object()}}, TypeError),
        ({**message(), "idempotency_key": "has spaces "}, ValueError),
        ({**message(), "idempotency_key": 7}, TypeError),
    ]:
        with pytest.raises(error):
            enqueue_email(env.queue, bad)
    with pytest.raises(TypeError, match="JSON"):
        enqueue_send_many(env.queue, [message(1), {**message(2), "x": {1, 2}}], run_id="r-1")
    with pytest.raises(ValueError, match="run_id"):
        enqueue_send_many(env.queue, [message(1)], run_id="has space")
    assert env.queue.count == 0
    assert env.sb.requests == []


def test_horse_killed_mid_send_is_run_again_and_sends_once(env: Env) -> None:
    """SIGKILL the work horse while its request is at the API: the worker runs the job
    again (a crash retry), with the same key, and the API answers the first email."""
    sb = env.sb
    hold_next_send(sb)
    worker = env.worker("forking")
    with workers(worker):
        job = enqueue_email(env.queue, message(1))
        sb.wait_for_requests(1, timeout=60)  # mid-send
        horse = worker.wait_for_child("the work horse", own_group=True)
        # The worker waits, paused, so that the held request is processed (and the
        # email created) before the job runs again: the run after the crash must
        # then be answered with that email, not make a second one.
        worker.signal(signal.SIGSTOP)
        try:
            os.kill(horse, signal.SIGKILL)
            (created,) = sb.wait_for_emails(1, timeout=30)
        finally:
            worker.signal(signal.SIGCONT)
        finished(job)
        assert job.get_status() == JobStatus.FINISHED
        assert job.return_value() == {"id": created.id}
        assert job.retries_left == CRASH_RETRIES - 1
        assert "Work-horse terminated unexpectedly" in worker.output()
    assert len(sb.outbox) == 1
    assert keys_sent(sb) == [f"rq-{job.id}"] * 2


def test_worker_killed_mid_send_is_found_abandoned_and_sends_once(env: Env) -> None:
    """SIGKILL the whole worker mid-send: another worker finds the job abandoned
    (its heartbeat expired), runs it again, and the API answers the first email."""
    sb = env.sb
    hold_next_send(sb)
    doomed = env.worker("doomed", worker_class="tests.contrib.rqapp.QuickWorker")
    with workers(doomed):
        job = enqueue_email(env.queue, message(1))
        sb.wait_for_requests(1, timeout=60)
        doomed.kill()
        (created,) = sb.wait_for_emails(1, timeout=30)
    assert job.get_status(refresh=True) == JobStatus.STARTED  # never finished
    registry = StartedJobRegistry("mail", connection=env.redis)
    wait_until(
        lambda: job.id in registry.get_expired_job_ids(),
        60,
        "the dead worker's heartbeat to expire",
    )
    # Its first maintenance (at once, then every second) finds the job abandoned.
    successor = env.worker(
        "successor", worker_class="tests.contrib.rqapp.QuickWorker", maintenance_interval=1
    )
    with workers(successor):
        finished(job)
        assert job.get_status() == JobStatus.FINISHED
        assert job.return_value() == {"id": created.id}
    assert len(sb.outbox) == 1
    assert keys_sent(sb) == [f"rq-{job.id}"] * 2


# RQ's Worker forks a work horse per job, and each horse makes its own client and
# connection: about 0.3 s a job on an idle machine, minutes under load.
@pytest.mark.timeout(900)
def test_500_sends_through_two_workers_create_exactly_500(env: Env) -> None:
    sb = env.sb
    with workers(env.worker("alpha"), env.worker("beta")):
        jobs = [enqueue_email(env.queue, message(n)) for n in range(500)]
        sb.wait_for_emails(500, timeout=800)
        for job in jobs:
            finished(job)
    outbox = sb.outbox
    assert len(outbox) == 500
    assert sorted(job.return_value()["id"] for job in jobs) == sorted(e.id for e in outbox)
    assert sorted(e.to[0] for e in outbox) == sorted(f"user{n}@example.org" for n in range(500))
    assert {job.worker_name for job in jobs} == {"alpha", "beta"}


def test_a_simple_worker_closes_its_clients_when_it_stops(env: Env) -> None:
    log = env.tmp / "closed.log"
    worker = env.worker("closing", worker_class="rq.SimpleWorker", env={CLOSED_LOG: str(log)})
    with workers(worker):
        job = finished(env.queue.enqueue(noted_send, "noted@example.org"))
        assert job.get_status() == JobStatus.FINISHED
        assert job.return_value() == env.sb.outbox[0].id
        assert closed_pids(log) == []  # open while the worker runs
    # Stopped with SIGTERM: the process's client was closed as it exited.
    assert worker.exited()
    assert closed_pids(log) == [worker.pid]


def test_send_many_as_chunk_jobs_never_duplicates(env: Env) -> None:
    sb = env.sb
    emails = [message(n) for n in range(250)]
    # The second chunk's batch is held, processed, and its worker's horse killed.
    hold_next_send(sb, path="/emails/batch")
    worker = env.worker("bulk")
    with workers(worker):
        jobs = enqueue_send_many(env.queue, emails, run_id="june-news", batch_size=100)
        assert [job.func_name for job in jobs] == [send_chunk.__module__ + ".send_chunk"] * 3
        sb.wait_for_requests(1, timeout=60)
        horse = worker.wait_for_child("the work horse", own_group=True)
        worker.signal(signal.SIGSTOP)
        try:
            os.kill(horse, signal.SIGKILL)
            sb.wait_for_emails(100, timeout=30)
        finally:
            worker.signal(signal.SIGCONT)
        for job in jobs:
            finished(job)
        # Queuing the same run again (the process that queued it crashed half-way)
        # adds no job: the same jobs come back.
        again = enqueue_send_many(env.queue, emails, run_id="june-news", batch_size=100)
        assert [job.id for job in again] == [job.id for job in jobs]
        assert env.queue.count == 0
    outbox = sb.outbox
    assert len(outbox) == 250
    assert sorted(e.to[0] for e in outbox) == sorted(f"user{n}@example.org" for n in range(250))
    answers = [job.return_value() for job in jobs]
    assert [a["start"] for a in answers] == [0, 100, 200]
    assert sorted(i for a in answers for i in a["ids"]) == sorted(e.id for e in outbox)
    batch_keys = keys_sent(sb, "/emails/batch")
    assert len(batch_keys) == 4  # the killed chunk's request, and its second run
    assert len(set(batch_keys)) == 3
    assert all(key and key.startswith("june-news-") for key in batch_keys)


def test_enqueue_options_pass_through(env: Env) -> None:
    job = enqueue_email(env.queue, message(1), job_id="mail-1", retry=Retry(max=5), at_front=True)
    assert (job.id, job.retries_left) == ("mail-1", 5)
    job = enqueue_email(env.queue, message(2), job_timeout=30)
    assert (job.timeout, job.retries_left) == (30, CRASH_RETRIES)
    assert env.queue.job_ids == ["mail-1", job.id]


def test_a_job_function_called_directly_sends_with_a_fresh_key(sb: Sandbox) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("POSTSTACK_API_KEY", sb.api_key)
        mp.setenv("POSTSTACK_BASE_URL", sb.base_url)
        assert send_email(message(1)) == {"id": sb.outbox[0].id}
        sb.faults.next(status=503, method="POST", path="/emails", count=4)
        with pytest.raises(Exception, match="503"):
            send_email(message(2))  # no worker to run it again: it raises
    first, *rest = keys_sent(sb)
    assert first
    assert not first.startswith("rq-")
    assert len(set(rest)) == 1
    assert rest[0] != first


def test_docs(env: Env) -> None:
    (tasks_block,) = doc_blocks("rq")
    folder = env.tmp / "docs_project"
    folder.mkdir()
    (folder / "tasks.py").write_text(tasks_block)
    namespace: dict[str, Any] = {"__name__": "tasks"}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REDIS_URL", env.url)
        mp.syspath_prepend(str(folder))  # the jobs are tasks.<name>, as in the worker
        exec(tasks_block, namespace)
        worker = env.worker("docs", env={"REDIS_URL": env.url, "PYTHONPATH": str(folder)})
        with workers(worker):
            namespace["on_order_paid"](1001, "buyer@example.org")
            namespace["on_order_paid"](1001, "buyer@example.org")  # a duplicate event
            namespace["on_signup"]("new@example.org")
            namespace["send_newsletter"]([f"reader{n}@example.org" for n in range(3)])
            env.sb.wait_for_emails(5, timeout=60)
            # Two receipts (one sent, one answered by its key), a welcome, one chunk.
            finished_jobs = namespace["queue"].finished_job_registry
            wait_until(lambda: len(finished_jobs) == 4, 60, "the docs' 4 jobs")
    namespace["redis"].close()
    assert sorted(e.subject for e in env.sb.outbox) == [
        "June news",
        "June news",
        "June news",
        "Welcome!",
        "Your receipt for order 1001",
    ]

"""poststack.contrib.arq with real ``arq`` worker processes, a real Redis and the sandbox.

arq wants a redis-py older than Celery's Redis transport accepts, so this
module runs in a nox session of its own (``tests_arq``; noxfile.py's
OWN_SESSION). The sandbox runs in this process; the workers reach it over
loopback HTTP with the key and base URL in their environment. Whatever
happens to a worker, the sandbox ends up with exactly one email per job.
Waits are on Redis state (job results, arq's in-progress marks) and on the
sandbox (requests, outbox), never sleeps.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.constants import in_progress_key_prefix
from arq.jobs import Job, JobStatus
from redis import Redis

from poststack import AsyncPostStack
from poststack.contrib.arq import enqueue_email, enqueue_send_many, send_email, with_poststack
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

MESSAGE: Any = {"from": "hello@yourdomain.com", "subject": "Hi", "text": "Hello"}
T = TypeVar("T")


def message(n: int = 0) -> Any:
    return {**MESSAGE, "to": [f"user{n}@example.org"]}


@dataclass
class Env:
    sb: Sandbox
    url: str
    redis: Redis
    tmp: Path

    def worker(
        self,
        name: str,
        *,
        settings: str = "tests.contrib.arqapp.WorkerSettings",
        env: dict[str, str] | None = None,
    ) -> WorkerProcess:
        return WorkerProcess(
            name,
            [sys.executable, "-m", "arq", settings],
            worker_env(self.sb, POSTSTACK_TEST_REDIS_URL=self.url, **(env or {})),
            self.tmp / f"{name}.log",
            ready="redis_version=",
        )

    def run(self, work: Callable[[ArqRedis], Awaitable[T]]) -> T:
        """Run ``work(pool)`` in an event loop of its own, with an arq pool to this Redis."""

        async def main() -> T:
            async with self.pool() as pool:
                return await work(pool)

        return asyncio.run(main())

    @asynccontextmanager
    async def pool(self) -> AsyncIterator[ArqRedis]:
        pool = await create_pool(RedisSettings.from_dsn(self.url))
        try:
            yield pool
        finally:
            await pool.aclose()

    def in_progress(self, job_id: str) -> bool:
        """Whether arq marks ``job_id`` as running (the mark outlives a killed worker)."""
        return bool(self.redis.exists(in_progress_key_prefix + job_id))


@pytest.fixture
def env(sb: Sandbox, tmp_path: Path) -> Iterator[Env]:
    with redis_server(tmp_path) as url:
        redis = Redis.from_url(url)
        try:
            yield Env(sb, url, redis, tmp_path)
        finally:
            redis.close()


async def outcome(job: Job | None, timeout: float = 90) -> Any:
    """The job's result once it ended (its result in Redis); its info when it failed."""
    assert job is not None
    deadline = asyncio.get_running_loop().time() + timeout
    while (info := await job.result_info()) is None:
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"timed out waiting for arq job {job.job_id}")
        await asyncio.sleep(0.05)  # polling Redis for the result arq writes
    return info


def test_send_retry_and_give_up(env: Env) -> None:
    sb = env.sb
    worker = env.worker("w1")

    async def scenario(redis: ArqRedis) -> None:
        # A plain send: the key comes from the job id.
        done = await outcome(job := await enqueue_email(redis, message(1)))
        (email,) = sb.outbox
        assert done.success
        assert done.result == {"id": email.id}
        assert keys_sent(sb) == [f"arq-{job.job_id}"]

        # 503 then 200: the first attempt creates the email but its answer is lost,
        # three more 503s use up the client's own retries, and arq runs the job again
        # (arq.worker.Retry), whose replayed key answers the first email's id.
        sb.clear()
        sb.faults.next(status=503, process=True, method="POST", path="/emails")
        sb.faults.next(status=503, method="POST", path="/emails", count=3)
        done = await outcome(job := await enqueue_email(redis, message(2)))
        (email,) = sb.outbox
        assert done.success
        assert done.result == {"id": email.id}
        assert done.job_try == 2
        assert keys_sent(sb) == [f"arq-{job.job_id}"] * 5

        # A throttling 429's Retry-After is the wait arq defers the job by.
        sb.clear()
        sb.faults.next(status=429, retry_after=2, method="POST", path="/emails", count=4)
        done = await outcome(job := await enqueue_email(redis, message(3)))
        assert done.success
        assert done.job_try == 2
        assert f"{job.job_id}:send_email retrying job in 2.00s" in worker.output()
        assert len(posts(sb)) == 5

        # A 4xx is final: one request, the job fails at its first try.
        sb.clear()
        bad = await outcome(await enqueue_email(redis, {**message(4), "subject": ""}))
        assert not bad.success
        assert bad.job_try == 1
        assert "subject" in str(bad.result)
        sb.faults.next(status=429, code="monthly_limit_exceeded", path="/emails")
        quota = await outcome(await enqueue_email(redis, message(5)))
        assert not quota.success
        assert quota.job_try == 1
        assert "monthly_limit_exceeded" in str(quota.result)
        assert len(posts(sb)) == 2
        assert sb.outbox == []

    with workers(worker):
        env.run(scenario)


def test_own_keys_and_own_jobs(env: Env) -> None:
    sb = env.sb

    async def scenario(redis: ArqRedis) -> None:
        # The payload's own idempotency_key de-duplicates two different jobs.
        receipt = {**message(6), "idempotency_key": "receipt-1001"}
        first = await outcome(await enqueue_email(redis, receipt))
        second = await outcome(await enqueue_email(redis, receipt))
        assert first.result == second.result
        assert len(sb.outbox) == 1
        assert keys_sent(sb) == ["receipt-1001"] * 2

        # Plain enqueue_job works too, and a user's own job gets a client and a key.
        sb.clear()
        plain = await redis.enqueue_job("send_email", message(7))
        await outcome(plain)
        own = await redis.enqueue_job("send_receipt", 1001, "buyer@example.org")
        own_done = await outcome(own)
        twice = await redis.enqueue_job("welcome_and_tips", "new@example.org")
        twice_done = await outcome(twice)
        assert [e.subject for e in sb.outbox] == ["Hi", "Receipt for order 1001", "welcome", "tips"]
        assert own_done.result == sb.outbox[1].id
        assert twice_done.result == [sb.outbox[2].id, sb.outbox[3].id]
        assert plain
        assert own
        assert twice
        assert keys_sent(sb) == [
            f"arq-{plain.job_id}",
            f"arq-{own.job_id}",
            f"arq-{twice.job_id}-welcome",
            f"arq-{twice.job_id}-tips",
        ]

        # A user's job's own bound (func(..., max_tries=3)): three runs, then failed.
        sb.clear()
        sb.faults.next(status=503, method="POST", path="/emails", count=12)
        failed = await outcome(await redis.enqueue_job("send_receipt", 1002, "b@example.org"))
        assert not failed.success
        assert len(posts(sb)) == 12  # 3 runs of 4 attempts (the client's own 3 retries)
        assert sb.outbox == []

    with workers(env.worker("w1")):
        env.run(scenario)


def test_bad_payloads_fail_before_anything_is_queued(env: Env) -> None:
    async def scenario(redis: ArqRedis) -> None:
        for bad, error in [
            ("not a dict", TypeError),
            ({**message(), "attachments": [{"filename": "a.txt", "content": b"raw"}]}, TypeError),
            ({**message(), "headers": {"X-When": object()}}, TypeError),
            ({**message(), "idempotency_key": "has spaces "}, ValueError),
            ({**message(), "idempotency_key": 7}, TypeError),
        ]:
            with pytest.raises(error):
                await enqueue_email(redis, bad)
        with pytest.raises(TypeError, match="JSON"):
            await enqueue_send_many(redis, [message(1), {**message(2), "x": {1, 2}}], run_id="r-1")
        with pytest.raises(ValueError, match="run_id"):
            await enqueue_send_many(redis, [message(1)], run_id="has space")

    env.run(scenario)
    assert env.redis.keys("*") == []
    assert env.sb.requests == []


def test_worker_killed_mid_send_runs_again_and_sends_once(env: Env) -> None:
    """SIGKILL the worker while its request is at the API: the job stays queued, marked
    in progress; once the mark expires another worker runs it again with the same key,
    and the API answers it with the first email."""
    sb = env.sb
    hold_next_send(sb)
    doomed = env.worker("doomed")
    with workers(doomed):
        job = env.run(lambda redis: enqueue_email(redis, message(1)))
        assert job is not None
        sb.wait_for_requests(1, timeout=60)  # mid-send
        doomed.kill()
        (created,) = sb.wait_for_emails(1, timeout=30)
    assert env.in_progress(job.job_id)
    wait_until(lambda: not env.in_progress(job.job_id), 60, "the in-progress mark to expire")
    with workers(env.worker("successor")):

        async def result(redis: ArqRedis) -> Any:
            return await outcome(Job(job.job_id, redis))

        done = env.run(result)
    assert done.success
    assert done.result == {"id": created.id}
    assert done.job_try == 2
    assert [e.id for e in sb.outbox] == [created.id]
    assert keys_sent(sb) == [f"arq-{job.job_id}"] * 2


# Its waits below bound it, not the suite's 120 s: under load, 500 sends take minutes.
@pytest.mark.timeout(600)
def test_500_sends_through_two_workers_create_exactly_500(env: Env) -> None:
    sb = env.sb

    async def scenario(redis: ArqRedis) -> list[Any]:
        jobs = [await enqueue_email(redis, message(n)) for n in range(500)]
        sb.wait_for_emails(500, timeout=300)
        return [await outcome(job) for job in jobs]

    with workers(env.worker("alpha"), env.worker("beta")) as (alpha, beta):
        results = env.run(scenario)
    outbox = sb.outbox
    assert len(outbox) == 500
    assert all(r.success for r in results)
    assert sorted(r.result["id"] for r in results) == sorted(e.id for e in outbox)
    assert sorted(e.to[0] for e in outbox) == sorted(f"user{n}@example.org" for n in range(500))
    # Both workers took jobs (each logs the jobs it ran).
    assert "send_email" in alpha.output().split("redis_version=", 1)[1]
    assert "send_email" in beta.output().split("redis_version=", 1)[1]


def test_shutdown_closes_every_client_of_the_worker(env: Env) -> None:
    log = env.tmp / "closed.log"
    worker = env.worker("closing", env={CLOSED_LOG: str(log)})

    async def scenario(redis: ArqRedis) -> None:
        done = await outcome(await redis.enqueue_job("noted_send", "noted@example.org"))
        assert done.success
        assert done.result == env.sb.outbox[0].id

    with workers(worker):
        env.run(scenario)
        assert closed_pids(log) == []  # open while the worker runs
    # Stopped with SIGTERM: on_shutdown closed the client of the job's own factory.
    assert worker.exited()
    assert closed_pids(log) == [worker.pid]


def test_send_many_as_chunk_jobs_never_duplicates(env: Env) -> None:
    sb = env.sb
    emails = [message(n) for n in range(250)]
    # The first chunk's batch is held, processed, and its worker killed.
    hold_next_send(sb, path="/emails/batch")
    doomed = env.worker("bulk")
    with workers(doomed):
        jobs = env.run(
            lambda redis: enqueue_send_many(redis, emails, run_id="june-news", batch_size=100)
        )
        sb.wait_for_requests(1, timeout=60)
        doomed.kill()
        sb.wait_for_emails(100, timeout=30)
    wait_until(
        lambda: not any(env.in_progress(job.job_id) for job in jobs),
        60,
        "the in-progress marks to expire",
    )
    with workers(env.worker("successor")):

        async def results(redis: ArqRedis) -> list[Any]:
            done = [await outcome(Job(job.job_id, redis)) for job in jobs]
            # Queuing the same run again (the process that queued it crashed half-way)
            # adds no job: arq keeps one job per id, and these are done.
            again = await enqueue_send_many(redis, emails, run_id="june-news", batch_size=100)
            assert [job.job_id for job in again] == [job.job_id for job in jobs]
            assert [await job.status() for job in again] == [JobStatus.complete] * 3
            return done

        answers = env.run(results)
    outbox = sb.outbox
    assert len(outbox) == 250
    assert sorted(e.to[0] for e in outbox) == sorted(f"user{n}@example.org" for n in range(250))
    assert all(a.success for a in answers)
    assert [a.result["start"] for a in answers] == [0, 100, 200]
    assert sorted(i for a in answers for i in a.result["ids"]) == sorted(e.id for e in outbox)
    batch_keys = keys_sent(sb, "/emails/batch")
    # Each chunk once, and again those the killed worker had at the API (at least the
    # held one; the others, run at the same time, if their requests had gone out).
    assert 4 <= len(batch_keys) <= 6
    assert len(set(batch_keys)) == 3
    assert all(key and key.startswith("june-news-") for key in batch_keys)


def test_a_job_called_directly_sends_with_a_fresh_key(sb: Sandbox) -> None:
    client = AsyncPostStack(api_key=sb.api_key, base_url=sb.base_url)

    @with_poststack(client_factory=lambda: client)
    async def direct(ctx: dict[str, object], client: AsyncPostStack, key: str, n: int) -> Any:
        return await client.emails.send(message(n), idempotency_key=key)

    async def scenario() -> None:
        try:
            assert await direct({}, 1) == {"id": sb.outbox[0].id}
            sb.faults.next(status=503, method="POST", path="/emails", count=4)
            with pytest.raises(Exception, match="503"):
                await direct({}, 2)  # no worker to run it again: it raises
        finally:
            await client.aclose()

    asyncio.run(scenario())
    first, *rest = keys_sent(sb)
    assert first
    assert not first.startswith("arq-")
    assert len(set(rest)) == 1
    assert rest[0] != first
    assert send_email.__name__ == "send_email"  # the name arq lists it under


def test_docs(env: Env) -> None:
    (tasks_block,) = doc_blocks("arq")
    folder = env.tmp / "docs_project"
    folder.mkdir()
    (folder / "tasks.py").write_text(tasks_block)
    namespace: dict[str, Any] = {"__name__": "tasks"}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REDIS_URL", env.url)
        exec(tasks_block, namespace)
    worker = env.worker(
        "docs",
        settings="tasks.WorkerSettings",
        env={"PYTHONPATH": str(folder), "REDIS_URL": env.url},
    )

    async def scenario(redis: ArqRedis) -> None:
        await namespace["on_order_paid"](redis, 1001, "buyer@example.org")
        await namespace["on_order_paid"](redis, 1001, "buyer@example.org")  # a duplicate event
        await namespace["on_signup"](redis, "new@example.org")
        await namespace["send_newsletter"](redis, [f"reader{n}@example.org" for n in range(3)])
        env.sb.wait_for_emails(5, timeout=60)
        # Two receipts (one sent, one answered by its key), a welcome, one chunk.
        wait_until(lambda: len(env.redis.keys("arq:result:*")) == 4, 60, "the docs' 4 jobs")
        results = await redis.all_job_results()
        assert all(r.success for r in results)

    with workers(worker):
        env.run(scenario)
    assert sorted(e.subject for e in env.sb.outbox) == [
        "June news",
        "June news",
        "June news",
        "Welcome!",
        "Your receipt for order 1001",
    ]

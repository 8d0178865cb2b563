"""poststack.contrib.dramatiq with real ``dramatiq`` worker processes, its Redis broker on a
real Redis, and the sandbox.

The sandbox runs in this process; the worker processes reach it over
loopback HTTP with the key and base URL in their environment. Whatever
happens to a worker, the sandbox ends up with exactly one email per message.
Waits are on Redis state (the broker's message hashes, dead letters and
heartbeats) and on the sandbox (requests, outbox), never sleeps.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from dramatiq import Message
from redis import Redis

from poststack import PostStackError
from poststack.testing import Sandbox
from tests.contrib import dramatiqapp  # before anything imports poststack.contrib.dramatiq
from tests.contrib.closing import CLOSED_LOG, closed_pids
from tests.contrib.conftest import doc_blocks, wait_until
from tests.contrib.dramatiqapp import (
    PostStackMiddleware,
    enqueue_email,
    enqueue_send_many,
    noted_send,
    send_email,
    send_receipt,
    welcome_and_tips,
)
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
NAMESPACE = "dramatiq"


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
        processes: int = 1,
        threads: int = 2,
        module: str = "tests.contrib.dramatiqapp",
        env: dict[str, str] | None = None,
    ) -> WorkerProcess:
        command = [
            sys.executable,
            "-m",
            "dramatiq",
            module,
            "--processes",
            str(processes),
            "--threads",
            str(threads),
        ]
        return WorkerProcess(
            name,
            command,
            worker_env(self.sb, POSTSTACK_TEST_REDIS_URL=self.url, **(env or {})),
            self.tmp / f"{name}.log",
            ready="Worker process is ready for action.",
            ready_count=processes,
        )

    def _ids(self, *keys: str) -> set[str]:
        """The message ids in the broker's message hashes ``keys``, read at one instant.

        One transaction: a retried message moves from the delay queue to its queue
        (enqueued there, then acknowledged here), and two separate reads could see
        it in neither. The broker keys each enqueueing by an id of its own; the
        message inside keeps the message id.
        """
        pipe = self.redis.pipeline(transaction=True)
        for key in keys:
            pipe.hvals(key)
        return {Message.decode(data).message_id for values in pipe.execute() for data in values}

    def pending(self, msg: Message[Any]) -> bool:
        """Whether ``msg`` is still queued, running or waiting for a retry (not acked)."""
        queue = msg.queue_name
        return msg.message_id in self.unacked(queue)

    def dead(self, msg: Message[Any]) -> bool:
        """Whether ``msg`` failed for good (it is in its queue's dead letters)."""
        return msg.message_id in self._ids(f"{NAMESPACE}:{msg.queue_name}.XQ.msgs")

    def unacked(self, *queues: str) -> set[str]:
        """The ids of the messages of ``queues`` not acknowledged yet (read at one instant)."""
        keys = [f"{NAMESPACE}:{q}{part}.msgs" for q in queues for part in ("", ".DQ")]
        return self._ids(*keys)

    def settled(self, *msgs: Message[Any], timeout: float = 90) -> None:
        """Wait until every message was acknowledged: it ran, or failed for good."""
        ids = {m.message_id for m in msgs}
        queues = {m.queue_name for m in msgs}
        wait_until(lambda: not ids & self.unacked(*queues), timeout, "the messages")

    def workers_dead(self) -> bool:
        """Whether every worker's broker heartbeat is older than the broker's timeout."""
        seconds, micros = self.redis.time()
        now_ms = seconds * 1000 + micros // 1000
        beats = self.redis.zrange(f"{NAMESPACE}:__heartbeats__", 0, -1, withscores=True)
        return all(now_ms - score > dramatiqapp.HEARTBEAT_TIMEOUT_MS for _, score in beats)


def logs(worker: WorkerProcess, line: str) -> None:
    """Wait until ``worker`` has logged ``line``: its processes' logs reach the file
    through the main process, a moment after what they tell happened."""
    wait_until(lambda: line in worker.output(), 30, f"{worker.name} to log {line!r}")


@pytest.fixture
def env(sb: Sandbox, tmp_path: Path) -> Iterator[Env]:
    with redis_server(tmp_path) as url:
        dramatiqapp.connect(url)
        redis = Redis.from_url(url)
        try:
            yield Env(sb, url, redis, tmp_path)
        finally:
            redis.close()
            dramatiqapp.broker.client.connection_pool.disconnect()


def test_send_retry_and_give_up(env: Env) -> None:
    sb = env.sb
    worker = env.worker("w1")
    with workers(worker):
        # A plain send: the key comes from the message id.
        sent = enqueue_email(message(1))
        env.settled(sent)
        (_email,) = sb.outbox
        assert keys_sent(sb) == [f"dramatiq-{sent.message_id}"]

        # 503 then 200: the first attempt creates the email but its answer is lost,
        # three more 503s use up the client's own retries, and Dramatiq retries the
        # message (dramatiq.Retry), whose replayed key answers the first email.
        sb.clear()
        sb.faults.next(status=503, process=True, method="POST", path="/emails")
        sb.faults.next(status=503, method="POST", path="/emails", count=3)
        sent = enqueue_email(message(2))
        env.settled(sent)
        assert len(sb.outbox) == 1
        assert not env.dead(sent)
        keys = keys_sent(sb)
        assert keys == [f"dramatiq-{sent.message_id}"] * 5, (len(keys), worker.output()[-4000:])
        logs(worker, f"Retrying message '{sent.message_id}'")
        assert worker.output().count(f"Retrying message '{sent.message_id}'") == 1

        # A throttling 429's Retry-After is the delay Dramatiq waits.
        sb.clear()
        sb.faults.next(status=429, retry_after=2, method="POST", path="/emails", count=4)
        sent = enqueue_email(message(3))
        env.settled(sent)
        assert len(sb.outbox) == 1
        logs(worker, f"Retrying message '{sent.message_id}' in 2000 milliseconds")
        assert len(posts(sb)) == 5

        # A 4xx is final: one request, and the message goes to the dead letters at once.
        sb.clear()
        bad = enqueue_email({**message(4), "subject": ""})
        env.settled(bad)
        sb.faults.next(status=429, code="monthly_limit_exceeded", path="/emails")
        quota = enqueue_email(message(5))
        env.settled(quota)
        assert env.dead(bad)
        assert env.dead(quota)
        logs(worker, f"Aborting message '{bad.message_id}'")
        logs(worker, f"Aborting message '{quota.message_id}'")
        assert len(posts(sb)) == 2
        assert sb.outbox == []


def test_own_keys_and_own_actors(env: Env) -> None:
    sb = env.sb
    with workers(env.worker("w1")):
        # The payload's own idempotency_key de-duplicates two different messages.
        receipt = {**message(6), "idempotency_key": "receipt-1001"}
        env.settled(enqueue_email(receipt), enqueue_email(receipt))
        assert len(sb.outbox) == 1
        assert keys_sent(sb) == ["receipt-1001"] * 2

        # Plain actor.send works too, and a user's own actor gets a client and a key.
        sb.clear()
        plain = send_email.send(message(7))
        env.settled(plain)
        own = send_receipt.send(1001, "buyer@example.org")
        env.settled(own)
        twice = welcome_and_tips.send("new@example.org")
        env.settled(twice)
        assert [e.subject for e in sb.outbox] == [
            "Hi",
            "Receipt for order 1001",
            "welcome",
            "tips",
        ]
        assert keys_sent(sb) == [
            f"dramatiq-{plain.message_id}",
            f"dramatiq-{own.message_id}",
            f"dramatiq-{twice.message_id}-welcome",
            f"dramatiq-{twice.message_id}-tips",
        ]

        # A user's actor's own bound: two retries after the first run, then dead.
        sb.clear()
        sb.faults.next(status=503, method="POST", path="/emails", count=12)
        own = send_receipt.send(1002, "buyer@example.org")
        env.settled(own)
        assert env.dead(own)
        assert len(posts(sb)) == 12  # 3 runs of 4 attempts (the client's own 3 retries)
        assert sb.outbox == []


def test_bad_payloads_fail_before_anything_is_queued(env: Env) -> None:
    for bad, error in [
        ("not a dict", TypeError),
        ({**message(), "attachments": [{"filename": "a.txt", "content": b"raw"}]}, TypeError),
        ({**message(), "headers": {"X-When": object()}}, TypeError),
        ({**message(), "idempotency_key": "has spaces "}, ValueError),
        ({**message(), "idempotency_key": 7}, TypeError),
    ]:
        with pytest.raises(error):
            enqueue_email(bad)
    with pytest.raises(TypeError, match="JSON"):
        enqueue_send_many([message(1), {**message(2), "x": {1, 2}}], run_id="r-1")
    with pytest.raises(ValueError, match="run_id"):
        enqueue_send_many([message(1)], run_id="has space")
    assert env.redis.keys(f"{NAMESPACE}:*") == []
    assert env.sb.requests == []


def test_worker_killed_mid_send_is_redelivered_and_sends_once(env: Env) -> None:
    """SIGKILL the worker while its request is at the API: its message, never acked, is
    given to the next worker once the dead one's heartbeat is old enough, and runs
    again with the same key; the API answers it with the first email."""
    sb = env.sb
    hold_next_send(sb)
    doomed = env.worker("doomed", processes=2)
    with workers(doomed):
        sent = enqueue_email(message(1))
        sb.wait_for_requests(1, timeout=60)  # mid-send
        doomed.kill()
        (created,) = sb.wait_for_emails(1, timeout=30)
    assert env.pending(sent)  # never acknowledged
    wait_until(env.workers_dead, 60, "the dead worker's heartbeat to expire")
    with workers(env.worker("successor")):
        env.settled(sent)
    assert not env.dead(sent)
    assert [e.id for e in sb.outbox] == [created.id]
    assert keys_sent(sb) == [f"dramatiq-{sent.message_id}"] * 2


# Its waits below bound it, not the suite's 120 s: under load, 500 sends take minutes.
@pytest.mark.timeout(600)
def test_500_sends_through_two_worker_processes_create_exactly_500(env: Env) -> None:
    sb = env.sb
    worker = env.worker("pair", processes=2, threads=4)
    with workers(worker):
        assert len(worker.children()) >= 2
        sent = [enqueue_email(message(n)) for n in range(500)]
        sb.wait_for_emails(500, timeout=300)
        env.settled(*sent, timeout=120)
    outbox = sb.outbox
    assert len(outbox) == 500
    assert sorted(e.to[0] for e in outbox) == sorted(f"user{n}@example.org" for n in range(500))
    assert sorted(keys_sent(sb)) == sorted(f"dramatiq-{m.message_id}" for m in sent)
    assert not any(env.dead(m) for m in sent)


def test_a_worker_process_closes_its_clients_when_the_worker_stops(env: Env) -> None:
    log = env.tmp / "closed.log"
    worker = env.worker("closing", env={CLOSED_LOG: str(log)})
    with workers(worker):
        (process,) = worker.children()
        sent = noted_send.send("noted@example.org")
        env.settled(sent)
        assert [e.subject for e in env.sb.outbox] == ["Noted"]
        assert closed_pids(log) == []  # open while the worker runs
        # SIGTERM to the main process, which passes it on to its worker processes
        # (a second SIGTERM would make a worker process exit at once).
        worker.signal(signal.SIGTERM)
        worker.process.wait(60)
    # The worker process closed the client it made.
    assert closed_pids(log) == [process]


def test_send_many_as_chunk_messages_never_duplicates(env: Env) -> None:
    sb = env.sb
    emails = [message(n) for n in range(250)]
    # The first chunk's batch is held, processed, and its worker killed.
    hold_next_send(sb, path="/emails/batch")
    doomed = env.worker("bulk", threads=1)
    with workers(doomed):
        sent = enqueue_send_many(emails, run_id="june-news", batch_size=100)
        assert [m.actor_name for m in sent] == ["poststack.send_chunk"] * 3
        sb.wait_for_requests(1, timeout=60)
        doomed.kill()
        sb.wait_for_emails(100, timeout=30)
    wait_until(env.workers_dead, 60, "the dead worker's heartbeat to expire")
    with workers(env.worker("successor")):
        env.settled(*sent)
        # Queuing the same run again (the process that queued it crashed half-way)
        # sends nothing twice: each chunk's key is answered from the idempotency store.
        again = enqueue_send_many(emails, run_id="june-news", batch_size=100)
        env.settled(*again)
    outbox = sb.outbox
    assert len(outbox) == 250
    assert sorted(e.to[0] for e in outbox) == sorted(f"user{n}@example.org" for n in range(250))
    batch_keys = keys_sent(sb, "/emails/batch")
    assert len(batch_keys) == 3 + 1 + 3  # three chunks, the killed one again, the run again
    assert len(set(batch_keys)) == 3
    assert all(key and key.startswith("june-news-") for key in batch_keys)
    assert not any(env.dead(m) for m in [*sent, *again])


def test_an_actor_called_directly_sends_with_a_fresh_key(sb: Sandbox) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("POSTSTACK_API_KEY", sb.api_key)
        mp.setenv("POSTSTACK_BASE_URL", sb.base_url)
        try:
            assert send_email(message(1)) == {"id": sb.outbox[0].id}
            sb.faults.next(status=503, method="POST", path="/emails", count=4)
            with pytest.raises(Exception, match="503"):
                send_email(message(2))  # no worker to retry it: it raises
        finally:
            # The actors' client is this process's: made from the sandbox's URL.
            for middleware in dramatiqapp.broker.middleware:
                if isinstance(middleware, PostStackMiddleware):
                    middleware.after_worker_shutdown(dramatiqapp.broker, None)  # type: ignore[arg-type]
    first, *rest = keys_sent(sb)
    assert first
    assert not first.startswith("dramatiq-")
    assert len(set(rest)) == 1
    assert rest[0] != first


def test_declaring_an_actor_adds_the_middleware_once(env: Env) -> None:
    found = [m for m in dramatiqapp.broker.middleware if isinstance(m, PostStackMiddleware)]
    assert len(found) == 1
    assert send_email.options["throws"] == (PostStackError, TypeError, ValueError)


def test_docs(env: Env) -> None:
    """The page's tasks.py: its worker, and its functions called from another process
    (this one's actors are on the tests' broker, the page's on its own)."""
    (tasks_block,) = doc_blocks("dramatiq")
    folder = env.tmp / "docs_project"
    folder.mkdir()
    (folder / "tasks.py").write_text(tasks_block)
    project = {"REDIS_URL": env.url, "PYTHONPATH": str(folder)}
    worker = env.worker("docs", module="tasks", env=project)
    calls = """
import tasks
tasks.on_order_paid(1001, "buyer@example.org")
tasks.on_order_paid(1001, "buyer@example.org")  # a duplicate event
tasks.on_signup("new@example.org")
tasks.send_newsletter([f"reader{n}@example.org" for n in range(3)])
"""
    with workers(worker):
        done = subprocess.run(
            [sys.executable, "-c", calls],
            check=False,
            env=worker_env(env.sb, **project),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        env.sb.wait_for_emails(5, timeout=60)
        # Two receipts (one sent, one answered by its key), a welcome, one chunk.
        wait_until(
            lambda: not env.unacked("default", "mail"),
            60,
            "the docs' messages to be acknowledged",
        )
    assert sorted(e.subject for e in env.sb.outbox) == [
        "June news",
        "June news",
        "June news",
        "Welcome!",
        "Your receipt for order 1001",
    ]
    assert len(keys_sent(env.sb)) == 3  # the two receipts' and the welcome's sends
    assert "Aborting" not in worker.output()

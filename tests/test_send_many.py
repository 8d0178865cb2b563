"""emails.send_many and send_chunk end to end: real HTTP to a sandbox on a loopback port.

Every runtime runs the same bulk engine: sync clients with a thread pool,
async ones (asyncio and trio) with tasks. Nothing here sleeps to wait:
waits are on events, the sandbox's outbox, or a barrier.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trio

from poststack import (
    AsyncPostStack,
    JournalError,
    Pacing,
    PostStack,
    Progress,
    RunChangedError,
    SendManyResult,
)
from poststack.testing import Sandbox
from poststack.transports.requests import RequestsTransport
from poststack.transports.trio import TrioTransport
from poststack_core import Request, Response, plan_send_many

from .faultserver import FaultServer, RecordedRequest, Reply

KEY = "sk_test_bulk"


def emails(n: int, **extra: Any) -> list[dict[str, Any]]:
    return [
        {"from": "news@example.com", "to": [f"u{i}@example.com"], "subject": f"#{i}", "text": "x"}
        | extra
        for i in range(n)
    ]


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(KEY) as sandbox:
        yield sandbox


def ids_by_subject(sandbox: Sandbox) -> dict[str, str]:
    return {email.subject or "": email.id for email in sandbox.outbox}


def paths(sandbox: Sandbox) -> list[str]:
    return [request.path for request in sandbox.requests]


# --- one engine on every runtime ----------------------------------------------------------


RUNTIMES = ["httpx", "requests", "asyncio", "trio"]


def send_many(runtime: str, url: str, payloads: list[Any], **kwargs: Any) -> SendManyResult:
    """``emails.send_many`` on the given runtime, against ``url``."""
    if runtime in ("httpx", "requests"):
        transport = RequestsTransport() if runtime == "requests" else None
        try:
            with PostStack(api_key=KEY, base_url=url, transport=transport) as ps:
                return ps.emails.send_many(payloads, **kwargs)
        finally:
            if transport is not None:
                transport.close()  # a transport passed in stays the caller's to close

    async def main() -> SendManyResult:
        transport = TrioTransport() if runtime == "trio" else None
        try:
            async with AsyncPostStack(api_key=KEY, base_url=url, transport=transport) as ps:
                return await ps.emails.send_many(payloads, **kwargs)
        finally:
            if transport is not None:
                await transport.aclose()

    if runtime == "trio":
        return trio.run(main)
    return asyncio.run(main())


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_every_email_gets_its_own_id_in_input_order(runtime: str, sb: Sandbox) -> None:
    result = send_many(runtime, sb.base_url, emails(250), run_id="news-1", concurrency=3)
    assert (result.sent, result.failed, result.skipped, len(result)) == (250, 0, 0, 250)
    by_subject = ids_by_subject(sb)
    assert result.ids == [by_subject[f"#{i}"] for i in range(250)]
    assert [r.index for r in result] == list(range(250))
    assert sorted(paths(sb)) == ["/emails/batch"] * 3 + ["/emails/spam-preview"]
    plan = plan_send_many(emails(250), run_id="news-1")
    sent_keys = {r.idempotency_key for r in sb.requests if r.path == "/emails/batch"}
    assert sent_keys == {chunk.key for chunk in plan.chunks}
    assert result.requests == 4
    assert result.throttled == 0
    assert result.run_id == "news-1"


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_batch_size_one_sends_each_email_with_post_emails(runtime: str, sb: Sandbox) -> None:
    result = send_many(runtime, sb.base_url, emails(7), batch_size=1, concurrency=2)
    assert result.ok
    assert paths(sb) == ["/emails"] * 7
    assert result.ids == [ids_by_subject(sb)[f"#{i}"] for i in range(7)]


def test_nothing_to_send_sends_nothing(sb: Sandbox) -> None:
    result = send_many("httpx", sb.base_url, [], run_id="empty")
    assert (len(result), result.ok, result.requests) == (0, True, 0)
    assert sb.requests == []


class Concurrency:
    """A batch endpoint that records how many requests it holds at once.

    The first ``expect`` requests wait for each other at a barrier: the test
    fails (the barrier breaks) unless that many are really in flight together.
    """

    def __init__(self, expect: int) -> None:
        self.barrier = threading.Barrier(expect, timeout=20)
        self.lock = threading.Lock()
        self.now = self.most = self.seen = 0

    def __call__(self, request: RecordedRequest) -> Reply:
        with self.lock:
            self.now += 1
            self.seen += 1
            self.most = max(self.most, self.now)
            first = self.seen <= self.barrier.parties
        try:
            if first:
                self.barrier.wait()
            subjects = [e["subject"] for e in request.json["emails"]]
            return Reply(202, {"data": [{"id": f"em_{s[1:]}"} for s in subjects]})
        finally:
            with self.lock:
                self.now -= 1


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_concurrency_is_reached_and_never_exceeded(runtime: str) -> None:
    endpoint = Concurrency(3)
    with FaultServer() as server:
        server.handler = endpoint
        result = send_many(runtime, server.url, emails(1000), batch_size=50, concurrency=3)
    assert result.ids == [f"em_{i}" for i in range(1000)]
    assert endpoint.seen == 20
    assert endpoint.most == 3


# --- failures keep everything else -------------------------------------------------------


def test_one_bad_email_costs_only_itself(sb: Sandbox) -> None:
    payloads = emails(100)
    payloads[37]["to"] = ["not-an-address"]
    result = send_many("httpx", sb.base_url, payloads)
    assert (result.sent, result.failed) == (99, 1)
    bad = result[37]
    assert bad.status == "failed"
    assert bad.error is not None
    assert bad.error.status_code in (400, 422)
    assert len(sb.outbox) == 99
    assert sorted(ids_by_subject(sb).values()) == sorted(i for i in result.ids if i)
    assert len(sb.requests) <= 1 + 2 * 7  # halving finds it


def test_an_email_the_api_refuses_inside_an_accepted_batch_is_that_emails_failure() -> None:
    with FaultServer() as server:
        server.script(Reply(202, {"data": [{"id": "em_0"}, {"error": "bad", "code": "invalid"}]}))
        result = send_many("httpx", server.url, emails(2))
    assert result.ids == ["em_0", None]
    assert result[1].error is not None
    assert (result[1].error.error, result[1].error.code) == ("bad", "invalid")


def test_a_failed_batch_never_loses_the_others_and_a_rerun_sends_only_it(sb: Sandbox) -> None:
    sb.faults.next(status=503, path="/emails/batch", count=4)  # the retries of one batch
    with PostStack(api_key=KEY, base_url=sb.base_url) as ps:
        first = ps.emails.send_many(emails(250), run_id="r1", concurrency=1)
        assert (first.sent, first.failed) == (150, 100)
        failed = first.failures()
        assert [r.index for r in failed] == list(range(100))
        assert failed[0].error is not None
        assert failed[0].error.retryable
        assert len(sb.outbox) == 150
        again = ps.emails.send_many(emails(250), run_id="r1", concurrency=1)
    assert again.ok
    assert len(sb.outbox) == 250
    # The batches accepted before were answered from the idempotency store.
    assert again.ids[100:] == first.ids[100:]
    assert sorted(ids_by_subject(sb).values()) == sorted(again.ids)  # type: ignore[type-var]


def test_a_changed_input_under_the_same_run_id_is_refused_before_anything_is_sent(
    sb: Sandbox,
) -> None:
    with PostStack(api_key=KEY, base_url=sb.base_url) as ps:
        ps.emails.send_many(emails(250), run_id="r2")
        before = len(sb.requests)
        changed = emails(250)
        changed[180]["subject"] = "changed"
        with pytest.raises(RunChangedError, match="different input") as raised:
            ps.emails.send_many(changed, run_id="r2")
    assert raised.value.run_id == "r2"
    assert [r.path for r in sb.requests[before:]] == ["/emails/spam-preview"]
    assert len(sb.outbox) == 250


def test_detect_changes_false_registers_no_plan(sb: Sandbox) -> None:
    send_many("httpx", sb.base_url, emails(150), run_id="r3", detect_changes=False)
    assert paths(sb) == ["/emails/batch"] * 2


def test_a_quota_ends_the_run_and_skips_the_rest() -> None:
    with Sandbox(KEY, monthly_quota=150) as sandbox:
        result = send_many("httpx", sandbox.base_url, emails(250), concurrency=1)
        assert len(sandbox.outbox) == 100
        assert paths(sandbox) == ["/emails/batch"] * 2
    assert (result.sent, result.failed, result.skipped) == (100, 100, 50)
    assert result.stopped_by is not None
    assert result.stopped_by.is_quota
    assert result[249].error is result.stopped_by


def test_a_bad_key_ends_the_run_at_its_first_answer(sb: Sandbox) -> None:
    with PostStack(api_key="sk_test_wrong", base_url=sb.base_url) as ps:
        result = ps.emails.send_many(emails(250), concurrency=1)
    assert (result.sent, result.failed, result.skipped) == (0, 100, 150)
    assert result.stopped_by is not None
    assert result.stopped_by.status_code == 401
    assert len(sb.requests) == 1


def test_a_throttled_chunk_waits_its_turn_and_is_sent(sb: Sandbox) -> None:
    # Five 429s for the first batch: its own retries (three) are not enough.
    sb.faults.next(status=429, retry_after=0.01, path="/emails/batch", count=5)
    result = send_many("httpx", sb.base_url, emails(150), concurrency=1)
    assert result.ok
    assert result.throttled == 5
    assert result.requests == 7
    assert len(sb.outbox) == 150


# --- journals -------------------------------------------------------------------------------


def cancel_after(sent: int) -> tuple[threading.Event, Callable[[Progress], None]]:
    stop = threading.Event()

    def on_progress(progress: Progress) -> None:
        if progress.sent >= sent:
            stop.set()

    return stop, on_progress


def journal_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_journal_lets_a_rerun_skip_what_is_done(sb: Sandbox, tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    stop, on_progress = cancel_after(100)
    with PostStack(api_key=KEY, base_url=sb.base_url) as ps:
        first = ps.emails.send_many(
            emails(250),
            run_id="j1",
            journal=journal,
            concurrency=1,
            on_progress=on_progress,
            cancel=stop,
        )
        assert (first.sent, first.skipped, first.cancelled) == (100, 150, True)
        lines = journal_lines(journal)
        assert lines[0]["run_id"] == "j1"
        assert [line["chunk"] for line in lines[1:]] == [0]
        before = len(sb.requests)
        again = ps.emails.send_many(emails(250), run_id="j1", journal=journal, concurrency=1)
    assert again.ok
    assert again.already_sent == 100
    assert again.ids[:100] == first.ids[:100]
    assert [r.path for r in sb.requests[before:]] == ["/emails/spam-preview"] + [
        "/emails/batch"
    ] * 2
    assert len(sb.outbox) == 250
    assert [line["chunk"] for line in journal_lines(journal)[1:]] == [0, 1, 2]
    # Everything done: a third run makes no request at all.
    with PostStack(api_key=KEY, base_url=sb.base_url) as ps:
        done = len(sb.requests)
        third = ps.emails.send_many(emails(250), run_id="j1", journal=journal)
    assert (third.ok, third.already_sent, third.requests) == (True, 250, 0)
    assert len(sb.requests) == done


def test_a_torn_last_line_is_dropped(sb: Sandbox, tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    stop, on_progress = cancel_after(100)
    send_many(
        "httpx",
        sb.base_url,
        emails(250),
        run_id="j2",
        journal=journal,
        concurrency=1,
        on_progress=on_progress,
        cancel=stop,
    )
    with journal.open("a") as out:
        out.write('{"chunk": 1, "key": "j2-1-')  # killed in the middle of a write
    again = send_many("httpx", sb.base_url, emails(250), run_id="j2", journal=journal)
    assert again.ok
    assert again.already_sent == 100
    assert all(line.endswith("}") for line in journal.read_text().splitlines())
    assert len(sb.outbox) == 250


def test_a_journal_detects_a_changed_input_without_asking_the_api(
    sb: Sandbox, tmp_path: Path
) -> None:
    journal = tmp_path / "run.jsonl"
    send_many("httpx", sb.base_url, emails(150), run_id="j3", journal=journal)
    before = len(sb.requests)
    with pytest.raises(RunChangedError, match=r"journal .* records 150 emails"):
        send_many("httpx", sb.base_url, emails(151), run_id="j3", journal=journal)
    assert len(sb.requests) == before


def test_a_journal_another_run_holds_is_refused(sb: Sandbox, tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    with journal.open("a") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        with pytest.raises(JournalError, match="in use by another run"):
            send_many("httpx", sb.base_url, emails(2), run_id="j4", journal=journal)
    assert sb.requests == []


@pytest.mark.parametrize(
    ("text", "message"),
    [("hello\n", "line 1 is not JSON"), (b"\xff\xfe\n", "not UTF-8")],
    ids=["text", "binary"],
)
def test_a_file_that_is_no_journal_is_refused(
    sb: Sandbox, tmp_path: Path, text: str | bytes, message: str
) -> None:
    journal = tmp_path / "run.jsonl"
    if isinstance(text, bytes):
        journal.write_bytes(text)
    else:
        journal.write_text(text)
    with pytest.raises(JournalError, match=message):
        send_many("httpx", sb.base_url, emails(2), run_id="j5", journal=journal)
    assert sb.requests == []


# --- progress and cancellation ------------------------------------------------------------


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_progress_is_reported_in_order_and_never_concurrently(runtime: str, sb: Sandbox) -> None:
    seen: list[Progress] = []
    inside = threading.Lock()
    overlapped = threading.Event()

    def on_progress(progress: Progress) -> None:
        if not inside.acquire(blocking=False):
            overlapped.set()
            return
        try:
            seen.append(progress)
        finally:
            inside.release()

    send_many(runtime, sb.base_url, emails(1000), concurrency=4, on_progress=on_progress)
    assert not overlapped.is_set()
    assert seen[0].done == 0
    assert len(seen) == 11  # before the first chunk, and after each of the ten
    assert [p.sent for p in seen] == sorted(p.sent for p in seen)
    assert (seen[-1].sent, seen[-1].total, seen[-1].remaining, seen[-1].eta) == (1000, 1000, 0, 0)
    assert seen[-1].rate > 0


def test_a_failing_progress_callback_is_logged_and_the_run_goes_on(
    sb: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(progress: Progress) -> None:
        raise ValueError("display bug")

    with caplog.at_level(logging.ERROR, logger="poststack"):
        result = send_many("httpx", sb.base_url, emails(250), on_progress=broken)
    assert result.ok
    assert caplog.text.count("on_progress raised; the run goes on") == 4


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_cancel_stops_after_the_chunks_in_flight(runtime: str, sb: Sandbox) -> None:
    stop, on_progress = cancel_after(1)
    result = send_many(
        runtime, sb.base_url, emails(1000), concurrency=2, on_progress=on_progress, cancel=stop
    )
    assert result.cancelled
    # The chunk that set the flag, and at most the one in flight beside it.
    assert result.sent in (100, 200)
    assert result.skipped == 1000 - result.sent
    assert len(sb.outbox) == result.sent
    assert all(r.error is None for r in result if r.status == "skipped")


def test_ctrl_c_finishes_the_chunks_in_flight_and_journals_them(
    sb: Sandbox, tmp_path: Path
) -> None:
    journal = tmp_path / "run.jsonl"
    interrupted = threading.Event()
    main = threading.main_thread().ident
    assert main is not None

    def on_progress(progress: Progress) -> None:
        if progress.sent and not interrupted.is_set():
            interrupted.set()
            signal.pthread_kill(main, signal.SIGINT)  # Ctrl-C, to the waiting main thread

    # The main thread gets to the signal when the scheduler lets it, which on a busy
    # machine can be several chunks later: count what had reached the sandbox by then.
    reached: list[int] = []

    def ctrl_c(signum: int, frame: object) -> None:
        reached.append(sum(1 for r in sb.requests if r.path == "/emails/batch"))
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, ctrl_c)
    try:
        with pytest.raises(KeyboardInterrupt):
            send_many(
                "httpx",
                sb.base_url,
                emails(1000),
                run_id="c1",
                journal=journal,
                concurrency=2,
                on_progress=on_progress,
            )
    finally:
        signal.signal(signal.SIGINT, previous)
    journalled = len(journal_lines(journal)) - 1
    assert len(sb.outbox) == journalled * 100
    # No chunk started after the interrupt: only the two in flight (concurrency=2) may
    # have reached the sandbox after it, and each chunk sent was journalled.
    assert 1 <= journalled <= reached[0] + 2
    again = send_many("httpx", sb.base_url, emails(1000), run_id="c1", journal=journal)
    assert (again.ok, again.already_sent) == (True, journalled * 100)
    assert len(sb.outbox) == 1000


def test_an_unexpected_error_stops_the_run_and_is_raised(
    sb: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The disk fills up under the journal after its first chunk.
    from poststack import _bulk

    real_append = _bulk._JournalFile.append
    writes: list[int] = []

    def append(self: Any, lines: list[str]) -> None:
        writes.append(len(lines))
        if len(writes) > 1:
            raise OSError(28, "No space left on device")
        real_append(self, lines)

    monkeypatch.setattr(_bulk._JournalFile, "append", append)
    with pytest.raises(OSError, match="No space left"):
        send_many(
            "httpx",
            sb.base_url,
            emails(1000),
            run_id="disk",
            journal=tmp_path / "j",
            concurrency=1,
        )
    assert len(sb.outbox) == 200  # the chunk whose line could not be written was sent
    assert len(writes) == 2  # and no chunk started after it


# --- pacing --------------------------------------------------------------------------------


class Counting:
    """A transport that counts the statuses it carries (a 429 is a 429 however it came)."""

    def __init__(self) -> None:
        from poststack.transports.httpx import HttpxTransport

        self.inner = HttpxTransport()
        self.statuses: list[int] = []
        self.lock = threading.Lock()

    def send(self, request: Request, timeout: float) -> Response:
        response = self.inner.send(request, timeout)
        with self.lock:
            self.statuses.append(response.status)
        return response

    def close(self) -> None:
        self.inner.close()


def test_a_paced_client_shares_one_budget_between_its_threads() -> None:
    with Sandbox(KEY, rate_limit=40) as sandbox:
        transport = Counting()
        with PostStack(
            api_key=KEY, base_url=sandbox.base_url, transport=transport, pacing=Pacing()
        ) as ps:

            def send(worker: int) -> None:
                for n in range(20):
                    ps.emails.send(
                        {
                            "from": "a@example.com",
                            "to": [f"w{worker}n{n}@example.com"],
                            "subject": "x",
                            "text": "y",
                        }
                    )

            threads = [threading.Thread(target=send, args=(w,)) for w in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        transport.close()
        assert len(sandbox.outbox) == 160
    throttled = transport.statuses.count(429)
    # Eight threads, one budget: a 429 now and then where the sandbox's own timing jitters
    # on a busy machine (10 of 170 requests, once, under CI's load), as in
    # test_bulk_rate_limit. Unpaced, the same threads met 96 in 256 (37 %).
    assert throttled <= 0.1 * len(transport.statuses)
    assert len(transport.statuses) == 160 + throttled


# --- chunk jobs -------------------------------------------------------------------------


@pytest.mark.parametrize("runtime", ["httpx", "asyncio"])
def test_a_redelivered_chunk_is_never_sent_twice(runtime: str, sb: Sandbox) -> None:
    plan = plan_send_many(emails(250), run_id="job-9")

    async def send_chunks(chunks: list[Any]) -> list[SendManyResult]:
        async with AsyncPostStack(api_key=KEY, base_url=sb.base_url) as ps:
            return [await ps.emails.send_chunk(chunk) for chunk in chunks]

    chunks = [*plan.chunks, plan.chunks[1]]  # the second chunk's job is delivered twice
    if runtime == "asyncio":
        results = asyncio.run(send_chunks(chunks))
    else:
        with PostStack(api_key=KEY, base_url=sb.base_url) as ps:
            results = [ps.emails.send_chunk(chunk) for chunk in chunks]
    assert len(sb.outbox) == 250
    assert results[3].ids == results[1].ids
    assert [r.index for r in results[2]] == list(range(200, 250))
    by_subject = ids_by_subject(sb)
    assert [i for result in results[:3] for i in result.ids] == [
        by_subject[f"#{i}"] for i in range(250)
    ]

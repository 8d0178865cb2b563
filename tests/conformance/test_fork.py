"""A client inherited by a forked child: every call still gets its own request's answer.

A client is created and used (its pool warmed: keep-alive connections left
idle) in the parent, then the process forks (``os.fork()``, and a
``multiprocessing`` pool with the fork start method, as gunicorn
``--preload`` and Celery's prefork do). Parent and children then send at the
same time through the inherited client, each call with its own subject; the
server answers every request with an id made from that request's subject.
Every call must get the id made for it: no mismatches, no errors (retries
are off, so none can hide). Inherited connections shared with another
process would hand one process the other's answers.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import multiprocessing
import os
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import trio

from poststack import AsyncPostStack, PostStack, PostStackError
from poststack.transports._runtime import running_under_trio
from tests.faultserver import FaultServer, RecordedRequest, Reply

from .runtimes import API_KEY, RUNTIMES, Runtime

# A user's aiohttp session belongs to one process: tests/test_aiohttp_transport.py checks
# that a forked child refuses it.
FORKABLE = [runtime for runtime in RUNTIMES if not runtime.one_loop]
CALLS = 30
WARM = 8
WORKERS = 4


def _answer(request: RecordedRequest) -> Reply:
    return Reply(202, {"id": f"em_{request.json['subject']}"})


def _payload(subject: str) -> dict[str, Any]:
    return {"from": "hello@acme.test", "to": ["ana@example.com"], "subject": subject}


def _tally(results: list[tuple[str, Any]]) -> dict[str, Any]:
    mismatches = [(subject, got) for subject, got in results if got != f"em_{subject}"]
    return {"calls": len(results), "mismatches": mismatches}


def _sync_calls(ps: PostStack, tag: str, count: int, workers: int) -> list[tuple[str, Any]]:
    def one(i: int) -> tuple[str, Any]:
        subject = f"{tag}-{i}"
        try:
            return subject, ps.emails.send(_payload(subject))["id"]
        except PostStackError as exc:
            return subject, repr(exc)

    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, range(count)))


async def _async_calls(
    ps: AsyncPostStack, tag: str, count: int, workers: int
) -> list[tuple[str, Any]]:
    results: list[tuple[str, Any]] = []

    async def worker(first: int) -> None:
        for i in range(first, count, workers):
            subject = f"{tag}-{i}"
            try:
                results.append((subject, (await ps.emails.send(_payload(subject)))["id"]))
            except PostStackError as exc:
                results.append((subject, repr(exc)))

    if running_under_trio():
        async with trio.open_nursery() as nursery:
            for first in range(workers):
                nursery.start_soon(worker, first)
    else:
        await asyncio.gather(*(worker(first) for first in range(workers)))
    return results


def calls(runtime: Runtime, ps: Any, tag: str, count: int = CALLS) -> dict[str, Any]:
    """``count`` sends through ``ps``, ``WORKERS`` at a time, in ``runtime``'s way.

    Several at a time, so that the warm-up leaves several idle connections to
    inherit, and that parent and child reach for them together.
    """
    if runtime.loop == "sync":
        return _tally(_sync_calls(ps, tag, count, WORKERS))
    if runtime.loop == "asyncio":
        return _tally(asyncio.run(_async_calls(ps, tag, count, WORKERS)))
    return _tally(trio.run(_async_calls, ps, tag, count, WORKERS))


def _client(runtime: Runtime, url: str) -> tuple[Any, Any, Any]:
    transport, cleanup = runtime.make(True)
    cls = PostStack if runtime.loop == "sync" else AsyncPostStack
    ps = cls(API_KEY, url, timeout=10, max_retries=0, transport=transport)
    return ps, transport, cleanup


def _close(runtime: Runtime, ps: Any, transport: Any, cleanup: Any) -> None:
    if runtime.loop == "sync":
        ps.close()
        transport.close()  # passed in, so the client leaves it open
        if cleanup is not None:
            cleanup()
        return

    async def close() -> None:
        await ps.aclose()
        await transport.aclose()
        if cleanup is not None:
            await cleanup()

    if runtime.loop == "asyncio":
        asyncio.run(close())
    else:
        trio.run(close)


def _fork() -> int:
    # Python 3.12+ warns that forking a process with threads (the test server's)
    # may deadlock the child; the child here touches none of their locks.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return os.fork()


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        srv.handler = _answer
        yield srv


@pytest.mark.parametrize("runtime", FORKABLE, ids=lambda r: r.name)
def test_parent_and_forked_child_each_get_their_own_answers(
    runtime: Runtime, server: FaultServer
) -> None:
    ps, transport, cleanup = _client(runtime, server.url)
    warm = calls(runtime, ps, "warm", WARM)
    assert warm["mismatches"] == []
    ready_r, ready_w = os.pipe()
    result_r, result_w = os.pipe()
    pid = _fork()
    if pid == 0:  # the child: report, and leave without running any of pytest's cleanup
        code = 1
        try:
            os.close(ready_r)
            os.close(result_r)
            os.write(ready_w, b"!")
            outcome = calls(runtime, ps, "child", CALLS)
            os.write(result_w, json.dumps(outcome).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(ready_w)
    os.close(result_w)
    assert os.read(ready_r, 1) == b"!"  # both send from here on, at the same time
    parent = calls(runtime, ps, "parent", CALLS)
    with os.fdopen(result_r, "rb") as pipe:
        reported = pipe.read()
    _, status = os.waitpid(pid, 0)
    os.close(ready_r)
    _close(runtime, ps, transport, cleanup)
    assert os.waitstatus_to_exitcode(status) == 0
    child = json.loads(reported)
    assert (parent["calls"], child["calls"]) == (CALLS, CALLS)
    assert parent["mismatches"] == []
    assert child["mismatches"] == []
    subjects = [r.json["subject"] for r in server.requests]
    assert len(subjects) == WARM + 2 * CALLS == len(set(subjects))  # each sent exactly once


_INHERITED: dict[str, Any] = {}


def _worker(tag: str) -> dict[str, Any]:
    """A multiprocessing worker: calls through the client it inherited from the parent."""
    return calls(_INHERITED["runtime"], _INHERITED["ps"], tag, CALLS)


@pytest.mark.parametrize("runtime", FORKABLE, ids=lambda r: r.name)
def test_multiprocessing_fork_pool_workers_get_their_own_answers(
    runtime: Runtime, server: FaultServer
) -> None:
    ps, transport, cleanup = _client(runtime, server.url)
    assert calls(runtime, ps, "warm", WARM)["mismatches"] == []
    _INHERITED.update(runtime=runtime, ps=ps)
    context = multiprocessing.get_context("fork")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            pool = context.Pool(3)
        with pool:
            pending = pool.map_async(_worker, [f"worker{n}" for n in range(3)])
            parent = calls(runtime, ps, "parent", CALLS)
            workers = pending.get(timeout=120)
    finally:
        _INHERITED.clear()
        _close(runtime, ps, transport, cleanup)
    assert parent["mismatches"] == []
    assert [w["mismatches"] for w in workers] == [[], [], []]
    assert [w["calls"] for w in workers] == [CALLS] * 3
    subjects = [r.json["subject"] for r in server.requests]
    assert len(subjects) == WARM + 4 * CALLS == len(set(subjects))

"""Carrying out a bulk run: workers that send chunks, the journal file, progress and cancel.

Every decision is the core's (``poststack_core.SendManyRun`` and
``ChunkSend``). :class:`_Session` does the run's I/O that does not depend on
blocking or awaiting (the journal file, the progress callback, the cancel
flag); ``run_sync`` and ``run_async`` differ only in how their workers wait:
threads of a pool and a lock around the session, or tasks (asyncio or trio)
that need no lock.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Awaitable, Callable, Generator
from typing import IO, TYPE_CHECKING, Any

from poststack_core import (
    Chunk,
    ChunkSend,
    JournalError,
    Operation,
    PostStackError,
    SendMany,
    SendManyResult,
    SendManyRun,
    manifest_operation,
)

from .transports._runtime import running_under_trio

if TYPE_CHECKING:
    from ._driving import CountingPacer

logger = logging.getLogger("poststack")

RunOperation = Callable[[Operation[Any]], Any]
ARunOperation = Callable[[Operation[Any]], Awaitable[Any]]


class _JournalFile:
    """The journal of a run on disk: read back once, then appended to chunk by chunk."""

    def __init__(self, path: str, run: SendManyRun) -> None:
        self.path = path
        file = open(path, "a+b")  # noqa: SIM115 - kept open for the whole run, closed in close()
        try:
            _lock_exclusively(file, path)
            file.seek(0)
            data = file.read()
            # A line is complete with its newline: a torn last line (a kill mid-write) goes.
            complete = data[: data.rfind(b"\n") + 1]
            if len(complete) != len(data):
                file.truncate(len(complete))
            try:
                lines = complete.decode("utf-8").splitlines()
            except UnicodeDecodeError:
                raise JournalError(f"journal {path} is not UTF-8 text") from None
            run.resume(lines, where=f"journal {path}")
            if not any(line.strip() for line in lines):
                file.write(run.journal_header().encode("utf-8"))
                file.flush()
        except BaseException:
            file.close()
            raise
        self._file: IO[bytes] = file

    def append(self, lines: list[str]) -> None:
        if lines:
            # flush: once written, a line survives the process being killed.
            self._file.write("".join(lines).encode("utf-8"))
            self._file.flush()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.fsync(self._file.fileno())
        self._file.close()


def _lock_exclusively(file: IO[bytes], path: str) -> None:
    """Refuse a journal another process is writing: two runs of one run id at once."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no advisory lock to take
        return
    try:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise JournalError(f"journal {path} is in use by another run") from None


class _Session:
    """One run's state and side effects; the drivers call it, holding their lock if any."""

    def __init__(self, job: SendMany, pacer: CountingPacer, fresh_run_id: str) -> None:
        self._job = job
        self._pacer = pacer
        self.plan = job.plan(fresh_run_id)
        self.run = SendManyRun(self.plan, time.monotonic())
        self.journal = _JournalFile(job.journal, self.run) if job.journal else None
        self.failure: Exception | None = None

    def manifest(self) -> Operation[Any] | None:
        """The plan's registration, when the caller chose the run id and something is left."""
        if not self._job.registers or not self.run.pending:
            return None
        return manifest_operation(self.plan, timeout=self._job.timeout)

    def registered(self, error: PostStackError | None) -> None:
        warning = self.run.registered(error)
        if warning is not None:
            logger.warning("%s", warning)

    def next_chunk(self) -> Chunk | None:
        cancel = self._job.cancel
        if cancel is not None and self.run.pending and cancel.is_set():
            self.run.cancel()
        return self.run.next_chunk()

    def chunk_done(self, chunk: Chunk, send: ChunkSend) -> None:
        self.run.chunk_done(chunk, send.results, time.monotonic())
        if self.journal is not None:
            self.journal.append(self.run.take_journal())
        self.report()

    def report(self) -> None:
        on_progress = self._job.on_progress
        if on_progress is None:
            return
        try:
            on_progress(self.run.progress(time.monotonic()))
        except Exception:
            # A progress display's bug must not stop (or half-stop) a send.
            logger.exception("on_progress raised; the run goes on")

    def failed(self, exc: Exception) -> None:
        """A worker hit an unexpected error: no chunk starts again; it is raised at the end."""
        if self.failure is None:
            self.failure = exc
        self.run.cancel()

    def close(self) -> None:
        if self.journal is not None:
            self.journal.close()

    def result(self) -> SendManyResult:
        if self.failure is not None:
            raise self.failure
        pacer = self._pacer
        return self.run.result(requests=pacer.requests, throttled=pacer.throttled)


@contextlib.contextmanager
def _session(
    job: SendMany, pacer: CountingPacer, fresh_run_id: str
) -> Generator[_Session, None, None]:
    session = _Session(job, pacer, fresh_run_id)
    try:
        yield session
    finally:
        session.close()


def _outcome(run_operation: RunOperation, operation: Operation[Any]) -> PostStackError | None:
    try:
        run_operation(operation)
    except PostStackError as error:
        return error
    return None


def _send_chunk(send: ChunkSend, run_operation: RunOperation) -> None:
    while (operation := send.next()) is not None:
        try:
            send.succeeded(run_operation(operation))
        except PostStackError as error:
            send.failed(error)


async def _asend_chunk(send: ChunkSend, run_operation: ARunOperation) -> None:
    while (operation := send.next()) is not None:
        try:
            send.succeeded(await run_operation(operation))
        except PostStackError as error:
            send.failed(error)


def run_sync(
    job: SendMany, run_operation: RunOperation, pacer: CountingPacer, fresh_run_id: str
) -> SendManyResult:
    """Run ``job`` with ``job.concurrency`` threads.

    ``run_operation`` sends one request through ``pacer`` (which counts the
    answers); ``fresh_run_id`` is the run's id when the caller chose none.
    """
    lock = threading.Lock()
    with _session(job, pacer, fresh_run_id) as session:
        if (manifest := session.manifest()) is not None:
            session.registered(_outcome(run_operation, manifest))
        session.report()

        def worker() -> None:
            try:
                while True:
                    with lock:
                        chunk = session.next_chunk()
                    if chunk is None:
                        return
                    send = ChunkSend(chunk, timeout=job.timeout)
                    _send_chunk(send, run_operation)
                    with lock:
                        session.chunk_done(chunk, send)
            except Exception as exc:
                with lock:
                    session.failed(exc)

        if job.concurrency == 1:
            worker()
        else:
            # Here, not at the top: concurrent.futures costs every `import poststack` 3 ms.
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(job.concurrency, thread_name_prefix="poststack-bulk") as pool:
                try:
                    # Submitting is inside: a Ctrl-C may come as soon as the first worker runs.
                    futures = [pool.submit(worker) for _ in range(job.concurrency)]
                    for future in futures:
                        future.result()
                except BaseException:
                    # Ctrl-C: the chunks in flight finish (and are journalled), no more start.
                    with lock:
                        session.run.cancel()
                    raise
        return session.result()


async def run_async(
    job: SendMany, run_operation: ARunOperation, pacer: CountingPacer, fresh_run_id: str
) -> SendManyResult:
    """Run ``job`` with ``job.concurrency`` tasks (asyncio or trio); no lock is needed."""
    with _session(job, pacer, fresh_run_id) as session:
        if (manifest := session.manifest()) is not None:
            try:
                await run_operation(manifest)
            except PostStackError as error:
                session.registered(error)
            else:
                session.registered(None)
        session.report()

        async def worker() -> None:
            try:
                while (chunk := session.next_chunk()) is not None:
                    send = ChunkSend(chunk, timeout=job.timeout)
                    await _asend_chunk(send, run_operation)
                    session.chunk_done(chunk, send)
            except Exception as exc:
                session.failed(exc)

        await _all([worker] * job.concurrency)
        return session.result()


async def _all(workers: list[Callable[[], Awaitable[None]]]) -> None:
    """Run every worker concurrently, in trio's nursery or asyncio's tasks, until all end."""
    if running_under_trio():
        import trio

        async with trio.open_nursery() as nursery:
            for work in workers:
                nursery.start_soon(work)
        return
    import asyncio

    tasks = [asyncio.ensure_future(work()) for work in workers]
    try:
        await asyncio.gather(*tasks)
    finally:
        # Cancelled from outside: no worker outlives the call.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

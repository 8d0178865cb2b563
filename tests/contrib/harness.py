"""Real Redis and real worker processes for the job-queue tests (Celery, RQ, arq, Dramatiq).

Each test starts what it needs and stops it: redis-server on a free loopback
port (no persistence, in a temporary directory), and worker processes in
process groups of their own, logging to a file, so that a test can SIGKILL
one mid-send. :func:`hold_next_send` arms the sandbox to hold a send (and
then process it, its response going nowhere): the moment to kill a worker.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest

from poststack.testing import RecordedRequest, Sandbox
from tests.contrib.conftest import ROOT, wait_until

START_TIMEOUT = 60.0

HOLD = 4.0
"""Seconds the sandbox holds a send before processing it: the window in which a test
kills the worker that sent it (it takes a few milliseconds; the rest is margin for a
loaded machine)."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@contextlib.contextmanager
def redis_server(tmp: Path) -> Iterator[str]:
    """Start redis-server on a free loopback port; yield its URL."""
    binary = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None
    )
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed (.ci/run installs it with apt)")
        pytest.skip("redis-server is not installed")
    for _ in range(5):  # another process may take the port between pick and bind
        port = _free_port()
        log = tmp / f"redis-{port}.log"
        process = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(tmp),
                "--logfile",
                str(log),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until(
                lambda: process.poll() is not None or _redis_answers(port),  # noqa: B023
                START_TIMEOUT,
                "redis-server to answer PING",
            )
            if process.poll() is None:
                break
        except BaseException:
            process.kill()
            process.wait(30)
            raise
    else:
        pytest.fail("could not start redis-server on a free port")
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(30)


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name, or None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # pid (comm) state ppid pgrp ...: comm may hold spaces, so split after the ")".
    return text.rsplit(")", 1)[1].split()


def child_pids(pid: int) -> list[int]:
    """The pids of the processes whose parent is ``pid`` (read from /proc)."""
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) and int(stat[1]) == pid:
            found.append(int(entry.name))
    return found


def process_group(pid: int) -> int | None:
    stat = _stat(pid)
    return int(stat[2]) if stat else None


class _Process:
    """A process known by pid and start time: a pid reused later is never signalled."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        stat = _stat(pid)
        self.started = stat[19] if stat else None

    def kill(self) -> None:
        stat = _stat(self.pid)
        if stat is not None and stat[19] == self.started:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)


def _descendants(pid: int) -> list[_Process]:
    found: list[_Process] = []
    for child in child_pids(pid):
        found.append(_Process(child))
        found.extend(_descendants(child))
    return found


def worker_env(sb: Sandbox, **extra: str) -> dict[str, str]:
    """The environment of a worker process: this one's, with the sandbox's key and URL.

    Not DJANGO_SETTINGS_MODULE, which the Django tests set in this process.
    """
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(POSTSTACK_API_KEY=sb.api_key, POSTSTACK_BASE_URL=sb.base_url, **extra)
    return env


class WorkerProcess:
    """One worker command (its own process group), logging to a file.

    ``ready`` is a phrase the worker logs once it takes jobs (``ready_count``
    times: once per process of a worker that forks several).
    """

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        env: Mapping[str, str],
        log: Path,
        *,
        ready: str,
        ready_count: int = 1,
        cwd: Path = ROOT,
    ) -> None:
        self.name = name
        self.log = log
        self.ready = ready
        self.ready_count = ready_count
        self._log_file = log.open("wb")
        self.process = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=dict(env),
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self) -> None:
        wait_until(
            lambda: (
                self.output().count(self.ready) >= self.ready_count
                or self.process.poll() is not None
            ),
            START_TIMEOUT,
            f"worker {self.name} to be ready",
        )
        if self.process.poll() is not None:
            raise RuntimeError(f"worker {self.name} exited:\n{self.output()}")

    def children(self) -> list[int]:
        """The pids of the worker's child processes (a pool, work horses)."""
        return child_pids(self.process.pid)

    def wait_for_child(self, what: str = "a child process", *, own_group: bool = False) -> int:
        """The pid of the worker's only child (in a process group of its own: an RQ
        work horse, when ``own_group``), once it has one."""
        found: list[int] = []

        def one_child() -> bool:
            found[:] = [
                pid for pid in self.children() if not own_group or process_group(pid) == pid
            ]
            return len(found) == 1

        wait_until(one_child, START_TIMEOUT, f"{what} of {self.name}")
        return found[0]

    def signal(self, signum: signal.Signals) -> None:
        """Send ``signum`` to the worker's main process only."""
        os.kill(self.process.pid, signum)

    def kill(self) -> None:
        """SIGKILL the whole worker at once, mid-task: nothing is acknowledged.

        Its descendants too, also those in process groups of their own (RQ's horses).
        """
        descendants = _descendants(self.process.pid)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        for process in descendants:
            process.kill()
        self.process.wait(30)

    def exited(self) -> bool:
        return self.process.poll() is not None

    def stop(self) -> None:
        """Stop the worker as its library likes to be stopped (SIGTERM), then make sure."""
        descendants = _descendants(self.process.pid)
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGCONT)  # a test may have paused it
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        # Whatever is left of it (a horse, a pool child) goes with it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        for process in descendants:
            process.kill()
        self._log_file.close()


@contextlib.contextmanager
def workers(*started: WorkerProcess) -> Iterator[tuple[WorkerProcess, ...]]:
    """Wait until every worker is ready; stop them all at the end."""
    try:
        for worker in started:
            worker.wait_ready()
        yield started
    except BaseException:
        # What the workers said goes into the failure's report (pytest shows stdout).
        for worker in started:
            print(f"--- the log of worker {worker.name} (its end) ---\n{worker.output()[-8000:]}")
        raise
    finally:
        for worker in started:
            worker.stop()


def hold_next_send(sb: Sandbox, path: str = "/emails", seconds: float = HOLD) -> None:
    """The next POST to ``path`` is held ``seconds``, then processed; its response is lost.

    The email is created, as if the API had answered just as the worker died;
    the connection is reset instead, and nobody reads it.
    """
    sb.faults.next(delay=seconds, process=True, reset=True, method="POST", path=path)


def posts(sb: Sandbox, path: str = "/emails") -> list[RecordedRequest]:
    """The POST requests the sandbox got on ``path``, in order."""
    return [r for r in sb.requests if (r.method, r.path) == ("POST", path)]


def keys_sent(sb: Sandbox, path: str = "/emails") -> list[str | None]:
    """The Idempotency-Key of each POST to ``path``, in order."""
    return [r.idempotency_key for r in sb.requests if (r.method, r.path) == ("POST", path)]

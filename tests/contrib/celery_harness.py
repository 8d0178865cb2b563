"""A real Redis server and real Celery worker processes for tests/contrib/test_celery.py.

Each test starts what it needs and stops it: redis-server on a free loopback
port (no persistence, in a temporary directory) and ``celery worker``
processes in their own process groups, so a test can SIGKILL one mid-task.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tests.contrib.conftest import ROOT, wait_until

START_TIMEOUT = 60.0


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


class Worker:
    """One ``celery worker`` process (its own process group), logging to a file."""

    def __init__(
        self,
        name: str,
        env: Mapping[str, str],
        log: Path,
        *,
        app: str = "tests.contrib.celeryapp",
        pool: str = "threads",
        concurrency: int = 4,
        cwd: Path = ROOT,
    ) -> None:
        self.name = name
        self.log = log
        self._log_file = log.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                app,
                "worker",
                "-n",
                f"{name}@%h",
                "-P",
                pool,
                "-c",
                str(concurrency),
                "-l",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=cwd,
            # Not DJANGO_SETTINGS_MODULE, which the Django tests set in this process:
            # Celery would load those settings in the worker.
            env={**{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}, **env},
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self) -> None:
        wait_until(
            lambda: " ready." in self.output() or self.process.poll() is not None,
            START_TIMEOUT,
            f"worker {self.name} to be ready",
        )
        if self.process.poll() is not None:
            raise RuntimeError(f"worker {self.name} exited:\n{self.output()}")

    def children(self) -> list[int]:
        """The pids of the worker's child processes (the prefork pool)."""
        found: list[int] = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # pid (comm) state ppid ...: comm may hold spaces, so split after the ")".
            if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                found.append(int(entry.name))
        return found

    def kill(self) -> None:
        """SIGKILL the whole worker at once, mid-task: nothing is acknowledged."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log_file.close()


@contextlib.contextmanager
def workers(*started: Worker) -> Iterator[tuple[Worker, ...]]:
    """Wait until every worker is ready; stop them all at the end."""
    try:
        for worker in started:
            worker.wait_ready()
        yield started
    finally:
        for worker in started:
            worker.stop()

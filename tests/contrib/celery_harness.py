"""Real Celery worker processes for tests/contrib/test_celery.py (Redis: tests/contrib/harness.py).

``celery worker`` processes run in their own process groups, so a test can
SIGKILL one mid-task.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from tests.contrib.conftest import ROOT
from tests.contrib.harness import WorkerProcess, redis_server, workers

__all__ = ["Worker", "redis_server", "workers"]


class Worker(WorkerProcess):
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
        command = [
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
        ]
        # Not DJANGO_SETTINGS_MODULE, which the Django tests set in this process:
        # Celery would load those settings in the worker.
        full = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
        super().__init__(name, command, {**full, **env}, log, ready=" ready.", cwd=cwd)

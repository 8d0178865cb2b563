"""Clients that note their closing, for the worker apps' clean-shutdown tests.

A worker process makes one through a job's ``client_factory``; when the
integration's shutdown closes it, the process's pid is appended to the file
named by ``$POSTSTACK_TEST_CLOSED_LOG``.
"""

from __future__ import annotations

import os
from pathlib import Path

from poststack import AsyncPostStack, PostStack
from poststack.types import SendEmailParams

CLOSED_LOG = "POSTSTACK_TEST_CLOSED_LOG"


def _note_closed() -> None:
    with Path(os.environ[CLOSED_LOG]).open("a") as log:
        log.write(f"{os.getpid()}\n")


class NotingPostStack(PostStack):
    def close(self) -> None:
        super().close()
        _note_closed()


class NotingAsyncPostStack(AsyncPostStack):
    async def aclose(self) -> None:
        await super().aclose()
        _note_closed()


def noted_email(to: str) -> SendEmailParams:
    """What the apps' noted_send jobs send."""
    return {"from": "hi@yourdomain.com", "to": [to], "subject": "Noted", "text": "Hi"}


def closed_pids(log: Path) -> list[int]:
    """The pids of the processes whose client was closed, in order."""
    return [int(line) for line in log.read_text().split()] if log.exists() else []

"""The arq worker of tests/contrib/test_arq.py (``arq tests.contrib.arqapp.WorkerSettings``).

Its Redis is ``$POSTSTACK_TEST_REDIS_URL``, set by the test that starts it.
"""

from __future__ import annotations

import os
from typing import ClassVar

from arq import func
from arq.connections import RedisSettings

from poststack import AsyncPostStack
from poststack.contrib.arq import send_chunk, send_email, shutdown, startup, with_poststack
from tests.contrib.closing import NotingAsyncPostStack, noted_email

JOB_TIMEOUT = 10
"""Seconds a job may run. arq gives the job of a dead worker to another once its
in-progress mark expires, this plus 10 seconds after it started (arq's default
is five minutes): the tests keep the minutes out and the rest of arq as it is."""


@with_poststack(backoff=1.0, backoff_max=1.0)
async def send_receipt(
    ctx: dict[str, object], client: AsyncPostStack, key: str, order_id: int, to: str
) -> str:
    """A user's own job: one receipt per order."""
    email = await client.emails.send(
        {
            "from": "shop@yourdomain.com",
            "to": [to],
            "subject": f"Receipt for order {order_id}",
            "text": "Thanks!",
        },
        idempotency_key=key,
    )
    return email["id"]


@with_poststack
async def welcome_and_tips(
    ctx: dict[str, object], client: AsyncPostStack, key: str, to: str
) -> list[str]:
    """A job that sends twice: one key per send, each derived from the job's."""
    ids = []
    for part in ("welcome", "tips"):
        email = await client.emails.send(
            {"from": "hi@yourdomain.com", "to": [to], "subject": part, "text": part},
            idempotency_key=f"{key}-{part}",
        )
        ids.append(email["id"])
    return ids


@with_poststack(client_factory=NotingAsyncPostStack)
async def noted_send(ctx: dict[str, object], client: AsyncPostStack, key: str, to: str) -> str:
    """A job whose client notes its closing (the clean-shutdown test)."""
    email = await client.emails.send(noted_email(to), idempotency_key=key)
    return email["id"]


class WorkerSettings:
    functions: ClassVar = [
        send_email,
        send_chunk,
        func(send_receipt, max_tries=3),
        welcome_and_tips,
        noted_send,
    ]
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = RedisSettings.from_dsn(
        os.environ.get("POSTSTACK_TEST_REDIS_URL", "redis://127.0.0.1:1/0")
    )
    job_timeout = JOB_TIMEOUT
    max_jobs = 8
    poll_delay = 0.05

"""Job functions and a worker class that the RQ workers of tests/contrib/test_rq.py import."""

from __future__ import annotations

from rq import Worker
from rq.job import Job

from poststack import PostStack
from poststack.contrib.rq import with_poststack
from tests.contrib.closing import NotingPostStack, noted_email


class QuickWorker(Worker):
    """RQ's forking ``Worker``, taking a dead worker's job for abandoned within seconds.

    A job's heartbeat lasts its monitoring interval plus a minute, so RQ finds
    the job of a killed worker abandoned a minute later at best; the tests
    keep the minute out and the rest of RQ's logic as it is.
    """

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        return self.job_monitoring_interval + 1


@with_poststack(max_retries=2, backoff=1.0, backoff_max=1.0)
def send_receipt(client: PostStack, key: str, order_id: int, to: str) -> str:
    """A user's own job: one receipt per order."""
    email = client.emails.send(
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
def welcome_and_tips(client: PostStack, key: str, to: str) -> list[str]:
    """A job that sends twice: one key per send, each derived from the job's."""
    ids = []
    for part in ("welcome", "tips"):
        email = client.emails.send(
            {"from": "hi@yourdomain.com", "to": [to], "subject": part, "text": part},
            idempotency_key=f"{key}-{part}",
        )
        ids.append(email["id"])
    return ids


@with_poststack(client_factory=NotingPostStack)
def noted_send(client: PostStack, key: str, to: str) -> str:
    """A job whose client notes its closing (the clean-shutdown test)."""
    email = client.emails.send(noted_email(to), idempotency_key=key)
    return email["id"]

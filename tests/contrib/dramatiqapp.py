"""The Dramatiq app of tests/contrib/test_dramatiq.py: a Redis broker, PostStack's actors
and a user's own.

The worker processes (``dramatiq tests.contrib.dramatiqapp``) and the test
process import it. The broker's URL is ``$POSTSTACK_TEST_REDIS_URL``; the
test process, which imports it before its Redis is started, points the
broker's connection pool at the test's Redis (:func:`connect`).
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import dramatiq
from dramatiq.brokers.redis import RedisBroker

HEARTBEAT_TIMEOUT_MS = 3000
"""A worker whose broker heartbeat is older is dead, its messages given to others.

Dramatiq's default is a minute; the tests keep the minute out and the rest of
the Redis broker's logic as it is."""

broker = RedisBroker(
    url=os.environ.get("POSTSTACK_TEST_REDIS_URL", "redis://127.0.0.1:1/0"),
    heartbeat_timeout=HEARTBEAT_TIMEOUT_MS,
    # Look for dead workers' messages on every command (out of a million).
    maintenance_chance=1_000_000,
)
dramatiq.set_broker(broker)

# Imported after the broker is set, as the module's docs say: its actors are
# declared on this broker.
from poststack import PostStack  # noqa: E402
from poststack.contrib.dramatiq import (  # noqa: E402
    PostStackMiddleware,
    enqueue_email,
    enqueue_send_many,
    send_chunk,
    send_email,
    with_poststack,
)
from tests.contrib.closing import NotingPostStack, noted_email  # noqa: E402

# A process that imported poststack.contrib.dramatiq before this module has its
# actors on another broker: the tests import it through here only.
assert send_email.broker is broker, "poststack.contrib.dramatiq was imported before the broker"

__all__ = [
    "PostStackMiddleware",
    "broker",
    "connect",
    "enqueue_email",
    "enqueue_send_many",
    "noted_send",
    "send_chunk",
    "send_email",
    "send_receipt",
    "welcome_and_tips",
]


def connect(url: str) -> None:
    """Point this process's broker at the Redis at ``url``."""
    parts = urlsplit(url)
    pool = broker.client.connection_pool
    pool.disconnect()
    pool.connection_kwargs.update(host=parts.hostname, port=parts.port)
    pool.reset()  # connections made for the last URL are dropped, not reused


@with_poststack(max_retries=2, backoff=1.0, backoff_max=1.0)
def send_receipt(client: PostStack, key: str, order_id: int, to: str) -> str:
    """A user's own actor: one receipt per order."""
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
    """An actor that sends twice: one key per send, each derived from the message's."""
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
    """An actor whose client notes its closing (the clean-shutdown test)."""
    email = client.emails.send(noted_email(to), idempotency_key=key)
    return email["id"]

"""The sans-IO core alone, with no I/O at all."""

from __future__ import annotations

import os
from typing import Any

from ._measure import API_KEY, PAYLOAD, Unavailable, need, run_sync
from ._registry import Context, job


@job("core-only", "ours · core alone (Call + request build + response parse)", kind="core")
def core_only(ctx: Context) -> dict[str, Any]:
    """One emails.send through the sans-IO core alone.

    Per call: the endpoint function builds the Operation, a Call is made (its
    request built: URL, headers, JSON body bytes, the Idempotency-Key from 16
    given bytes), ``start()`` hands out the Send, ``receive()`` of a canned 202
    parses the JSON into the Done value. The driver's parts (``os.urandom``,
    reading the clock) stay out: the bytes and ``now`` are fixed.
    """
    need("poststack_core")
    try:
        from poststack_core import Call, ClientConfig, Done, Response, Send, idempotency_key_from
        from poststack_core.endpoints import emails
    except ImportError as exc:
        raise Unavailable(f"poststack_core lacks the expected API: {exc}") from exc
    config = ClientConfig(api_key=API_KEY, base_url=ctx.url)
    response = Response(
        202,
        (("Content-Type", "application/json"), ("Content-Length", "17")),
        b'{"id":"em_bench"}',
    )
    key_bytes = os.urandom(16)
    now = 1_800_000_000.0

    def rng() -> float:
        return 0.5

    def one() -> Any:
        call = Call(
            emails.send(PAYLOAD),
            config,
            new_key=lambda: idempotency_key_from(key_bytes),
            random=rng,
        )
        send = call.start()
        assert isinstance(send, Send)
        done = call.receive(response, now)
        assert isinstance(done, Done)
        return done.value

    return run_sync(one, ctx.n, ctx.warmup)

"""Our SDK watched: event hooks, OpenTelemetry spans, raw responses (what watching costs).

The unwatched path is ``ours-httpx-sync``: these jobs are the same sends
with something watching, so the informative ratios in ``targets.py`` read
as the price of each. The two ``ours-client-memory`` jobs send through the
whole client to a transport that answers from memory, so that the SDK's own
CPU per send (and what a hook adds to it) is not lost in the HTTP stack's.
"""

from __future__ import annotations

from typing import Any

from ._measure import API_KEY, PAYLOAD, Unavailable, need, ours, run_sync
from ._registry import Context, job


def _sync(ctx: Context, send: Any, **options: Any) -> dict[str, Any]:
    poststack = ours()
    transport = need("poststack.transports.httpx").HttpxTransport()
    ps = poststack.PostStack(api_key=API_KEY, base_url=ctx.url, transport=transport, **options)
    try:
        with ps:
            return run_sync(lambda: send(ps), ctx.n, ctx.warmup)
    finally:
        transport.close()


def _send(ps: Any) -> Any:
    return ps.emails.send(PAYLOAD)


class _Memory:
    """A transport whose every answer is the same canned 202: no I/O at all."""

    def __init__(self, response: Any) -> None:
        self._response = response

    def send(self, request: Any, timeout: float) -> Any:
        return self._response

    def close(self) -> None:
        pass


def _in_memory(ctx: Context, **options: Any) -> dict[str, Any]:
    poststack = ours()
    core = need("poststack_core")
    body = b'{"id":"em_bench"}'
    answer = core.Response(202, (("Content-Type", "application/json"),), body)
    ps = poststack.PostStack(
        api_key=API_KEY, base_url=ctx.url, transport=_Memory(answer), **options
    )
    with ps:
        return run_sync(lambda: _send(ps), ctx.n, ctx.warmup)


@job("ours-client-memory", "ours · whole client, in-memory transport (no I/O)", kind="core")
def client_memory(ctx: Context) -> dict[str, Any]:
    return _in_memory(ctx)


@job("ours-client-memory-hooks", "ours · whole client in memory, a hook on each event", kind="core")
def client_memory_hooks(ctx: Context) -> dict[str, Any]:
    if not hasattr(ours(), "Attempt"):
        raise Unavailable("poststack has no event hooks yet")
    seen: list[Any] = []
    hooks = {event: [seen.append] for event in ("request", "response", "retry", "error")}
    return _in_memory(ctx, event_hooks=hooks)


@job("ours-httpx-sync-hooks", "ours · httpx sync, a hook on each event", kind="send")
def httpx_sync_hooks(ctx: Context) -> dict[str, Any]:
    poststack = ours()
    if not hasattr(poststack, "Attempt"):
        raise Unavailable("poststack has no event hooks yet")
    seen: list[Any] = []
    hooks = {event: [seen.append] for event in ("request", "response", "retry", "error")}
    return _sync(ctx, _send, event_hooks=hooks)


@job("ours-httpx-sync-raw", "ours · httpx sync, with_raw_response", kind="send")
def httpx_sync_raw(ctx: Context) -> dict[str, Any]:
    if not hasattr(ours().PostStack, "with_raw_response"):
        raise Unavailable("poststack has no with_raw_response yet")

    def send(ps: Any) -> Any:
        return ps.with_raw_response.emails.send(PAYLOAD).parsed

    return _sync(ctx, send)


@job("ours-httpx-sync-otel", "ours · httpx sync, OpenTelemetry spans (SDK, no export)", kind="send")
def httpx_sync_otel(ctx: Context) -> dict[str, Any]:
    ours()
    instrumentation = need("poststack.contrib.opentelemetry")
    sdk = need("opentelemetry.sdk.trace")
    # A real SDK provider that records every span; with no processor nothing is exported,
    # so the figure is the instrumentation's (and the SDK's span objects'), not an exporter's.
    instrumentor = instrumentation.PostStackInstrumentor()
    instrumentor.instrument(tracer_provider=sdk.TracerProvider())
    try:
        return _sync(ctx, _send)
    finally:
        instrumentor.uninstrument()

"""Our SDK sending through each of its runtimes."""

from __future__ import annotations

from typing import Any

from ._measure import (
    API_KEY,
    PAYLOAD,
    Unavailable,
    need,
    ours,
    run_async_seq,
    run_asyncio_concurrent,
    run_sync,
    run_trio_concurrent,
)
from ._registry import Context, job


def _transport(module: str, cls: str) -> Any:
    mod = need(f"poststack.transports.{module}")
    if not hasattr(mod, cls):
        raise Unavailable(f"poststack.transports.{module} has no {cls}")
    return getattr(mod, cls)


def _sync(ctx: Context, module: str, cls: str) -> dict[str, Any]:
    poststack = ours()
    transport = _transport(module, cls)()
    ps = poststack.PostStack(api_key=API_KEY, base_url=ctx.url, transport=transport)
    try:
        with ps:
            return run_sync(lambda: ps.emails.send(PAYLOAD), ctx.n, ctx.warmup)
    finally:
        transport.close()  # a transport passed in stays the caller's to close


def _async_client(ctx: Context, module: str, cls: str) -> tuple[Any, Any]:
    poststack = ours()
    if not hasattr(poststack, "AsyncPostStack"):
        raise Unavailable("poststack has no AsyncPostStack yet")
    transport = _transport(module, cls)()
    return poststack.AsyncPostStack(api_key=API_KEY, base_url=ctx.url, transport=transport), (
        transport
    )


def _httpx_async(ctx: Context, *, concurrent: bool) -> dict[str, Any]:
    import asyncio

    ps, transport = _async_client(ctx, "httpx", "AsyncHttpxTransport")

    async def main() -> dict[str, Any]:
        try:
            async with ps:
                runner = run_asyncio_concurrent if concurrent else run_async_seq
                return await runner(lambda: ps.emails.send(PAYLOAD), ctx.n, ctx.warmup)
        finally:
            await transport.aclose()

    return asyncio.run(main())


def _trio(ctx: Context, *, concurrent: bool) -> dict[str, Any]:
    trio = need("trio")
    need("h11")
    ps, transport = _async_client(ctx, "trio", "TrioTransport")

    async def main() -> dict[str, Any]:
        try:
            async with ps:
                runner = run_trio_concurrent if concurrent else run_async_seq
                return await runner(lambda: ps.emails.send(PAYLOAD), ctx.n, ctx.warmup)
        finally:
            await transport.aclose()

    return trio.run(main)


@job("ours-httpx-sync", "ours · httpx sync", kind="send")
def httpx_sync(ctx: Context) -> dict[str, Any]:
    return _sync(ctx, "httpx", "HttpxTransport")


@job("ours-requests", "ours · requests", kind="send")
def requests_sync(ctx: Context) -> dict[str, Any]:
    need("requests")
    return _sync(ctx, "requests", "RequestsTransport")


@job("ours-httpx-async-seq", "ours · httpx async (asyncio), sequential", kind="send")
def httpx_async_seq(ctx: Context) -> dict[str, Any]:
    return _httpx_async(ctx, concurrent=False)


@job("ours-httpx-async-64", "ours · httpx async (asyncio), 64 tasks", kind="send64")
def httpx_async_64(ctx: Context) -> dict[str, Any]:
    return _httpx_async(ctx, concurrent=True)


@job("ours-trio-seq", "ours · trio + h11, sequential", kind="send")
def trio_seq(ctx: Context) -> dict[str, Any]:
    return _trio(ctx, concurrent=False)


@job("ours-trio-64", "ours · trio + h11, 64 tasks", kind="send64")
def trio_64(ctx: Context) -> dict[str, Any]:
    return _trio(ctx, concurrent=True)

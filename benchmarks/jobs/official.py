"""The official SDK (poststack==0.9.0), run in its own virtual environment."""

from __future__ import annotations

from typing import Any

from ._measure import API_KEY, PAYLOAD, official, run_async_seq, run_asyncio_concurrent, run_sync
from ._registry import Context, job


def _async(ctx: Context, *, concurrent: bool) -> dict[str, Any]:
    import asyncio

    poststack = official()

    async def main() -> dict[str, Any]:
        async with poststack.AsyncPostStack(api_key=API_KEY, base_url=ctx.url) as ps:
            runner = run_asyncio_concurrent if concurrent else run_async_seq
            return await runner(lambda: ps.emails.send(PAYLOAD), ctx.n, ctx.warmup)

    return asyncio.run(main())


@job("official-sync", "official 0.9.0 · sync (httpx)", kind="send", env="official")
def sync(ctx: Context) -> dict[str, Any]:
    poststack = official()
    with poststack.PostStack(api_key=API_KEY, base_url=ctx.url) as ps:
        return run_sync(lambda: ps.emails.send(PAYLOAD), ctx.n, ctx.warmup)


@job(
    "official-async-seq",
    "official 0.9.0 · async (httpx), sequential",
    kind="send",
    env="official",
)
def async_seq(ctx: Context) -> dict[str, Any]:
    return _async(ctx, concurrent=False)


@job(
    "official-async-64",
    "official 0.9.0 · async (httpx), 64 tasks",
    kind="send64",
    env="official",
)
def async_64(ctx: Context) -> dict[str, Any]:
    return _async(ctx, concurrent=True)

"""Which event loop is running, asked without importing one that is not already loaded."""

from __future__ import annotations

import sys


def running_under_trio() -> bool:
    """True inside ``trio.run``; False under asyncio (or with trio not even imported)."""
    trio = sys.modules.get("trio")
    if trio is None:
        return False
    try:
        trio.lowlevel.current_task()
    except RuntimeError:
        return False
    return True


async def sleep(seconds: float) -> None:
    """Sleep in whichever loop runs this: trio's sleep under trio, asyncio's otherwise."""
    if running_under_trio():
        import trio

        await trio.sleep(seconds)
    else:
        import asyncio

        await asyncio.sleep(seconds)

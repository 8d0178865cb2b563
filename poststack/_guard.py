"""The warning a blocking call gives when it is made inside a running event loop.

A ``PostStack`` call blocks its thread until the API answers. Inside an
``async def`` (a FastAPI route, a trio task) that thread runs the event loop,
and every other task waits with it. The first such call of the process warns
once, with :class:`EventLoopBlockingWarning`, naming the way out; silence it
as any warning::

    warnings.filterwarnings("ignore", category=poststack.EventLoopBlockingWarning)

"Inside" means inside a task: a coroutine that the loop is running right
now. A loop can also be marked running in a thread while none of its tasks
is (Playwright's sync API keeps one that way between its calls, so that
blocking code runs beside it): nothing waits on that loop, and no warning
is given.

The check costs a flag test once it has warned, and before that a lookup
of asyncio's running loop and of the library sniffio says runs this thread
(when they are imported): no exception, no import.
"""

from __future__ import annotations

import os
import sys
import warnings

from .transports._runtime import imported


class EventLoopBlockingWarning(RuntimeWarning):
    """A blocking ``PostStack`` call was made inside a running event loop, which it blocks."""


_warned = False
_PACKAGE = os.path.dirname(os.path.realpath(__file__)) + os.sep


def _running_loop() -> str | None:
    """``"asyncio"`` or ``"trio"`` when this thread is in a task of that event loop, else None."""
    # Neither imported, neither running: a blocking program pays two dict lookups. A
    # module another thread is still importing has no attributes yet (see imported()).
    running_loop = imported("asyncio", "_get_running_loop")
    if running_loop is not None:
        loop = running_loop()
        if loop is not None and sys.modules["asyncio"].current_task(loop) is not None:
            return "asyncio"
    # trio names itself in sniffio's thread-local while it runs this thread (trio depends
    # on sniffio). That attribute read comes first because trio's own test raises and
    # catches an AttributeError inside, about 1 µs, whenever trio is imported but not running.
    thread_local = imported("sniffio", "thread_local")
    if thread_local is not None and thread_local.name == "trio":
        lowlevel = imported("trio", "lowlevel")
        if lowlevel is not None and lowlevel.in_trio_task():
            return "trio"
    return None


def check_not_in_event_loop(what: str) -> None:
    """Warn once per process when ``what`` (``"emails.send"``) blocks a running event loop."""
    global _warned
    if _warned or (loop := _running_loop()) is None:
        return
    _warned = True
    offload = (
        "await trio.to_thread.run_sync(...)" if loop == "trio" else "await asyncio.to_thread(...)"
    )
    warnings.warn(
        f"PostStack.{what}() blocks: it was called inside a running {loop} event loop, which "
        f"waits, with every task on it, until the API answers. In async code use "
        f"AsyncPostStack (await ps.{what}(...)), or run the blocking call in a thread "
        f"with {offload}. This warning is given once; silence it with warnings.filterwarnings("
        '"ignore", category=poststack.EventLoopBlockingWarning).',
        EventLoopBlockingWarning,
        stacklevel=_caller_level(),
    )


def _caller_level() -> int:
    """The ``stacklevel`` of the first frame outside poststack: the caller's own line."""
    frame = sys._getframe(1)  # pyright: ignore[reportPrivateUsage]
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level

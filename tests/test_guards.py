"""The two pitfalls the docs warn of, caught where they happen.

- A blocking ``PostStack`` call inside a running event loop warns once per
  process (EventLoopBlockingWarning), naming the method and the way out, at
  the caller's own line; it can be silenced like any warning.
- An ``AsyncPostStack`` call that is never awaited gets Python's warning with
  the method's full name.

Each case runs in a fresh interpreter (the warning is once per process) and
reports the warnings it caught as JSON; a real HTTP server on a loopback port
answers the calls.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.faultserver import FaultServer
from tests.installs import user_env

PRELUDE = """
import asyncio, gc, json, sys, warnings
import poststack
from poststack import AsyncPostStack, PostStack

caught = []
warnings.simplefilter("always")
warnings.showwarning = lambda message, category, filename, lineno, *rest: caught.append(
    {"category": category.__name__, "message": str(message), "lineno": lineno,
     "filename": filename}
)
ps = PostStack("sk_test_guard", sys.argv[1])
"""
REPORT = """
print(json.dumps(caught))
"""


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as fault_server:
        yield fault_server


def _warnings(server: FaultServer, body: str, tmp_path: Path, *args: str) -> list[dict[str, Any]]:
    program = tmp_path / "program.py"
    program.write_text(PRELUDE + body + REPORT, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(program), server.url, *args],
        capture_output=True,
        text=True,
        env=user_env(),
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    caught: list[dict[str, Any]] = json.loads(done.stdout.splitlines()[-1])
    for warning in caught:
        warning["line"] = _line(program, warning)
    return caught


def _line(program: Path, warning: dict[str, Any]) -> str:
    if warning["filename"] != str(program):
        return ""
    return program.read_text(encoding="utf-8").splitlines()[warning["lineno"] - 1].strip()


def test_a_blocking_call_in_an_asyncio_loop_warns_once_at_the_callers_line(
    server: FaultServer, tmp_path: Path
) -> None:
    body = """
async def main():
    ps.emails.get("em_1")  # the first call
    ps.emails.get("em_2")
    for _ in ps.emails.list_all():
        pass
    await asyncio.to_thread(ps.emails.get, "em_3")

asyncio.run(main())
asyncio.run(main())
"""
    (warning,) = _warnings(server, body, tmp_path)
    assert warning["category"] == "EventLoopBlockingWarning"
    assert warning["line"] == 'ps.emails.get("em_1")  # the first call'
    message = warning["message"]
    assert message.startswith("PostStack.emails.get() blocks: it was called inside a running ")
    assert "asyncio event loop" in message
    assert "use AsyncPostStack (await ps.emails.get(...))" in message
    assert "await asyncio.to_thread(...)" in message
    assert "category=poststack.EventLoopBlockingWarning" in message
    assert len(server.requests) == 8  # every call was still made


def test_a_walk_and_a_bulk_send_are_caught_too(server: FaultServer, tmp_path: Path) -> None:
    walk = """
async def main():
    for email in ps.emails.list_all():
        pass

asyncio.run(main())
"""
    (warning,) = _warnings(server, walk, tmp_path)
    assert warning["message"].startswith("PostStack.emails.list() blocks")
    assert warning["line"] == "for email in ps.emails.list_all():"
    bulk = """
async def main():
    ps.emails.send_many([{"from": "a@b.c", "to": ["d@e.f"]}], batch_size=1)

asyncio.run(main())
"""
    (warning,) = _warnings(server, bulk, tmp_path)
    assert warning["message"].startswith("PostStack.emails.send_many() blocks")


def test_under_trio_the_warning_names_trios_thread(server: FaultServer, tmp_path: Path) -> None:
    body = """
import trio

async def main():
    ps.with_raw_response.emails.get("em_1")
    await trio.to_thread.run_sync(ps.emails.get, "em_2")

trio.run(main)
"""
    (warning,) = _warnings(server, body, tmp_path)
    assert "running trio event loop" in warning["message"]
    assert "await trio.to_thread.run_sync(...)" in warning["message"]
    assert warning["line"] == 'ps.with_raw_response.emails.get("em_1")'


@pytest.mark.parametrize(
    "body",
    [
        # Blocking code outside any loop, and in a thread next to a running loop.
        'ps.emails.get("em_1")\n'
        "async def main():\n"
        '    await asyncio.to_thread(ps.emails.get, "em_2")\n'
        "asyncio.run(main())\n",
        # Silenced as any warning is.
        'warnings.filterwarnings("ignore", category=poststack.EventLoopBlockingWarning)\n'
        "async def main():\n"
        '    ps.emails.get("em_1")\n'
        "asyncio.run(main())\n",
        # The async client in the loop, as it should be.
        "async def main():\n"
        '    async with AsyncPostStack("sk_test_guard", sys.argv[1]) as aps:\n'
        '        await aps.emails.get("em_1")\n'
        "asyncio.run(main())\n",
        # Playwright's sync API marks its asyncio loop running in this thread between its
        # calls, with no task of it running: blocking code beside it blocks nothing.
        "from playwright.sync_api import sync_playwright\n"
        "with sync_playwright():\n"
        "    assert asyncio.get_running_loop().is_running()\n"
        '    ps.emails.get("em_1")\n',
    ],
    ids=["outside-a-loop", "silenced", "async-client", "playwright-sync-api"],
)
def test_no_warning_where_nothing_blocks_or_when_silenced(
    body: str, server: FaultServer, tmp_path: Path
) -> None:
    assert _warnings(server, body, tmp_path) == []
    assert server.requests


def test_an_async_call_never_awaited_names_the_method(server: FaultServer, tmp_path: Path) -> None:
    body = """
aps = AsyncPostStack("sk_test_guard", sys.argv[1])
forgotten = aps.emails.send({"from": "a@b.c", "to": ["d@e.f"]})
raw = aps.with_raw_response.domains.get(1)
del forgotten, raw
gc.collect()
"""
    caught = _warnings(server, body, tmp_path)
    assert [(w["category"], w["message"]) for w in caught] == [
        ("RuntimeWarning", "coroutine 'AsyncPostStack.emails.send' was never awaited"),
        (
            "RuntimeWarning",
            "coroutine 'AsyncPostStack.with_raw_response.domains.get' was never awaited",
        ),
    ]
    assert server.requests == []  # and nothing was sent


# A module is in sys.modules from the moment its import begins. Another thread that is
# still running the module's body leaves it there without its attributes: the checks that
# look modules up (the guard above, httpx or httpx2) must take it as not imported, never
# fail the call (a Celery worker's threads import on first use).
HALF_IMPORTED = """
import importlib, importlib.abc, importlib.machinery, threading
import httpx
from poststack.transports.httpx import HttpxTransport

name = sys.argv[2]
sys.modules.pop(name, None)
started, release = threading.Event(), threading.Event()


class Slow(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path, target=None):
        return importlib.machinery.ModuleSpec(fullname, self) if fullname == name else None

    def create_module(self, spec):
        return None

    def exec_module(self, module):  # the other thread, stopped inside the module's body
        started.set()
        release.wait(60)


sys.meta_path.insert(0, Slow())
threading.Thread(target=importlib.import_module, args=(name,), daemon=True).start()
assert started.wait(60)
assert name in sys.modules and not hasattr(sys.modules[name], "__all__")

ps.emails.get("em_1")
with PostStack("sk_test_guard", sys.argv[1], transport=HttpxTransport(httpx.Client())) as own:
    own.emails.get("em_2")
ps.emails.get("em_3")
release.set()
"""


@pytest.mark.parametrize("module", ["sniffio", "httpx2"])
def test_a_module_another_thread_is_still_importing_fails_no_call(
    module: str, server: FaultServer, tmp_path: Path
) -> None:
    assert _warnings(server, HALF_IMPORTED, tmp_path, module) == []
    assert [r.path for r in server.requests] == ["/emails/em_1", "/emails/em_2", "/emails/em_3"]

"""Fixtures of the web inbox's browser tests: Chromium, a sandbox, a client, a webhook receiver.

The browser is Debian's ``/usr/bin/chromium`` driven by Playwright for Python;
Playwright's own browser download is never used (the network is closed). One
browser serves all the browser tests; every test gets a fresh context (no cookies,
storage or cache shared between tests) and a fresh sandbox on its own port.

On a developer's machine without Playwright or Chromium these tests are not
collected; in CI (``CI=true``) they are, and fail loudly if either is missing.
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from poststack import PostStack
from poststack.testing import Sandbox

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Generous, because the machine running the tests may be busy; every wait ends as
# soon as its condition holds, so a passing run never waits this long.
TIMEOUT_MS = 20_000
WIDE = {"width": 1440, "height": 900}
NARROW = {"width": 375, "height": 812}

_available = importlib.util.find_spec("playwright") is not None and Path(CHROMIUM).exists()
if not _available and not os.environ.get("CI"):
    collect_ignore_glob = ["test_*.py"]


# Package-scoped, not session-scoped: Playwright's sync API keeps an asyncio loop
# running in the main thread while it is open, which would make every later
# test's asyncio.run() fail.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(api_key="sk_test_inbox") as sb:
        yield sb


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[PostStack]:
    with PostStack(api_key=sandbox.api_key, base_url=sandbox.base_url) as ps:
        yield ps


@dataclass
class PageErrors:
    """What went wrong in the inbox page itself; any of it fails the test.

    Uncaught exceptions in its scripts, and errors on its console (a refused
    request, a Content-Security-Policy violation by the page's own markup).
    The console of an email's preview frame is not the page's: an email's
    script or remote image being refused there is the point of the preview.
    """

    errors: list[str] = field(default_factory=list[str])

    def console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and "/_sandbox/messages/" not in message.location["url"]:
            self.errors.append(f"console: {message.text} ({message.location['url']})")


def _open(browser: Browser, sandbox: Sandbox, viewport: dict[str, int]) -> Iterator[Page]:
    context = browser.new_context(viewport=viewport, accept_downloads=True)  # type: ignore[arg-type]
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors = PageErrors()
    page.on("pageerror", lambda error: errors.errors.append(f"uncaught: {error}"))
    page.on("console", errors.console)
    page.goto(sandbox.base_url + "/")
    try:
        yield page
    finally:
        context.close()
    assert errors.errors == [], f"the inbox page had errors: {errors.errors}"


@pytest.fixture
def page(browser: Browser, sandbox: Sandbox) -> Iterator[Page]:
    """The inbox at 1440 px wide, open on the sandbox's own origin."""
    yield from _open(browser, sandbox, WIDE)


@pytest.fixture
def phone(browser: Browser, sandbox: Sandbox) -> Iterator[Page]:
    """The inbox at 375 px wide."""
    yield from _open(browser, sandbox, NARROW)


@dataclass(frozen=True)
class Hook:
    """One webhook POST the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """A webhook receiver on a loopback port: records every POST, answers 200."""

    def __init__(self) -> None:
        self.hooks: list[Hook] = []
        self.gets: list[str] = []  # any other request: remote content an email tried to load
        self._changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver._changed:
                    receiver.hooks.append(Hook(self.path, headers, body))
                    receiver._changed.notify_all()
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                with receiver._changed:
                    receiver.gets.append(self.path)
                    receiver._changed.notify_all()
                self.send_response(200)
                self.send_header("content-type", "image/gif")
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.url = self.base_url + "/hooks/poststack"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def wait_for(self, n: int, timeout: float = TIMEOUT_MS / 1000) -> list[Hook]:
        """Block until ``n`` webhook POSTs arrived; return them all."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.hooks) >= n, timeout):
                raise TimeoutError(f"expected {n} webhook POSTs, got {len(self.hooks)}")
            return list(self.hooks)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hooks = Receiver()
    try:
        yield hooks
    finally:
        hooks.close()

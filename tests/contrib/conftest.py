"""Shared fixtures of the framework integration tests."""

from __future__ import annotations

import importlib.util
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from poststack.testing import Sandbox

ROOT = Path(__file__).resolve().parents[2]
_BLOCK = re.compile(r"```python\n(.*?)```", re.S)


# A test module whose framework is missing is skipped on a developer's machine;
# in CI (CI=true) it is collected anyway and fails on the import.
_FRAMEWORKS = {
    "test_django.py": "django",
    "test_django_options.py": "django",
    "test_django_webhooks.py": "django",
    "test_flask.py": "flask",
    "test_starlette.py": "starlette",
    "test_fastapi.py": "fastapi",
    "test_celery.py": "celery",
    "test_rq.py": "rq",
    "test_dramatiq.py": "dramatiq",
    "test_opentelemetry.py": "opentelemetry",
}
# A test module whose library is tested in a nox session of its own (noxfile.py's
# OWN_SESSION) is skipped wherever the library is missing, in CI too; in its own
# session (which names it in POSTSTACK_TEST_EXTRA) a missing library fails the run.
_OWN_SESSION = {"test_arq.py": "arq"}
collect_ignore = [
    test
    for test, module in _FRAMEWORKS.items()
    if not os.environ.get("CI") and importlib.util.find_spec(module) is None
] + [
    test
    for test, module in _OWN_SESSION.items()
    if os.environ.get("POSTSTACK_TEST_EXTRA") != module and importlib.util.find_spec(module) is None
]


def doc_blocks(name: str) -> list[str]:
    """The ```python blocks of docs/<name>.md, in order."""
    return _BLOCK.findall((ROOT / "docs" / f"{name}.md").read_text())


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(api_key="sk_test_contrib") as sandbox:
        yield sandbox


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``predicate`` until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


@contextmanager
def serve_asgi(app: Any) -> Iterator[str]:
    """Run an ASGI app with uvicorn in a thread on a free loopback port; yield its URL."""
    import uvicorn

    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, http="h11", ws="none", lifespan="on", log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started or not thread.is_alive(), 30, "uvicorn to start")
        if not server.started:
            raise RuntimeError("uvicorn did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()

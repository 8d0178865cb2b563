"""The web inbox's snippets in README.md and docs/sandbox.md run as written.

- ``poststack sandbox`` (both files) starts a sandbox whose root is the inbox; the
  test adds ``--port 0`` because 8025 may be taken on a shared machine.
- The Python snippet of docs/sandbox.md's inbox section runs.
- ``python docs/screenshots.py`` writes the screenshots the docs show (here
  into a temporary folder, with ``--out``).
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from poststack import PostStack

from .conftest import TIMEOUT_MS

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).with_name("poststack.exe" if os.name == "nt" else "poststack")
CONSOLE = re.compile(r"```console\n(.*?)```", re.S)
PYTHON = re.compile(r"```python\n(.*?)```", re.S)
IMAGE = re.compile(r'(?:!\[[^\]]*\]\(|<img src=")([^)"]+\.png)')


def section(path: Path, heading: str) -> str:
    """The text of one section of a Markdown file, up to the next heading of its level."""
    text = path.read_text(encoding="utf-8")
    level = heading.split(" ", 1)[0]
    match = re.search(rf"^{re.escape(heading)}\n(.*?)(?=^{level} |\Z)", text, re.S | re.M)
    assert match, f"{path.name} has no {heading!r} section"
    return match[1]


def commands(text: str) -> list[list[str]]:
    return [shlex.split(block.replace("\\\n", " ")) for block in CONSOLE.findall(text)]


README_INBOX = section(ROOT / "README.md", "## See your email")
DOCS_INBOX = section(ROOT / "docs" / "sandbox.md", "## The web inbox")


@contextlib.contextmanager
def running(argv: list[str]) -> Iterator[tuple[str, str]]:
    """Run ``poststack sandbox ...``; yield its base URL and key, then stop it with SIGTERM."""
    program = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "poststack"]
    process = subprocess.Popen(
        [*program, *argv[1:], "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    stdout = process.stdout
    threading.Thread(target=lambda: [lines.put(line) for line in stdout], daemon=True).start()
    try:
        url = key = None
        while url is None or key is None:
            line = lines.get(timeout=TIMEOUT_MS / 1000)
            url = url or _first(r"(http://127\.0\.0\.1:\d+)", line)
            key = key or _first(r"(sk_test_\w+)", line)
        yield url, key
    finally:
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=TIMEOUT_MS / 1000)
    assert process.returncode == 0, errors
    assert "Traceback" not in errors


def _first(pattern: str, text: str) -> str | None:
    match = re.search(pattern, text)
    return match[1] if match else None


@pytest.mark.parametrize(
    "argv",
    [commands(README_INBOX)[0], commands(DOCS_INBOX)[0]],
    ids=["README.md", "docs/sandbox.md"],
)
def test_poststack_sandbox_serves_the_inbox(browser: Browser, argv: list[str]) -> None:
    assert argv == ["poststack", "sandbox"]
    with running(argv) as (base_url, key):
        page = browser.new_page()
        try:
            page.goto(base_url + "/")
            expect(page.locator("#live")).to_have_attribute("data-state", "live")
            with PostStack(api_key=key, base_url=base_url) as ps:
                ps.emails.send(
                    {
                        "from": "hello@example.com",
                        "to": ["ada@example.com"],
                        "subject": "From the command line",
                        "text": "hi",
                    }
                )
            expect(page.locator("#messages .row")).to_contain_text(["From the command line"])
        finally:
            page.close()


def test_the_docs_python_snippet_runs(capsys: pytest.CaptureFixture[str]) -> None:
    (snippet,) = PYTHON.findall(DOCS_INBOX)
    exec(compile(snippet, "docs/sandbox.md", "exec"), {"__name__": "docs_sandbox"})
    assert re.fullmatch(r"The inbox is at http://127\.0\.0\.1:\d+/\n", capsys.readouterr().out)


def test_the_screenshot_script_writes_the_pictures_the_docs_show(tmp_path: Path) -> None:
    argv = commands(DOCS_INBOX)[-1]
    assert argv == ["python", "docs/screenshots.py"]
    done = subprocess.run(
        [sys.executable, argv[1], "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    written = sorted(path.name for path in tmp_path.iterdir())
    shown = {Path(src).name for src in IMAGE.findall(README_INBOX + DOCS_INBOX)}
    committed = {path.name for path in (ROOT / "docs" / "img").glob("*.png")}
    assert shown <= set(written)
    assert shown <= committed
    for name in written:
        width, _ = png_size(tmp_path / name)
        assert width == (1440 if "1440" in name else 375), name


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")

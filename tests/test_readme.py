"""The README's quick start works as written, on a fresh machine.

Its two commands: the first makes a virtual environment, installs the project
and sends an email with ``poststack send --sandbox`` (no API key: the embedded
sandbox answers); the second runs the tests, and is what ``.ci/run`` calls.
The first runs here for real, in a clean copy of the tree with a new venv;
the second runs in CI (running it here would run this test again). The
README's Python blocks run in tests/test_docs.py.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.installs import ROOT, clean_copy, scripts, user_env

README = ROOT / "README.md"
CONSOLE_BLOCK = re.compile(r"```console\n(.*?)```", re.S)


def quick_start_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = re.search(r"^## Quick start\n(.*?)(?=^## )", text, re.S | re.M)
    assert section, "README.md has no '## Quick start' section"
    return [block.replace("\\\n", " ").strip() for block in CONSOLE_BLOCK.findall(section[1])]


def main_command() -> str:
    (first, *_) = quick_start_blocks()
    return first


def test_test_command() -> None:
    blocks = quick_start_blocks()
    assert len(blocks) == 2, "the quick start is two commands: the main job, then the tests"
    assert blocks[1] == "python3 -m venv .venv && .venv/bin/pip install nox && .venv/bin/nox"


def steps(command: str) -> list[list[str]]:
    return [shlex.split(step) for step in command.split("&&")]


def test_the_main_command_makes_a_venv_installs_and_sends_through_the_sandbox() -> None:
    venv, install, send = steps(main_command())
    assert venv == ["python3", "-m", "venv", ".venv"]
    assert install == [".venv/bin/pip", "install", "."]
    assert send[:3] == [".venv/bin/poststack", "send", "--sandbox"]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert quick_start_blocks()[1] in ci


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def check_sent(stdout: str, argv: list[str]) -> None:
    """What ``poststack send --sandbox`` prints: the id, then what the sandbox received."""
    first_line, summary = stdout.split("\n", 1)
    assert re.fullmatch(r"em_[0-9A-Za-z]+", first_line), stdout
    assert option(argv, "--to") in summary
    assert option(argv, "--subject") in summary
    assert "Idempotency-Key:" in summary


def test_the_send_command_works_with_the_installed_package() -> None:
    """The last step alone, with the console script this test run installed (fast)."""
    *_, argv = steps(main_command())
    script = Path(sys.executable).with_name("poststack.exe" if os.name == "nt" else "poststack")
    program = [str(script)] if script.exists() else [sys.executable, "-m", "poststack"]
    done = subprocess.run(
        [*program, *argv[1:]],
        capture_output=True,
        text=True,
        env=user_env(),
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    check_sent(done.stdout, argv)


@pytest.mark.skipif(os.name == "nt", reason="the README's commands are POSIX shell")
def test_the_main_command_as_written_in_a_clean_clone(tmp_path: Path) -> None:
    """The whole first command, pasted into a shell in a fresh clone, no API key set.

    ``python3`` is this test run's interpreter (a wrapper first on PATH), so the
    command is checked on every Python the tests run on.
    """
    clone = clean_copy(tmp_path / "clone")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "python3"
    wrapper.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} "$@"\n')
    wrapper.chmod(0o755)
    path = os.pathsep.join([str(bin_dir), "/usr/bin", "/bin"])
    done = subprocess.run(
        ["/bin/sh", "-c", main_command()],
        capture_output=True,
        text=True,
        env=user_env(PATH=path),
        cwd=clone,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    *_, argv = steps(main_command())
    # pip's own output comes first; the send's starts at the line with the id.
    first = re.search(r"^em_[0-9A-Za-z]+$", done.stdout, re.M)
    assert first, done.stdout[-3000:]
    check_sent(done.stdout[first.start() :], argv)
    version = subprocess.run(
        [str(scripts(clone / ".venv") / "python"), "-c", "import sys; print(sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.strip() == str(sys.version_info[:2])

"""The README's quick start works as written: its ``poststack send --sandbox`` command.

The command runs as a subprocess with no API key in the environment, exactly
as a user pastes it after ``pip install .`` (which the test does not run: the
project is installed already).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SCRIPT = Path(sys.executable).with_name("poststack.exe" if os.name == "nt" else "poststack")
CONSOLE_BLOCK = re.compile(r"```console\n(.*?)```", re.S)


def quick_start_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = re.search(r"^## Quick start\n(.*?)(?=^## )", text, re.S | re.M)
    assert section, "README.md has no '## Quick start' section"
    return [block.replace("\\\n", " ").strip() for block in CONSOLE_BLOCK.findall(section[1])]


def send_command() -> list[str]:
    """The first console block, ``pip install . && poststack send --sandbox ...``, minus pip."""
    install, sep, command = quick_start_blocks()[0].partition("&&")
    assert sep, "the first quick-start command should be `pip install . && poststack ...`"
    assert shlex.split(install) == ["pip", "install", "."]
    argv = shlex.split(command)
    assert argv[:3] == ["poststack", "send", "--sandbox"], argv
    return argv


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_quick_start_sends_through_the_embedded_sandbox() -> None:
    argv = send_command()
    # The console script `pip install .` puts next to the interpreter, else the module.
    program = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "poststack"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTSTACK_")}
    done = subprocess.run(
        [*program, *argv[1:]],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    first_line, summary = done.stdout.split("\n", 1)
    assert re.fullmatch(r"em_[0-9A-Za-z]+", first_line), done.stdout
    assert option(argv, "--to") in summary
    assert option(argv, "--subject") in summary
    assert "Idempotency-Key:" in summary


def test_quick_start_then_runs_the_tests() -> None:
    blocks = quick_start_blocks()
    assert len(blocks) >= 2
    assert "nox" in blocks[1]


def test_the_readme_sandbox_snippet_runs() -> None:
    import re

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    blocks = [
        b for b in re.findall(r"```python\n(.*?)```", readme, re.S) if "with Sandbox() as sb" in b
    ]
    assert len(blocks) == 1
    exec(compile(blocks[0], "README.md", "exec"), {})

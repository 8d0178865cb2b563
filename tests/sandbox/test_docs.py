"""docs/sandbox.md as a reader uses it: every Python block runs, and its tables match the code."""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from poststack import PostStack
from poststack.cli import build_parser
from poststack.testing import TEST_RECIPIENTS, Sandbox
from tests.contrib.conftest import doc_blocks

PAGE = Path(__file__).resolve().parents[2] / "docs" / "sandbox.md"
TEXT = PAGE.read_text(encoding="utf-8")


def _run(args: list[str], cwd: Path, sb: Sandbox) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTSTACK_")}
    env.update(POSTSTACK_API_KEY=sb.api_key, POSTSTACK_BASE_URL=sb.base_url)
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
        check=False,
    )


def test_docs(tmp_path: Path) -> None:
    blocks = doc_blocks("sandbox")
    assert len(blocks) >= 7
    with Sandbox() as sb:
        for index, block in enumerate(blocks):
            if "def test_" in block:  # a test file: pytest with the installed plugin
                path = tmp_path / f"test_block_{index}.py"
                path.write_text(block, encoding="utf-8")
                done = _run(
                    [
                        "-m",
                        "pytest",
                        "-q",
                        "-p",
                        "no:cacheprovider",
                        "--rootdir",
                        str(tmp_path),
                        str(path),
                    ],
                    tmp_path,
                    sb,
                )
                assert " passed" in done.stdout.splitlines()[-1], done.stdout + done.stderr
            else:
                done = _run(["-c", block], tmp_path, sb)
            assert done.returncode == 0, f"block {index + 1}:\n{block}\n{done.stdout}{done.stderr}"


def _table_rows(heading: str) -> list[list[str]]:
    section = TEXT.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|") and "---" not in line]
    return [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows[1:]]


def _sandbox_command() -> argparse.ArgumentParser:
    parser = build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    sandbox: argparse.ArgumentParser = commands.choices["sandbox"]
    return sandbox


def test_the_flag_table_is_the_cli() -> None:
    documented = set()
    for row in _table_rows("Run it"):
        flag = re.match(r"`(--[a-z-]+)", row[0])
        assert flag, row
        documented.add(flag[1])
    flags = {
        option
        for action in _sandbox_command()._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help"
    }
    assert documented == flags


def test_the_recipient_table_is_the_lifecycle() -> None:
    rows = [row for row in _table_rows("The email lifecycle") if "@…" in row[0]]
    documented = {}
    for row in rows:
        local = re.match(r"`([a-z-]+)@…`", row[0])
        assert local, row
        documented[local[1]] = row
    assert set(documented) == set(TEST_RECIPIENTS)
    with Sandbox() as sb, PostStack(api_key=sb.api_key, base_url=sb.base_url) as ps:
        for local, (_, events, status) in documented.items():
            email_id = ps.emails.send(
                {
                    "from": "a@example.com",
                    "to": [f"{local}@example.org"],
                    "subject": "S",
                    "text": "T",
                }
            )["id"]
            sb.advance(3600)
            expected = [e.strip() for e in re.sub(r"\(.*?\)", "", events).split(",")]
            email = sb.email(email_id)
            assert [e.type for e in email.events] == expected, local
            assert email.status == status, local


def test_the_compose_command_is_a_valid_invocation() -> None:
    (compose,) = re.findall(r"```yaml\n(.*?)```", TEXT, re.S)
    command = " ".join(compose.split("command: >", 1)[1].split("ports:", 1)[0].split())
    invocation = command.split("&&", 1)[1].strip().rstrip('"')
    argv = shlex.split(invocation)
    assert argv[:2] == ["poststack", "sandbox"]
    args: Any = build_parser().parse_args(argv[1:])
    assert (args.host, args.allow_remote, args.db, args.port) == (
        "0.0.0.0",
        ["sandbox"],
        "/data/sandbox.db",
        8025,
    )
    assert "POSTSTACK_BASE_URL: http://sandbox:8025" in compose
    assert "POSTSTACK_ALLOW_INSECURE_HTTP" in compose
    assert "sk_test_" in compose  # never a live key over plain http
    # What the compose service's sandbox answers: the name "sandbox", and loopback on its port.
    with Sandbox(allow_remote=args.allow_remote) as sb:
        import httpx

        for host in (f"sandbox:{sb.port}", f"localhost:{sb.port}"):
            assert (
                httpx.get(f"{sb.base_url}/_sandbox/clock", headers={"Host": host}).status_code
                == 200
            )
        assert (
            httpx.get(f"{sb.base_url}/_sandbox/clock", headers={"Host": "app:8025"}).status_code
            == 403
        )


@pytest.mark.parametrize(
    "phrase", ["at most 32\n  worker threads", "after 60 s", "512\n  connections"]
)
def test_documented_bounds_are_the_defaults(phrase: str) -> None:
    from poststack.testing._server import HTTPServer

    assert phrase in TEXT
    defaults = HTTPServer.__init__.__kwdefaults__
    assert defaults == {
        "workers": 32,
        "max_connections": 512,
        "max_streams": 32,
        "idle_timeout": 60.0,
        "request_timeout": 30.0,
    }

"""docs/bulk.md's command lines run as written, in order, against a sandbox.

The page's Python blocks run in tests/test_docs.py; its ``console`` blocks
(``$ poststack send-many ...``) run here, in one working directory, after the
block that writes the files they read.
"""

from __future__ import annotations

import csv
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

from poststack.testing import Sandbox
from tests.docs_snippets import ROOT, snippets
from tests.installs import user_env

PAGE = ROOT / "docs" / "bulk.md"
CONSOLE = re.compile(r"```console\n(.*?)```", re.S)


def commands() -> list[list[str]]:
    found = []
    for block in CONSOLE.findall(PAGE.read_text(encoding="utf-8")):
        line = block.replace("\\\n", " ").strip()
        assert line.startswith("$ poststack send-many "), line
        found.append(shlex.split(line[2:]))
    return found


def test_the_pages_command_lines(tmp_path: Path) -> None:
    (files,) = [s for s in snippets(PAGE) if "subscribers.csv" in s.code]
    subprocess.run([sys.executable, "-c", files.code], cwd=tmp_path, check=True, timeout=60)
    dry_run, send, again = commands()
    assert "--dry-run" in dry_run
    with Sandbox() as sb:
        env = user_env(POSTSTACK_API_KEY=sb.api_key, POSTSTACK_BASE_URL=sb.base_url)

        def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
            assert argv[0] == "poststack"
            return subprocess.run(
                [sys.executable, "-m", "poststack", *argv[1:]],
                cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
            )  # fmt: skip

        checked = run(dry_run)
        assert checked.returncode == 0, checked.stderr
        assert "2000 row(s) checked" in checked.stdout
        assert "Thanks for being on pro." in checked.stdout
        assert sb.requests == []
        sent = run(send)
        assert sent.returncode == 0, sent.stderr
        assert len(sb.outbox) == 2000
        with (tmp_path / "results.csv").open(newline="") as results:
            assert {line["status"] for line in csv.DictReader(results)} == {"sent"}
        before = len(sb.requests)
        rerun = run(again)
        assert rerun.returncode == 0, rerun.stderr
        summary = json.loads(rerun.stdout.splitlines()[-1])
        assert (summary["sent"], summary["already_sent"], summary["requests"]) == (2000, 2000, 0)
        assert len(sb.requests) == before
        assert len(sb.outbox) == 2000

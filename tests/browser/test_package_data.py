"""The web inbox's files ship in the distribution."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UI = ROOT / "poststack" / "testing" / "ui"


def test_every_inbox_file_is_package_data() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    line = re.search(r'^"poststack\.testing" = \[(.*)\]$', pyproject, re.M)
    assert line is not None, "pyproject.toml lists no package data for poststack.testing"
    patterns = re.findall(r'"([^"]+)"', line.group(1))
    files = sorted(path.relative_to(UI.parent).as_posix() for path in UI.iterdir())
    assert "ui/index.html" in files
    missed = [name for name in files if not any(fnmatch.fnmatch(name, p) for p in patterns)]
    assert missed == []

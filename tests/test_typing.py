"""The typing pins in tests/typing hold under both checkers (they are dev dependencies).

Each ``# type: ignore[...]`` there asserts an error: mypy --strict reports an
unused ignore, and the file switches on pyright's
reportUnnecessaryTypeIgnoreComment, so a mistake that stops being caught fails.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECKS = {
    "mypy": ["-m", "mypy", "--strict", "--python-version", "3.10", "tests/typing"],
    "pyright": ["-m", "pyright", "--pythonversion", "3.10", "tests/typing"],
}


@pytest.mark.timeout(300)
@pytest.mark.parametrize("tool", sorted(CHECKS))
def test_typing_pins_hold(tool: str) -> None:
    done = subprocess.run(
        [sys.executable, *CHECKS[tool]], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr

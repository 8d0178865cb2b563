"""Shared fixtures of the framework integration tests."""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from poststack.testing import Sandbox

ROOT = Path(__file__).resolve().parents[2]
_BLOCK = re.compile(r"```python\n(.*?)```", re.S)


# A test module whose framework is missing is skipped on a developer's machine;
# in CI (CI=true) it is collected anyway and fails on the import.
_FRAMEWORKS = {
    "test_django.py": "django",
    "test_flask.py": "flask",
    "test_starlette.py": "starlette",
    "test_fastapi.py": "fastapi",
    "test_celery.py": "celery",
}
collect_ignore = [
    test
    for test, module in _FRAMEWORKS.items()
    if not os.environ.get("CI") and importlib.util.find_spec(module) is None
]


def doc_blocks(name: str) -> list[str]:
    """The ```python blocks of docs/<name>.md, in order."""
    return _BLOCK.findall((ROOT / "docs" / f"{name}.md").read_text())


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(api_key="sk_test_contrib") as sandbox:
        yield sandbox

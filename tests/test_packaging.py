"""The distribution ships every package of the source tree."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_is_listed_in_pyproject() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    block = re.search(r"^packages = \[(.*?)\]", pyproject, re.S | re.M)
    assert block is not None
    listed = set(re.findall(r'"([\w.]+)"', block.group(1)))
    found = set()
    for top in ("poststack", "poststack_core"):
        for init in (ROOT / top).rglob("__init__.py"):
            parts = init.parent.relative_to(ROOT).parts
            if parts[:2] == ("poststack", "transports"):
                continue  # the symlink to transports/, mapped by package-dir
            found.add(".".join(parts))
    for init in (ROOT / "transports").rglob("__init__.py"):
        found.add(".".join(("poststack", *init.parent.relative_to(ROOT).parts)))
    assert found == listed
    assert 'package-dir = { "poststack.transports" = "transports" }' in pyproject


def test_typed_markers_exist() -> None:
    for folder in ("poststack", "poststack_core", "transports"):
        assert (ROOT / folder / "py.typed").is_file()

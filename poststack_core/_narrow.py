"""Narrowing decoded JSON (typed ``object``) to the shapes the core reads."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast


def as_mapping(value: object) -> Mapping[str, Any] | None:
    """``value`` as a mapping with str keys (what JSON objects decode to), else None."""
    # dict first: JSON objects are dicts, and isinstance() against the Mapping ABC runs
    # Python code, which a match earlier in the tuple skips.
    if isinstance(value, (dict, Mapping)):
        return cast("Mapping[str, Any]", value)
    return None


def as_list(value: object) -> list[Any] | None:
    """``value`` if it is a list, else None."""
    if isinstance(value, list):
        # mypy reads this as list[Any] already, pyright as list[Unknown].
        items: list[Any] = value  # pyright: ignore[reportUnknownVariableType]
        return items
    return None

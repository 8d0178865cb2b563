"""Narrowing decoded JSON (typed ``object``) to the shapes the core reads."""

from __future__ import annotations

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing at run time

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any


def as_mapping(value: object) -> Mapping[str, Any] | None:
    if not isinstance(value, dict):
        # Other mapping types are rare: collections.abc is imported only for them.
        from collections.abc import Mapping

        if not isinstance(value, Mapping):
            return None
    mapping: Mapping[str, Any] = value  # pyright: ignore[reportUnknownVariableType]
    return mapping  # pyright: ignore[reportUnknownVariableType]


def as_list(value: object) -> list[Any] | None:
    if isinstance(value, list):
        items: list[Any] = value  # pyright: ignore[reportUnknownVariableType]
        return items
    return None

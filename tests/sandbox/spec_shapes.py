"""What the spec promises a method answers, and a check of an answer against it.

The promise comes from the endpoint's own definition: its return annotation,
``Operation[SomeResponse]``, names a ``TypedDict`` of ``poststack_core.types``
(or ``str`` for text, ``bytes`` for bytes). :func:`check` walks an answer
against that type: every required key present, every present key of the
declared type, literals among their values, lists and dicts item by item.
"""

from __future__ import annotations

import importlib
import json
import re
import types
import typing
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

import poststack_core.types as core_types

SPEC_PATH = Path(__file__).resolve().parents[1] / "data" / "endpoints.json"
SPEC: list[dict[str, Any]] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
HTTP_METHODS = [entry for entry in SPEC if entry["kind"] == "http"]


def promised_type(entry: dict[str, Any]) -> Any:
    """The type ``entry``'s endpoint definition says it answers."""
    module = importlib.import_module(f"poststack_core.endpoints.{entry['resource']}")
    annotation = getattr(module, entry["method"]).__annotations__["return"]
    if not isinstance(annotation, str):
        (inner,) = get_args(annotation)
        return inner
    match = re.fullmatch(r"Operation\[(.+)\]", annotation)
    assert match, annotation
    name = match[1]
    if name in ("str", "bytes"):
        return {"str": str, "bytes": bytes}[name]
    if name.startswith("dict["):
        return dict[str, Any]
    return getattr(core_types, name)


def _is_typeddict(tp: Any) -> bool:
    return isinstance(tp, type) and typing.is_typeddict(tp)


def check(value: Any, tp: Any, path: str = "$") -> None:
    """Raise ``AssertionError`` naming the first place ``value`` does not fit ``tp``."""
    if tp is Any or tp is object:
        return
    origin = get_origin(tp)
    if _is_typeddict(tp):
        assert isinstance(value, dict), f"{path}: expected an object, got {value!r:.80}"
        missing = sorted(tp.__required_keys__ - set(value))
        assert not missing, f"{path}: missing {missing} (has {sorted(value)})"
        hints = get_type_hints(tp)
        for key, item in value.items():
            if key in hints:
                check(item, hints[key], f"{path}.{key}")
        return
    if origin in (Union, types.UnionType):
        errors = []
        for option in get_args(tp):
            try:
                check(value, option, path)
            except AssertionError as exc:
                errors.append(str(exc))
            else:
                return
        raise AssertionError(f"{path}: {value!r:.80} fits none of {tp}: {errors}")
    if origin is Literal:
        assert value in get_args(tp), f"{path}: {value!r} not one of {get_args(tp)}"
        return
    if origin is list:
        assert isinstance(value, list), f"{path}: expected a list, got {value!r:.80}"
        (item_type,) = get_args(tp) or (Any,)
        for index, item in enumerate(value):
            check(item, item_type, f"{path}[{index}]")
        return
    if origin is dict:
        assert isinstance(value, dict), f"{path}: expected an object, got {value!r:.80}"
        _, item_type = get_args(tp) or (str, Any)
        for key, item in value.items():
            check(item, item_type, f"{path}.{key}")
        return
    if tp is type(None):
        assert value is None, f"{path}: expected null, got {value!r:.80}"
    elif tp is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        assert ok, f"{path}: expected a number, got {value!r:.80}"
    elif tp is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        assert ok, f"{path}: expected an integer, got {value!r:.80}"
    elif tp in (str, bool, bytes):
        assert isinstance(value, tp), f"{path}: expected {tp.__name__}, got {value!r:.80}"
    else:  # pragma: no cover - a type the checker does not know yet
        raise AssertionError(f"{path}: cannot check against {tp!r}")

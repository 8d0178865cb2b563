"""``send-many``'s input: rows from CSV or JSON Lines, ``{{name}}`` templates, and row errors.

A row is a mapping of column names to text. Reading keeps each row's number
(1 for the first data row) and its line in the file, so every error can say
where it is: ``row 7 (line 8): ...``.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

from ._common import UsageError

Format = Literal["csv", "jsonl"]
FORMATS: dict[str, Format] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}

LIST_FIELDS = frozenset({"to", "cc", "bcc", "tags"})
"""Fields a JSON row may give as a list (a CSV cell separates them with commas)."""

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}")


@dataclass(frozen=True, slots=True)
class Row:
    """One email's row: its number (1-based, data rows only), its line, its values."""

    number: int
    line: int
    values: Mapping[str, str]

    @property
    def where(self) -> str:
        return f"row {self.number} (line {self.line})"


class RowError(Exception):
    """What is wrong with one row; ``main`` lists these with the row numbers."""


class Template:
    """Text with ``{{name}}`` placeholders, filled in from a row's variables.

    In HTML the values are escaped (a name with ``<`` or ``&`` stays text); a
    placeholder with no value is an error, never sent as ``{{name}}``.
    """

    __slots__ = ("_escape", "names", "text")

    def __init__(self, text: str, *, escape_html: bool = False) -> None:
        self.text = text
        self._escape = escape_html
        self.names = frozenset(_PLACEHOLDER.findall(text))

    def render(self, values: Mapping[str, str]) -> str:
        missing = sorted(self.names - values.keys())
        if missing:
            shown = ", ".join(f"{{{{{name}}}}}" for name in missing)
            raise RowError(f"{shown} has no value (no such column or --var)")

        def value(match: re.Match[str]) -> str:
            text = values[match[1]]
            return html.escape(text) if self._escape else text

        return _PLACEHOLDER.sub(value, self.text)


def input_format(path: str, given: Format | None) -> Format:
    """``--format``, else the file's extension (``.csv``, ``.jsonl``, ``.ndjson``)."""
    if given is not None:
        return given
    found = FORMATS.get(Path(path).suffix.lower())
    if found is None:
        raise UsageError(
            f"cannot tell the format of {path!r} from its name: pass --format csv or jsonl"
        )
    return found


def _text(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        # utf-8-sig: spreadsheets save CSV with a byte-order mark.
        return Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise UsageError(f"cannot read {path!r}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path!r} is not UTF-8 text: {exc.reason}") from None


def read_rows(path: str, kind: Format) -> tuple[list[Row], list[str]]:
    """Every row of the file, and the errors of rows that could not be read at all."""
    text = _text(path)
    return _csv_rows(text) if kind == "csv" else _jsonl_rows(text)


def _csv_rows(text: str) -> tuple[list[Row], list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        return [], []
    names = [name.strip() for name in header]
    if any(not name for name in names) or len(set(names)) != len(names):
        raise UsageError(f"the CSV header needs distinct, non-empty column names: {header!r}")
    rows: list[Row] = []
    errors: list[str] = []
    line = reader.line_num
    for fields in reader:
        first_line, line = line + 1, reader.line_num
        if not any(field.strip() for field in fields):
            continue  # a blank line
        row = Row(len(rows) + len(errors) + 1, first_line, dict(zip(names, fields, strict=False)))
        if len(fields) != len(names):
            errors.append(f"{row.where}: {len(fields)} fields, the header has {len(names)}")
            continue
        rows.append(row)
    return rows, errors


def _jsonl_rows(text: str) -> tuple[list[Row], list[str]]:
    rows: list[Row] = []
    errors: list[str] = []
    for line, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        number = len(rows) + len(errors) + 1
        where = f"row {number} (line {line})"
        try:
            value: object = json.loads(raw)
        except json.JSONDecodeError as exc:
            errors.append(f"{where}: not JSON ({exc.msg})")
            continue
        if not isinstance(value, dict):
            errors.append(f"{where}: a row must be a JSON object, got {type(value).__name__}")
            continue
        values: dict[str, str] = {}
        for key, item in cast("dict[str, object]", value).items():
            kind = type(item)
            if kind is dict or (kind is list and key not in LIST_FIELDS):
                errors.append(f"{where}: {key!r} must be text, a number or true/false")
                break
            values[key] = _cell(item)
        else:
            rows.append(Row(number, line, values))
    return rows, errors


def _cell(value: object) -> str:
    """A JSON value as the text a CSV cell would hold (lists joined with commas)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(_cell(item) for item in cast("list[object]", value))
    return str(value)

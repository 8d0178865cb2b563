"""Checking what a request sends: the spec's error model, field readers, addresses, times.

Every handler reads its input through :class:`Fields`, so the same mistake gets
the same answer everywhere (API §2):

- a missing required field, or a value of the wrong JSON type, is a 400
  ``invalid_request`` ("Missing required field: name", "'events' must be a list
  of strings");
- a value of the right type that the API cannot accept (an unknown region, a
  malformed address, a number out of range) is a 422 ``unprocessable_entity``;
- an unknown id is a 404 ``not_found``, a duplicate a 409 ``conflict``.

Unknown keys are ignored, as the real API ignores them.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parseaddr
from typing import Any, TypeVar, cast

__all__ = [
    "Address",
    "ApiError",
    "Fields",
    "JSONObject",
    "as_list",
    "as_object",
    "bad_request",
    "conflict",
    "forbidden",
    "isoformat",
    "not_found",
    "parse_address",
    "parse_timestamp",
    "unprocessable",
]

JSONObject = dict[str, Any]
_T = TypeVar("_T")

_ADDRESS_RE = re.compile(r"^[^@\s<>\"(),;:]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)$")


class ApiError(Exception):
    """Raised by handlers; the router turns it into the spec's error body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def bad_request(message: str) -> ApiError:
    return ApiError(400, "invalid_request", message)


def unprocessable(message: str) -> ApiError:
    return ApiError(422, "unprocessable_entity", message)


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


def conflict(message: str) -> ApiError:
    return ApiError(409, "conflict", message)


def forbidden(message: str) -> ApiError:
    return ApiError(403, "forbidden", message)


def as_object(value: object) -> JSONObject | None:
    """``value`` as a JSON object, or ``None`` if it is something else."""
    return cast(JSONObject, value) if isinstance(value, dict) else None


def as_list(value: object) -> list[Any] | None:
    """``value`` as a JSON array, or ``None`` if it is something else."""
    if isinstance(value, list):
        items: list[Any] = value  # pyright: ignore[reportUnknownVariableType]
        return items
    return None


# --- times ------------------------------------------------------------------------------


def isoformat(moment: datetime) -> str:
    """``2030-01-02T03:04:05.678Z``: UTC, milliseconds, a ``Z`` suffix (the API's format)."""
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


_FRACTION = re.compile(r"(T\d{2}:\d{2}:\d{2})[.,](\d+)", re.IGNORECASE)
_COMPACT_OFFSET = re.compile(r"(T[\d:.,]+[+-]\d{2})(\d{2})$", re.IGNORECASE)


def parse_timestamp(value: str) -> datetime | None:
    """Parse an ISO 8601 date or date-time; naive values are taken as UTC.

    Normalises what Python 3.10's ``fromisoformat`` rejects: a ``Z`` suffix,
    fractions of other than 3 or 6 digits, and ``+hhmm`` offsets.
    """
    text = value.strip()
    if not text or len(text) > 64:
        return None
    if text[-1] in "zZ":
        text = text[:-1] + "+00:00"
    text = _FRACTION.sub(lambda m: f"{m[1]}.{(m[2] + '000000')[:6]}", text)
    text = _COMPACT_OFFSET.sub(r"\1:\2", text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment


# --- addresses --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Address:
    """An email address as the API reads it: ``addr`` or ``Name <addr>``."""

    address: str
    name: str | None

    @property
    def domain(self) -> str:
        return self.address.rsplit("@", 1)[1].lower()

    @property
    def local_part(self) -> str:
        return self.address.rsplit("@", 1)[0]


def parse_address(value: str, field_name: str, where: str = "") -> Address:
    """Split ``Name <addr>``; a 422 names the field when it is not an address."""
    name, address = parseaddr(value)
    if not _ADDRESS_RE.match(address) or len(address) > 254:
        raise unprocessable(f"{where}Invalid email address in '{field_name}': {value!r}")
    return Address(address, name or None)


# --- field readers ----------------------------------------------------------------------


class Fields:
    """Typed, checked reads of one JSON object (a body, or one item of a list in it).

    ``where`` prefixes every message (``"emails[3]: "``) so a batch says which
    item was wrong. Readers return ``None`` for an absent key (or an explicit
    ``null``) unless the field is required.
    """

    __slots__ = ("data", "where")

    def __init__(self, data: JSONObject, where: str = "") -> None:
        self.data = data
        self.where = where

    def has(self, key: str) -> bool:
        """Whether the key is present (``null`` included: it can mean "clear this")."""
        return key in self.data

    def _value(self, key: str, required: bool) -> object:
        value = self.data.get(key)
        if required and (value is None or value == ""):
            raise bad_request(f"{self.where}Missing required field: {key}")
        return value

    def _typed(self, key: str, kind: type[_T] | tuple[type, ...], what: str, required: bool) -> Any:
        value = self._value(key, required)
        if value is None:
            return None
        # bool is an int in Python, never in JSON: keep the two apart.
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            raise bad_request(f"{self.where}'{key}' must be {what}")
        if not isinstance(value, kind):
            raise bad_request(f"{self.where}'{key}' must be {what}")
        return value

    def text(self, key: str, *, max_length: int | None = None) -> str | None:
        """An optional string (``None`` when absent or null)."""
        value: str | None = self._typed(key, str, "a string", False)
        if value is not None and max_length is not None and len(value) > max_length:
            raise unprocessable(f"{self.where}'{key}' is longer than {max_length} characters")
        return value

    def required_text(self, key: str, *, max_length: int | None = None) -> str:
        """A string that must be present and non-empty (400 otherwise)."""
        self._value(key, True)
        value = self.text(key, max_length=max_length)
        assert value is not None
        return value

    def flag(self, key: str, default: bool | None = None) -> bool | None:
        """An optional boolean."""
        value: bool | None = self._typed(key, bool, "a boolean", False)
        return default if value is None else value

    def integer(
        self,
        key: str,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
        required: bool = False,
    ) -> int | None:
        """An optional integer within bounds (422 outside them)."""
        value = self._value(key, required)
        if value is None:
            return None
        whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        if isinstance(value, bool) or not whole:
            raise bad_request(f"{self.where}'{key}' must be an integer")
        assert isinstance(value, int | float)
        number = int(value)
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            bounds = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
            raise unprocessable(f"{self.where}'{key}' must be {bounds}, got {number}")
        return number

    def number(self, key: str) -> float | None:
        """An optional number (integer or fraction)."""
        value = self._value(key, False)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad_request(f"{self.where}'{key}' must be a number")
        return float(value)

    def choice(
        self, key: str, options: Collection[str], *, default: str | None = None
    ) -> str | None:
        """An optional string from a closed set (422 for anything else)."""
        value = self.text(key)
        if value is None:
            return default
        if value not in options:
            allowed = ", ".join(sorted(options))
            raise unprocessable(f"{self.where}Unknown {key}: {value!r} (one of {allowed})")
        return value

    def required_choice(self, key: str, options: Collection[str]) -> str:
        self._value(key, True)
        value = self.choice(key, options)
        assert value is not None
        return value

    def strings(
        self,
        key: str,
        *,
        required: bool = False,
        non_empty: bool = False,
        max_items: int | None = None,
    ) -> list[str] | None:
        """An optional list of strings."""
        value = self._value(key, required)
        if value is None:
            return None
        items = as_list(value)
        if items is None or not all(isinstance(item, str) for item in items):
            raise bad_request(f"{self.where}'{key}' must be a list of strings")
        if (required or non_empty) and not items:
            raise bad_request(f"{self.where}'{key}' must not be empty")
        if max_items is not None and len(items) > max_items:
            raise unprocessable(
                f"{self.where}'{key}' holds at most {max_items} items, got {len(items)}"
            )
        return cast(list[str], items)

    def objects(
        self, key: str, *, required: bool = False, max_items: int | None = None
    ) -> list[JSONObject] | None:
        """An optional list of JSON objects."""
        value = self._value(key, required)
        if value is None:
            return None
        items = as_list(value)
        if items is None or not all(isinstance(item, dict) for item in items):
            raise bad_request(f"{self.where}'{key}' must be a list of objects")
        if max_items is not None and len(items) > max_items:
            raise unprocessable(
                f"{self.where}'{key}' holds at most {max_items} items, got {len(items)}"
            )
        return cast(list[JSONObject], items)

    def mapping(self, key: str, *, required: bool = False) -> JSONObject | None:
        """An optional JSON object."""
        value = self._value(key, required)
        if value is None:
            return None
        obj = as_object(value)
        if obj is None:
            raise bad_request(f"{self.where}'{key}' must be an object")
        return obj

    def string_map(self, key: str) -> dict[str, str] | None:
        """An optional object whose values are all strings."""
        obj = self.mapping(key)
        if obj is None:
            return None
        if not all(isinstance(v, str) for v in obj.values()):
            raise bad_request(f"{self.where}'{key}' must be an object of strings")
        return cast(dict[str, str], obj)

    def timestamp(self, key: str, *, required: bool = False) -> datetime | None:
        """An optional ISO 8601 timestamp (400 when it does not parse)."""
        self._value(key, required)
        raw = self.text(key)
        if raw is None:
            return None
        moment = parse_timestamp(raw)
        if moment is None:
            raise bad_request(f"{self.where}'{key}' must be an ISO 8601 timestamp")
        return moment

    def address(self, key: str, *, required: bool = False) -> Address | None:
        """An optional email address (``addr`` or ``Name <addr>``)."""
        self._value(key, required)
        raw = self.text(key)
        return None if raw is None else parse_address(raw, key, self.where)

    def addresses(
        self, key: str, *, required: bool = False, max_items: int | None = None
    ) -> tuple[str, ...]:
        """A string or a list of address strings, each checked; empty when absent."""
        value = self._value(key, required)
        if value is None:
            return ()
        items: list[object] = [value] if isinstance(value, str) else (as_list(value) or [])
        if not isinstance(value, str | list) or not all(isinstance(item, str) for item in items):
            raise bad_request(f"{self.where}'{key}' must be a string or a list of strings")
        if required and not items:
            raise bad_request(f"{self.where}'{key}' must not be empty")
        if max_items is not None and len(items) > max_items:
            raise unprocessable(
                f"{self.where}'{key}' takes at most {max_items} addresses, got {len(items)}"
            )
        result = tuple(cast(list[str], items))
        for item in result:
            parse_address(item, key, self.where)
        return result

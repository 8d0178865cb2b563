"""What the resource modules share: kinds of stored resources, lookups, lists in pages.

Three list shapes exist in the API (§6); each list uses the one its types name first:

- :func:`snake_page`: ``{"<items>": [...], "pagination": {total, page, per_page, total_pages}}``
  (emails, contacts, templates, broadcasts, suppressions, mailboxes, ...);
- :func:`camel_page`: ``{"<items>": [...], "pagination"|"meta": {page, perPage, total,
  totalPages}}`` (webhook deliveries, DMARC reports, notification deliveries);
- a plain ``{"<items>": [...]}`` for the lists that do not paginate (domains,
  api keys, segments, webhooks, ...), which ignore ``page`` and ``per_page``.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from .._store import Entity, Store
from .._validation import JSONObject, as_list, as_object, bad_request, not_found

__all__ = [
    "Kind",
    "camel_page",
    "new_public_id",
    "obj",
    "page_params",
    "query_flag",
    "seq",
    "snake_page",
]

_T = TypeVar("_T")


def new_public_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of stored resource: how it is keyed, named in messages, created and found."""

    name: str
    """The store kind (``"contact"``)."""
    noun: str
    """How errors name it (``"Contact"``: "Contact not found")."""
    prefix: str | None = None
    """The public id's prefix (``"con"``); ``None`` when the numeric id is the key."""
    updated_at: bool = False
    """Whether the API object carries ``updatedAt``."""

    def create(
        self,
        store: Store,
        data: JSONObject,
        *,
        now: str,
        private: JSONObject | None = None,
        aliases: Sequence[str] = (),
    ) -> Entity:
        """Store a new resource: ``id`` (and ``publicId``) first, then ``data``, then timestamps."""
        numeric = store.next_id(self.name)
        head: JSONObject = {"id": numeric}
        if self.prefix is not None:
            head["publicId"] = new_public_id(self.prefix)
        stamps: JSONObject = {"createdAt": now}
        if self.updated_at:
            stamps["updatedAt"] = now
        full = {**head, **data, **stamps}
        key = full["publicId"] if self.prefix is not None else str(numeric)
        names = (str(numeric), *aliases) if self.prefix is not None else tuple(aliases)
        return store.put(Entity(self.name, key, full, private or {}, names))

    def find(self, store: Store, ref: str) -> Entity:
        """The resource named by its key or an alias; a 404 otherwise."""
        if self.prefix is None and not (ref.isascii() and ref.isdigit()):
            raise not_found(self.noun)
        entity = store.get(self.name, ref)
        if entity is None:
            raise not_found(self.noun)
        return entity

    def update(
        self,
        store: Store,
        entity: Entity,
        changes: Mapping[str, Any],
        *,
        now: str,
        private: Mapping[str, Any] | None = None,
        aliases: Sequence[str] | None = None,
    ) -> Entity:
        """Store the resource with ``changes`` applied (and ``updatedAt`` moved on)."""
        data = {**entity.data, **changes}
        if self.updated_at:
            data["updatedAt"] = now
        successor = replace(
            entity,
            data=data,
            private={**entity.private, **(private or {})},
            aliases=tuple(aliases) if aliases is not None else entity.aliases,
        )
        return store.put(successor)

    def all(self, store: Store) -> list[Entity]:
        return store.all(self.name)

    def remove(self, store: Store, entity: Entity) -> None:
        store.remove(self.name, entity.key)


def _positive(query: Mapping[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
        raise bad_request(f"'{name}' must be a positive integer")
    return int(raw)


def page_params(
    query: Mapping[str, str], *, default: int = 20, maximum: int = 100, per_page: str = "per_page"
) -> tuple[int, int]:
    """``page`` (from 1) and the page size, capped at ``maximum``."""
    return _positive(query, "page", 1), min(_positive(query, per_page, default), maximum)


def _slice(items: Sequence[_T], page: int, size: int) -> Sequence[_T]:
    start = (page - 1) * size
    return items[start : start + size]


def snake_page(
    key: str,
    items: Sequence[Any],
    query: Mapping[str, str],
    *,
    default: int = 20,
    maximum: int = 100,
) -> JSONObject:
    page, size = page_params(query, default=default, maximum=maximum)
    total = len(items)
    return {
        key: list(_slice(items, page, size)),
        "pagination": {
            "total": total,
            "page": page,
            "per_page": size,
            "total_pages": (total + size - 1) // size,
        },
    }


def camel_page(
    key: str,
    items: Sequence[Any],
    query: Mapping[str, str],
    *,
    meta_key: str = "pagination",
    per_page: str = "per_page",
) -> JSONObject:
    page, size = page_params(query, per_page=per_page)
    total = len(items)
    return {
        key: list(_slice(items, page, size)),
        meta_key: {
            "page": page,
            "perPage": size,
            "total": total,
            "totalPages": (total + size - 1) // size,
        },
    }


def query_flag(query: Mapping[str, str], name: str) -> bool | None:
    """A ``true``/``false`` query value (the API's spelling); ``None`` when absent."""
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    lowered = raw.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise bad_request(f"'{name}' must be true or false")


def query_int(
    query: Mapping[str, str], name: str, *, default: int, minimum: int = 0, maximum: int
) -> int:
    """A whole-number query value within bounds (400 when it is not one)."""
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit():
        raise bad_request(f"'{name}' must be a whole number")
    value = int(raw)
    if not minimum <= value <= maximum:
        raise bad_request(f"'{name}' must be between {minimum} and {maximum}")
    return value


def obj(value: object) -> JSONObject:
    """A JSON value read as an object (empty when it is anything else, ``null`` included)."""
    return as_object(value) or {}


def seq(value: object) -> list[Any]:
    """A JSON value read as an array (empty when it is anything else, ``null`` included)."""
    return as_list(value) or []

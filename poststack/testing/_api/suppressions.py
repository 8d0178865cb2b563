"""``suppressions``: addresses the sandbox will not deliver to.

Hard bounces and complaints add their address here (``hard_bounce``,
``complaint``), as the real API does. An email accepted for a suppressed
address goes ``queued`` → ``failed`` (the ``queued`` event names the
suppressed addresses). Adding an address that is already suppressed is not an
error: the answer shows the existing entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from .._http import Reply
from .._routing import ApiRequest, Routes, created, ok, success
from .._store import Entity, Store
from .._validation import not_found, parse_address
from ._common import Kind, snake_page

if TYPE_CHECKING:
    from .._backend import Backend

__all__ = ["REASONS", "routes", "suppress", "suppressed_among"]

routes = Routes()
SUPPRESSION = Kind("suppression", "Suppression")
REASONS = ("hard_bounce", "complaint", "manual", "unsubscribe")


def _alias(address: str) -> str:
    return f"email:{address.strip().lower()}"


def suppressed_among(store: Store, addresses: Iterable[str]) -> list[str]:
    """The addresses (``addr`` or ``Name <addr>``) that are on the suppression list."""
    found: list[str] = []
    for address in addresses:
        plain = parse_address(address, "to").address
        if store.get(SUPPRESSION.name, _alias(plain)) is not None:
            found.append(plain)
    return found


def suppress(backend: Backend, address: str, reason: str) -> tuple[Entity, bool]:
    """Add ``address`` (unless it is there already); the entry and whether it is new."""
    plain = parse_address(address, "email").address
    existing = backend.store.get(SUPPRESSION.name, _alias(plain))
    if existing is not None:
        return existing, False
    entry = SUPPRESSION.create(
        backend.store,
        {"email": plain.lower(), "reason": reason},
        now=backend.now_iso(),
        aliases=(_alias(plain),),
    )
    backend.emit("suppression.created", {"email": plain.lower(), "reason": reason})
    return entry, True


@routes.post("/suppressions")
def add(call: ApiRequest) -> Reply:
    fields = call.body()
    address = fields.address("email", required=True)
    assert address is not None
    reason = fields.choice("reason", REASONS, default="manual")
    assert reason is not None
    entry, new = suppress(call.backend, address.address, reason)
    body = {"success": True, "suppression": entry.data}
    return created(body) if new else ok(body)


@routes.get("/suppressions")
def list_(call: ApiRequest) -> Reply:
    reason = call.query.get("reason")
    search = (call.query.get("search") or "").lower()
    entries = [
        e.data
        for e in reversed(SUPPRESSION.all(call.backend.store))
        if (not reason or e.data["reason"] == reason) and search in e.data["email"]
    ]
    return ok(snake_page("suppressions", entries, call.query))


@routes.delete("/suppressions/{email}")
def remove(call: ApiRequest) -> Reply:
    entry = call.backend.store.get(SUPPRESSION.name, _alias(call.param("email")))
    if entry is None:
        raise not_found("Suppression")
    SUPPRESSION.remove(call.backend.store, entry)
    return success()

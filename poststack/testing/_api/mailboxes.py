"""``mailboxes``: hosted mailboxes on the account's domains, with aliases, filters, shares.

This part of the API takes camelCase input (``domainId``, ``localPart``,
``displayName``). A mailbox's address is ``localPart@<domain name>`` and is
unique among mailboxes and aliases (409 otherwise). Passwords (8 characters
at least) are kept only as salted hashes. ``unread_summary`` counts the
inbound emails addressed to each mailbox or one of its aliases (the sandbox
has no webmail, so none is ever read).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any

from .._http import Reply
from .._routing import ApiRequest, Routes, created, ok, success
from .._store import Entity, Store
from .._validation import (
    Fields,
    JSONObject,
    bad_request,
    conflict,
    not_found,
    parse_address,
    unprocessable,
)
from ._common import Kind, obj, seq, snake_page
from .domains import DOMAIN

__all__ = ["routes"]

routes = Routes()
MAILBOX = Kind("mailbox", "Mailbox", prefix="mbx", updated_at=True)
ALIAS = Kind("mailbox_alias", "Alias")
TEAM_ID = 1
DEFAULT_QUOTA = 1024**3
MIN_PASSWORD = 8
MAX_FILTERS = 50
_LOCAL_PART = re.compile(r"^[A-Za-z0-9._+-]{1,64}$")
FILTER_FIELDS = ("from", "to", "cc", "subject", "any_recipient")
FILTER_OPERATORS = ("contains", "not_contains", "is", "is_not")
FILTER_ACTIONS = ("fileinto", "addflag", "discard", "stop")
SHARE_ACCESS = ("read", "write", "admin")


def _address_alias(address: str) -> str:
    return f"address:{address.lower()}"


def _password_hash(password: str) -> str:
    salt = secrets.token_hex(8)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 10_000).hex()
    return f"{salt}${digest}"


def _check_password(fields: Fields) -> str:
    password = fields.required_text("password")
    if len(password) < MIN_PASSWORD:
        raise unprocessable(f"A password needs at least {MIN_PASSWORD} characters")
    return password


def _domain(store: Store, fields: Fields) -> Entity:
    raw = fields.data.get("domainId")
    if raw is None or raw == "":
        raise bad_request("Missing required field: domainId")
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise bad_request("'domainId' must be an integer")
    return DOMAIN.find(store, str(raw))


def _new_address(store: Store, fields: Fields, domain: Entity) -> str:
    local = fields.required_text("localPart")
    if not _LOCAL_PART.match(local):
        raise unprocessable(f"Invalid localPart: {local!r}")
    address = f"{local.lower()}@{domain.data['name']}"
    taken = store.get(MAILBOX.name, _address_alias(address)) or store.get(
        ALIAS.name, _address_alias(address)
    )
    if taken is not None:
        raise conflict(f"The address {address} is already in use")
    return address


def _find(call: ApiRequest, name: str = "id") -> Entity:
    return MAILBOX.find(call.backend.store, call.param(name))


@routes.post("/mailboxes")
def create(call: ApiRequest) -> Reply:
    fields = call.body()
    store = call.backend.store
    domain = _domain(store, fields)
    address = _new_address(store, fields, domain)
    password = _check_password(fields)
    mailbox = MAILBOX.create(
        store,
        {
            "teamId": TEAM_ID,
            "domainId": domain.data["id"],
            "emailAddress": address,
            "displayName": fields.text("displayName"),
            "quotaBytes": fields.integer("quotaBytes", minimum=1) or DEFAULT_QUOTA,
            "status": "active",
            "webhookEnabled": bool(fields.flag("webhookEnabled", False)),
            "forwardTo": None,
            "forwardMode": "relay",
            "forwardKeepCopy": True,
            "signatureHtml": None,
            "signatureText": None,
            "lastLoginAt": None,
        },
        now=call.backend.now_iso(),
        private={"password": _password_hash(password), "filters": [], "shares": {}},
        aliases=(_address_alias(address),),
    )
    return created({"mailbox": mailbox.data})


@routes.get("/mailboxes")
def list_(call: ApiRequest) -> Reply:
    domain_id = call.query.get("domain_id")
    items = [
        m.data
        for m in MAILBOX.all(call.backend.store)
        if not domain_id or str(m.data["domainId"]) == domain_id
    ]
    return ok(snake_page("mailboxes", items, call.query))


@routes.get("/mailboxes/unread-summary")
def unread_summary(call: ApiRequest) -> Reply:
    from .inbound_emails import INBOUND

    store = call.backend.store
    received: dict[str, int] = {}
    for inbound in INBOUND.all(store):
        for item in seq(inbound.data.get("toAddresses")):
            address = str(obj(item).get("address", "")).lower()
            received[address] = received.get(address, 0) + 1
    items: list[dict[str, Any]] = []
    for mailbox in MAILBOX.all(store):
        addresses = {mailbox.data["emailAddress"]} | {
            a.data["aliasAddress"]
            for a in ALIAS.all(store)
            if a.data["destinationMailboxId"] == mailbox.data["id"]
        }
        unread = sum(received.get(address, 0) for address in addresses)
        items.append(
            {"mailboxId": mailbox.data["id"], "mailboxPublicId": mailbox.key, "inboxUnread": unread}
        )
    return ok({"items": items})


@routes.get("/mailboxes/{id}")
def get(call: ApiRequest) -> Reply:
    return ok({"mailbox": _find(call).data})


def _forward_to(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    addresses = [part.strip() for part in value.split(",") if part.strip()]
    for address in addresses:
        parse_address(address, "forwardTo")
    return ", ".join(addresses)


@routes.patch("/mailboxes/{id}")
def update(call: ApiRequest) -> Reply:
    mailbox = _find(call)
    fields = call.body()
    changes: dict[str, Any] = {}
    if fields.has("displayName"):
        changes["displayName"] = fields.text("displayName")
    if fields.has("quotaBytes"):
        changes["quotaBytes"] = fields.integer("quotaBytes", minimum=1, required=True)
    if fields.has("status"):
        changes["status"] = fields.required_choice("status", ("active", "suspended"))
    for key in ("webhookEnabled", "forwardKeepCopy"):
        if fields.has(key):
            changes[key] = bool(fields.flag(key))
    if fields.has("forwardTo"):
        changes["forwardTo"] = _forward_to(fields.text("forwardTo"))
    if fields.has("forwardMode"):
        changes["forwardMode"] = fields.required_choice("forwardMode", ("relay", "wrapped"))
    for key in ("signatureHtml", "signatureText"):
        if fields.has(key):
            changes[key] = fields.text(key)
    mailbox = MAILBOX.update(call.backend.store, mailbox, changes, now=call.backend.now_iso())
    return ok({"mailbox": mailbox.data})


@routes.delete("/mailboxes/{id}")
def delete(call: ApiRequest) -> Reply:
    mailbox = _find(call)
    store = call.backend.store
    for alias in ALIAS.all(store):
        if alias.data["destinationMailboxId"] == mailbox.data["id"]:
            ALIAS.remove(store, alias)
    MAILBOX.remove(store, mailbox)
    return success()


@routes.post("/mailboxes/{id}/password")
def change_password(call: ApiRequest) -> Reply:
    mailbox = _find(call)
    password = _check_password(call.body())
    MAILBOX.update(
        call.backend.store,
        mailbox,
        {},
        now=call.backend.now_iso(),
        private={"password": _password_hash(password)},
    )
    return success()


# --- aliases ----------------------------------------------------------------------------


@routes.post("/mailboxes/aliases")
def create_alias(call: ApiRequest) -> Reply:
    fields = call.body()
    store = call.backend.store
    domain = _domain(store, fields)
    address = _new_address(store, fields, domain)
    destination = MAILBOX.find(store, fields.required_text("destinationMailboxId"))
    alias = ALIAS.create(
        store,
        {
            "teamId": TEAM_ID,
            "domainId": domain.data["id"],
            "aliasAddress": address,
            "destinationMailboxId": destination.data["id"],
        },
        now=call.backend.now_iso(),
        aliases=(_address_alias(address),),
    )
    return created({"alias": alias.data})


@routes.get("/mailboxes/aliases")
def list_aliases(call: ApiRequest) -> Reply:
    return ok(snake_page("aliases", [a.data for a in ALIAS.all(call.backend.store)], call.query))


@routes.delete("/mailboxes/aliases/{id}")
def delete_alias(call: ApiRequest) -> Reply:
    ALIAS.remove(call.backend.store, ALIAS.find(call.backend.store, call.param("id")))
    return success()


# --- filters ----------------------------------------------------------------------------


def _rule(item: JSONObject, index: int, now: str) -> JSONObject:
    fields = Fields(item, f"rules[{index}]: ")
    action = fields.required_choice("action", FILTER_ACTIONS)
    action_arg = fields.text("actionArg")
    if action in ("fileinto", "addflag") and not action_arg:
        raise unprocessable(f"rules[{index}]: the {action} action needs actionArg")
    return {
        "publicId": f"flt_{secrets.token_hex(8)}",
        "position": index,
        "name": fields.required_text("name"),
        "field": fields.required_choice("field", FILTER_FIELDS),
        "operator": fields.required_choice("operator", FILTER_OPERATORS),
        "value": fields.required_text("value"),
        "action": action,
        "actionArg": action_arg,
        "enabled": bool(fields.flag("enabled", True)),
        "createdAt": now,
        "updatedAt": now,
    }


@routes.get("/mailboxes/{id}/filters")
def list_filters(call: ApiRequest) -> Reply:
    return ok({"rules": _find(call).private.get("filters", [])})


@routes.put("/mailboxes/{id}/filters")
def set_filters(call: ApiRequest) -> Reply:
    mailbox = _find(call)
    items = call.body().objects("rules", required=False, max_items=MAX_FILTERS)
    if items is None:
        raise bad_request("Missing required field: rules")
    now = call.backend.now_iso()
    rules = [_rule(item, index, now) for index, item in enumerate(items)]
    MAILBOX.update(call.backend.store, mailbox, {}, now=now, private={"filters": rules})
    return ok({"rules": rules})


# --- signatures (under /webmail) ---------------------------------------------------------


def _signature(mailbox: Entity) -> JSONObject:
    return {
        "signatureHtml": mailbox.data.get("signatureHtml"),
        "signatureText": mailbox.data.get("signatureText"),
    }


@routes.get("/webmail/{id}/signature")
def get_signature(call: ApiRequest) -> Reply:
    return ok(_signature(_find(call)))


@routes.put("/webmail/{id}/signature")
def set_signature(call: ApiRequest) -> Reply:
    """Keys present are set (``null`` clears one); keys left out keep their value."""
    mailbox = _find(call)
    fields = call.body()
    changes = {
        key: fields.text(key) for key in ("signatureHtml", "signatureText") if fields.has(key)
    }
    mailbox = MAILBOX.update(call.backend.store, mailbox, changes, now=call.backend.now_iso())
    return ok(_signature(mailbox))


# --- shares -----------------------------------------------------------------------------


@routes.post("/mailboxes/{id}/shares")
def grant_share(call: ApiRequest) -> Reply:
    mailbox = _find(call)
    fields = call.body()
    access = fields.data.get("access", "read")
    if access not in SHARE_ACCESS:
        raise unprocessable(f"Unknown access: {access!r} (one of {', '.join(SHARE_ACCESS)})")
    store = call.backend.store
    target = MAILBOX.find(store, fields.required_text("sharedWithMailboxId"))
    if target.key == mailbox.key:
        raise unprocessable("A mailbox cannot be shared with itself")
    now = call.backend.now_iso()
    shares: dict[str, JSONObject] = dict(mailbox.private.get("shares", {}))
    share = shares.get(target.key)
    if share is None:
        share = {
            "id": store.next_id("mailbox_share"),
            "mailboxId": mailbox.data["id"],
            "sharedWithMailboxId": target.data["id"],
            "access": access,
            "createdAt": now,
            "updatedAt": now,
        }
    else:
        share = {**share, "access": access, "updatedAt": now}
    shares[target.key] = share
    MAILBOX.update(store, mailbox, {}, now=now, private={"shares": shares})
    return created({"share": share})


@routes.get("/mailboxes/{id}/shares")
def list_shares(call: ApiRequest) -> Reply:
    mailbox = _find(call)
    store = call.backend.store
    shares: list[dict[str, Any]] = []
    for target_key, share in mailbox.private.get("shares", {}).items():
        target = store.get(MAILBOX.name, target_key)
        shares.append(
            {
                "id": share["id"],
                "sharedWithMailboxId": share["sharedWithMailboxId"],
                "sharedWithEmail": target.data["emailAddress"] if target is not None else None,
                "access": share["access"],
                "createdAt": share["createdAt"],
            }
        )
    return ok({"shares": shares})


@routes.delete("/mailboxes/{id}/shares/{target_id}")
def revoke_share(call: ApiRequest) -> Reply:
    mailbox = _find(call)
    target = MAILBOX.find(call.backend.store, call.param("target_id"))
    shares = dict(mailbox.private.get("shares", {}))
    if shares.pop(target.key, None) is None:
        raise not_found("Share")
    MAILBOX.update(
        call.backend.store, mailbox, {}, now=call.backend.now_iso(), private={"shares": shares}
    )
    return success()

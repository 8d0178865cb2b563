"""``api_keys``: keys minted through the API, which then work against the sandbox.

A minted key authenticates like the sandbox's own: ``sending_access`` keys
may only send and read emails (anything else is a 403), a key with a
``domain_id`` may only send from that domain, a revoked key is a 401, and
``rotate`` replaces the key at once (the old one stops working). Only a hash
of each key is kept; the plaintext is in the answers to ``create`` and
``rotate`` and nowhere else. The sandbox's own key is not listed.
"""

from __future__ import annotations

import secrets

from .._http import Reply
from .._routing import API_KEY, ApiRequest, Routes, created, key_fingerprint, ok, success
from .._store import Entity
from .._validation import unprocessable
from ._common import Kind
from .domains import DOMAIN

__all__ = ["routes"]

routes = Routes()
KEY = Kind(API_KEY, "API key")
PERMISSIONS = ("full_access", "sending_access")
MODES = ("live", "test")


def _mint(mode: str) -> str:
    return f"sk_{mode}_{secrets.token_urlsafe(24)}"


def _hash_alias(key: str) -> str:
    return f"hash:{key_fingerprint(key)}"


def _find(call: ApiRequest) -> Entity:
    return KEY.find(call.backend.store, call.param("id"))


@routes.post("/api-keys")
def create(call: ApiRequest) -> Reply:
    fields = call.body()
    name = fields.required_text("name")
    permission = fields.required_choice("permission", PERMISSIONS)
    default_mode = "test" if call.principal.test_mode else "live"
    mode = fields.choice("mode", MODES, default=default_mode)
    assert mode is not None
    domain_ref = fields.integer("domain_id", minimum=1)
    domain_id = DOMAIN.find(call.backend.store, str(domain_ref)).data["id"] if domain_ref else None
    if permission == "full_access" and not fields.flag("allow_full_access", False):
        raise unprocessable(
            "Minting a full_access key with a full_access key needs allow_full_access: true"
        )
    plaintext = _mint(mode)
    key = KEY.create(
        call.backend.store,
        {
            "name": name,
            "keyPrefix": plaintext[:12],
            "permission": permission,
            "mode": mode,
            "domainId": domain_id,
            "lastUsedAt": None,
            "expiresAt": None,
        },
        now=call.backend.now_iso(),
        aliases=(_hash_alias(plaintext),),
    )
    return created({**key.data, "key": plaintext})


@routes.get("/api-keys")
def list_(call: ApiRequest) -> Reply:
    return ok({"keys": [k.data for k in KEY.all(call.backend.store)]})


@routes.get("/api-keys/{id}")
def get(call: ApiRequest) -> Reply:
    return ok(_find(call).data)


@routes.delete("/api-keys/{id}")
def revoke(call: ApiRequest) -> Reply:
    KEY.remove(call.backend.store, _find(call))
    return success()


@routes.post("/api-keys/{id}/rotate")
def rotate(call: ApiRequest) -> Reply:
    key = _find(call)
    plaintext = _mint(key.data["mode"])
    key = KEY.update(
        call.backend.store,
        key,
        {"keyPrefix": plaintext[:12]},
        now=call.backend.now_iso(),
        aliases=(_hash_alias(plaintext),),
    )
    return ok({**key.data, "key": plaintext})

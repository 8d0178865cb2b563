"""Types of the ``api_keys`` resource."""

from typing import Literal, TypedDict

__all__ = [
    "ApiKey",
    "ApiKeyMode",
    "ApiKeyPermission",
    "CreateApiKeyParams",
    "ListApiKeysResponse",
]


ApiKeyPermission = Literal["full_access", "sending_access"]
ApiKeyMode = Literal["live", "test"]


class _ApiKeyRequired(TypedDict):
    id: int
    name: str
    keyPrefix: str
    permission: ApiKeyPermission
    mode: ApiKeyMode
    createdAt: str


class ApiKey(_ApiKeyRequired, total=False):
    """What ``api_keys.create``, ``api_keys.get``, ``api_keys.rotate`` answer."""

    domainId: int | None
    """Set when the key is scoped to one domain."""
    lastUsedAt: str | None
    expiresAt: str | None
    key: str
    """The plaintext key (``sk_live_…``): only in the answer to ``create`` and ``rotate``."""


class _CreateApiKeyRequired(TypedDict):
    name: str
    permission: ApiKeyPermission


class CreateApiKeyParams(_CreateApiKeyRequired, total=False):
    """The payload of ``api_keys.create``."""

    mode: ApiKeyMode
    domain_id: int
    allow_full_access: bool
    """Needed to mint a ``full_access`` key with a ``full_access`` key."""


class ListApiKeysResponse(TypedDict):
    """What ``api_keys.list`` answers."""

    keys: list[ApiKey]

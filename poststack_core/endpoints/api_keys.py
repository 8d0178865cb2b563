"""``api_keys``: mint, read, rotate and revoke API keys (numeric ids)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from .._operation import Operation, mapping_body, numeric, query_pairs
from .._resource import Mode, Resource, endpoint
from ._build import op

if TYPE_CHECKING:
    from ..types.api_keys import ApiKey, CreateApiKeyParams, ListApiKeysResponse
    from ..types.common import SuccessResponse


def create(
    input: CreateApiKeyParams,
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[ApiKey]:
    """Mint a key. The answer's ``key`` is the plaintext secret, shown this once."""
    body = mapping_body(input, "input")
    return op("POST", "/api-keys", body=body, timeout=timeout, idempotency_key=idempotency_key)


def get(id: int, *, timeout: float | None = None) -> Operation[ApiKey]:
    """One API key by its id (``GET /api-keys/{id}``)."""
    return op("GET", f"/api-keys/{numeric(id, 'id')}", timeout=timeout)


def list(
    params: Mapping[str, Any] | None = None, *, timeout: float | None = None
) -> Operation[ListApiKeysResponse]:
    """Every key of the team (the server does not paginate; ``params`` are sent as given)."""
    return op("GET", "/api-keys", query=query_pairs(params), timeout=timeout)


def revoke(id: int, *, timeout: float | None = None) -> Operation[SuccessResponse]:
    """Revoke an API key (``DELETE /api-keys/{id}``): requests made with it fail from then on."""
    return op("DELETE", f"/api-keys/{numeric(id, 'id')}", timeout=timeout)


def rotate(
    id: int, *, timeout: float | None = None, idempotency_key: str | None = None
) -> Operation[ApiKey]:
    """Replace the key's secret (same name, permission, scope); the new ``key`` is in the answer."""
    path = f"/api-keys/{numeric(id, 'id')}/rotate"
    return op("POST", path, timeout=timeout, idempotency_key=idempotency_key)


class ApiKeys(Resource[Mode]):
    """``ps.api_keys``: mint, read, rotate and revoke API keys."""

    create: Final = endpoint(create)
    get: Final = endpoint(get)
    list: Final = endpoint(list)
    revoke: Final = endpoint(revoke)
    rotate: Final = endpoint(rotate)

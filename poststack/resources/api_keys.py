from __future__ import annotations

from poststack_core.endpoints import api_keys

from .._resource import Mode, Resource, endpoint


class ApiKeys(Resource[Mode]):
    """``ps.api_keys``: mint, read, rotate and revoke API keys."""

    create = endpoint(api_keys.create)
    get = endpoint(api_keys.get)
    list = endpoint(api_keys.list)
    revoke = endpoint(api_keys.revoke)
    rotate = endpoint(api_keys.rotate)

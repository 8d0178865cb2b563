from __future__ import annotations

from poststack_core.endpoints import suppressions
from poststack_core.types.suppressions import Suppression

from .._resource import Mode, Resource, endpoint, pages


class Suppressions(Resource[Mode]):
    """``ps.suppressions``: addresses PostStack will not send to."""

    list = endpoint(suppressions.list)
    list_all = pages(suppressions.list, "suppressions", Suppression)
    add = endpoint(suppressions.add)
    remove = endpoint(suppressions.remove)

from __future__ import annotations

from typing import TYPE_CHECKING

from poststack_core.endpoints import suppressions

from .._resource import Mode, Resource, endpoint, pages

if TYPE_CHECKING:
    from poststack_core.types.suppressions import Suppression
else:
    # Item types only type the walkers; at run time a TypedDict is a plain dict.
    Suppression = dict


class Suppressions(Resource[Mode]):
    """``ps.suppressions``: addresses PostStack will not send to."""

    list = endpoint(suppressions.list)
    list_all = pages(suppressions.list, "suppressions", Suppression)
    add = endpoint(suppressions.add)
    remove = endpoint(suppressions.remove)

from __future__ import annotations

from typing import TYPE_CHECKING

from poststack_core.endpoints import broadcasts

from .._resource import Mode, Resource, endpoint, pages

if TYPE_CHECKING:
    from poststack_core.types.broadcasts import Broadcast
else:
    # Item types only type the walkers; at run time a TypedDict is a plain dict.
    Broadcast = dict


class Broadcasts(Resource[Mode]):
    """``ps.broadcasts``: campaigns to a segment, A/B tests and their results."""

    create = endpoint(broadcasts.create)
    list = endpoint(broadcasts.list)
    list_all = pages(broadcasts.list, "broadcasts", Broadcast)
    list_performance = endpoint(broadcasts.list_performance)
    get = endpoint(broadcasts.get)
    update = endpoint(broadcasts.update)
    send = endpoint(broadcasts.send)
    cancel = endpoint(broadcasts.cancel)
    send_test = endpoint(broadcasts.send_test)
    get_variants = endpoint(broadcasts.get_variants)
    get_variant_stats = endpoint(broadcasts.get_variant_stats)
    end_ab_test = endpoint(broadcasts.end_ab_test)
    performance = endpoint(broadcasts.performance)
    non_openers = endpoint(broadcasts.non_openers)
    non_clickers = endpoint(broadcasts.non_clickers)
    resend = endpoint(broadcasts.resend)

from __future__ import annotations

from typing import TYPE_CHECKING

from poststack_core import verify
from poststack_core.endpoints import webhooks

from .._resource import Mode, Resource, endpoint, pages

if TYPE_CHECKING:
    from poststack_core.types.webhooks import WebhookDelivery
else:
    # Item types only type the walkers; at run time a TypedDict is a plain dict.
    WebhookDelivery = dict


class Webhooks(Resource[Mode]):
    """``ps.webhooks``: event endpoints, their deliveries and signing secrets."""

    create = endpoint(webhooks.create)
    list = endpoint(webhooks.list)
    get = endpoint(webhooks.get)
    update = endpoint(webhooks.update)
    delete = endpoint(webhooks.delete)
    test = endpoint(webhooks.test)
    get_deliveries = endpoint(webhooks.get_deliveries)
    get_deliveries_all = pages(webhooks.get_deliveries, "deliveries", WebhookDelivery)
    replay = endpoint(webhooks.replay)
    batch_replay = endpoint(webhooks.batch_replay)
    rotate_secret = endpoint(webhooks.rotate_secret)
    verify = staticmethod(verify)
    """Check a delivery's ``X-PostStack-Signature``; see :func:`poststack.webhooks.verify`."""

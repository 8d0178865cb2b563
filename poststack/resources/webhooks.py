from __future__ import annotations

from poststack_core import verify
from poststack_core.endpoints import webhooks
from poststack_core.types.webhooks import WebhookDelivery

from .._resource import Mode, Resource, endpoint, pages


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

from __future__ import annotations

from typing import TYPE_CHECKING

from poststack_core.endpoints import notification_channels

from .._resource import Mode, Resource, endpoint, pages

if TYPE_CHECKING:
    from poststack_core.types.notification_channels import NotificationDelivery
else:
    # Item types only type the walkers; at run time a TypedDict is a plain dict.
    NotificationDelivery = dict


class NotificationChannels(Resource[Mode]):
    """``ps.notification_channels``: account events to Slack, Discord or Telegram."""

    create = endpoint(notification_channels.create)
    list = endpoint(notification_channels.list)
    get = endpoint(notification_channels.get)
    update = endpoint(notification_channels.update)
    delete = endpoint(notification_channels.delete)
    test = endpoint(notification_channels.test)
    list_deliveries = endpoint(notification_channels.list_deliveries)
    list_deliveries_all = pages(
        notification_channels.list_deliveries, "deliveries", NotificationDelivery
    )
    replay_delivery = endpoint(notification_channels.replay_delivery)

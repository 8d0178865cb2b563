"""``notification_channels``: account events to Slack, Discord or Telegram (``nc_…`` ids)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from .._operation import Operation, mapping_body, numeric, query_pairs, segment
from .._resource import Mode, Resource, endpoint, pages
from ._build import op

if TYPE_CHECKING:
    from ..types.common import ListParams, SuccessResponse
    from ..types.notification_channels import (
        CreateNotificationChannelParams,
        ListNotificationChannelsResponse,
        ListNotificationDeliveriesResponse,
        NotificationChannelResponse,
        NotificationTestResult,
        UpdateNotificationChannelParams,
    )


def _path(id: str, action: str = "") -> str:
    return f"/notification-channels/{segment(id, 'id')}{action}"


def create(
    input: CreateNotificationChannelParams,
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[NotificationChannelResponse]:
    """Create a notification channel.

    ``POST /notification-channels``: ``input`` is sent as given.
    """
    body = mapping_body(input, "input")
    path = "/notification-channels"
    return op("POST", path, body=body, timeout=timeout, idempotency_key=idempotency_key)


def list(*, timeout: float | None = None) -> Operation[ListNotificationChannelsResponse]:
    """Every notification channel (``GET /notification-channels``)."""
    return op("GET", "/notification-channels", timeout=timeout)


def get(id: str, *, timeout: float | None = None) -> Operation[NotificationChannelResponse]:
    """One notification channel by its id (``GET /notification-channels/{id}``)."""
    return op("GET", _path(id), timeout=timeout)


def update(
    id: str, input: UpdateNotificationChannelParams, *, timeout: float | None = None
) -> Operation[NotificationChannelResponse]:
    """Partial update, sent as a PUT: fields left out keep their values."""
    return op("PUT", _path(id), body=mapping_body(input, "input"), timeout=timeout)


def delete(id: str, *, timeout: float | None = None) -> Operation[SuccessResponse]:
    """Delete a notification channel (``DELETE /notification-channels/{id}``)."""
    return op("DELETE", _path(id), timeout=timeout)


def test(
    id: str, *, timeout: float | None = None, idempotency_key: str | None = None
) -> Operation[NotificationTestResult]:
    """Send a test message and report what the platform answered."""
    return op("POST", _path(id, "/test"), timeout=timeout, idempotency_key=idempotency_key)


def list_deliveries(
    id: str, params: ListParams | None = None, *, timeout: float | None = None
) -> Operation[ListNotificationDeliveriesResponse]:
    """Delivery attempts, newest first, as ``{"deliveries", "meta"}``."""
    return op("GET", _path(id, "/deliveries"), query=query_pairs(params), timeout=timeout)


def replay_delivery(
    id: str,
    delivery_id: int,
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[SuccessResponse]:
    """Send a past notification again.

    ``POST /notification-channels/{id}/deliveries/{delivery_id}/replay``
    """
    path = _path(id, f"/deliveries/{numeric(delivery_id, 'delivery_id')}/replay")
    return op("POST", path, timeout=timeout, idempotency_key=idempotency_key)


class NotificationChannels(Resource[Mode]):
    """``ps.notification_channels``: account events to Slack, Discord or Telegram."""

    create: Final = endpoint(create)
    list: Final = endpoint(list)
    get: Final = endpoint(get)
    update: Final = endpoint(update)
    delete: Final = endpoint(delete)
    test: Final = endpoint(test)
    list_deliveries: Final = endpoint(list_deliveries)
    list_deliveries_all: Final = pages(list_deliveries, lambda page: page.get("deliveries"))
    replay_delivery: Final = endpoint(replay_delivery)

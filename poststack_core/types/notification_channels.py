"""Types of the ``notification_channels`` resource (Slack, Discord, Telegram alerts)."""

from typing import Any, Literal, TypedDict

from .common import ListParams, Pagination

__all__ = [
    "ChannelType",
    "CreateNotificationChannelParams",
    "ListNotificationChannelsResponse",
    "ListNotificationDeliveriesParams",
    "ListNotificationDeliveriesResponse",
    "NotificationChannel",
    "NotificationChannelResponse",
    "NotificationDelivery",
    "NotificationTestResult",
    "UpdateNotificationChannelParams",
]


ChannelType = Literal["slack", "discord", "telegram"]


class _NotificationChannelRequired(TypedDict):
    publicId: str
    """``nc_…``: what every channel method takes."""
    type: str
    """One of :data:`ChannelType` (and newer ones)."""
    name: str
    events: list[str]
    active: bool
    createdAt: str


class NotificationChannel(_NotificationChannelRequired, total=False):
    """Where account events go: Slack, Discord or Telegram, and which events."""

    domainId: int | None
    mailboxId: int | None
    configSummary: dict[str, str]
    """Masked descriptors: webhook URLs and bot tokens never come back."""
    consecutiveFailures: int
    disabledAt: str | None
    disabledReason: str | None
    lastUsedAt: str | None
    updatedAt: str


class _CreateChannelRequired(TypedDict):
    type: ChannelType
    name: str
    events: list[str]
    config: dict[str, str]
    """``{"webhookUrl"}`` for Slack and Discord, ``{"botToken", "chatId"}`` for Telegram."""


class CreateNotificationChannelParams(_CreateChannelRequired, total=False):
    """The payload of ``notification_channels.create``."""

    domainId: int
    mailboxId: int


class UpdateNotificationChannelParams(TypedDict, total=False):
    """Partial: fields and ``config`` keys left out keep their stored values."""

    name: str
    events: list[str]
    domainId: int | None
    mailboxId: int | None
    enabled: bool
    config: dict[str, str]


class NotificationChannelResponse(TypedDict):
    """What ``notification_channels.create``, ``notification_channels.get``,
    ``notification_channels.update`` answer.
    """

    channel: NotificationChannel


class ListNotificationChannelsResponse(TypedDict):
    """What ``notification_channels.list`` answers."""

    channels: list[NotificationChannel]


class NotificationDelivery(TypedDict, total=False):
    """One notification sent to a channel, and how it went (``list_deliveries_all``)."""

    id: int
    channelId: int
    eventType: str
    payload: dict[str, Any]
    statusCode: int | None
    responseBody: str | None
    attempts: int
    nextRetryAt: str | None
    deliveredAt: str | None
    createdAt: str


class ListNotificationDeliveriesResponse(TypedDict, total=False):
    """What ``notification_channels.list_deliveries`` answers."""

    deliveries: list[NotificationDelivery]
    meta: Pagination
    pagination: Pagination


class NotificationTestResult(TypedDict, total=False):
    """What ``notification_channels.test`` answers."""

    success: bool
    statusCode: int | None
    """What the platform (Slack, Discord, Telegram) answered."""
    responseBody: str | None


ListNotificationDeliveriesParams = ListParams

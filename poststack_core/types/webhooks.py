"""Types of the ``webhooks`` resource (endpoints, deliveries, signing secrets)."""

from typing import Any, TypedDict

from .common import ListParams, Pagination

__all__ = [
    "BatchReplayParams",
    "BatchReplayResponse",
    "CreateWebhookParams",
    "ListDeliveriesParams",
    "ListDeliveriesResponse",
    "ListWebhooksResponse",
    "UpdateWebhookParams",
    "Webhook",
    "WebhookDelivery",
    "WebhookResponse",
    "WebhookSecretResponse",
]


class _WebhookRequired(TypedDict):
    id: int
    url: str
    events: list[str]
    active: bool
    createdAt: str


class Webhook(_WebhookRequired, total=False):
    """An endpoint PostStack sends events to, the events it takes, and its secret's rotation."""

    secretRotatedAt: str | None
    previousSecretExpiresAt: str | None
    """Set while a rotation's grace window is open (deliveries carry two signatures)."""
    consecutiveFailures: int
    disabledAt: str | None
    disabledReason: str | None
    lastDeliveryAt: str | None
    lastDeliveryStatus: int | None


class CreateWebhookParams(TypedDict):
    """The payload of ``webhooks.create``."""

    url: str
    events: list[str]
    """e.g. ``["email.delivered", "email.bounced"]``."""


class UpdateWebhookParams(TypedDict, total=False):
    """The payload of ``webhooks.update``."""

    url: str
    events: list[str]
    enabled: bool


class WebhookSecretResponse(TypedDict):
    """``create`` and ``rotate_secret``: the only answers with the plaintext secret."""

    webhook: Webhook
    signingSecret: str


class WebhookResponse(TypedDict):
    """What ``webhooks.get``, ``webhooks.update`` answer."""

    webhook: Webhook


class ListWebhooksResponse(TypedDict):
    """What ``webhooks.list`` answers."""

    webhooks: list[Webhook]


class _WebhookDeliveryRequired(TypedDict):
    id: int
    webhookId: int
    eventType: str
    payload: dict[str, Any]
    attempts: int
    createdAt: str


class WebhookDelivery(_WebhookDeliveryRequired, total=False):
    """One delivery of an event to a webhook, and its outcome (``get_deliveries_all``)."""

    statusCode: int | None
    responseBody: str | None
    nextRetryAt: str | None
    deliveredAt: str | None


class ListDeliveriesResponse(TypedDict, total=False):
    """What ``webhooks.get_deliveries`` answers."""

    deliveries: list[WebhookDelivery]
    pagination: Pagination
    data: list[WebhookDelivery]
    meta: Pagination


class BatchReplayParams(TypedDict, total=False):
    """Leave all out to replay every failed delivery, oldest first (1,000 at most)."""

    withinMinutes: int
    eventType: str
    limit: int


class BatchReplayResponse(TypedDict):
    """What ``webhooks.batch_replay`` answers."""

    replayed: int
    remaining: int
    """Call again while this is above zero."""


ListDeliveriesParams = ListParams

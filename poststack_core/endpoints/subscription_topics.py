"""``subscription_topics``: opt-out topics contacts can leave one by one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from .._operation import Operation, mapping_body, query_pairs, segment
from .._resource import Mode, Resource, endpoint, pages
from ._build import op

if TYPE_CHECKING:
    from ..types.common import SuccessResponse
    from ..types.subscription_topics import (
        ContactSubscriptionResponse,
        ContactSubscriptionsResponse,
        CreateSubscriptionTopicParams,
        ListSubscribersParams,
        ListSubscribersResponse,
        ListSubscriptionTopicsResponse,
        SubscriptionTopicDetail,
        SubscriptionTopicResponse,
        UpdateSubscriptionTopicParams,
    )


def _path(id: str, action: str = "") -> str:
    return f"/subscription-topics/{segment(id, 'id')}{action}"


def _contact_path(contact_id: str) -> str:
    return f"/subscription-topics/contacts/{segment(contact_id, 'contact_id')}/subscriptions"


def list(*, timeout: float | None = None) -> Operation[ListSubscriptionTopicsResponse]:
    """Every subscription topic (``GET /subscription-topics``)."""
    return op("GET", "/subscription-topics", timeout=timeout)


def create(
    input: CreateSubscriptionTopicParams,
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[SubscriptionTopicResponse]:
    """Create a subscription topic (``POST /subscription-topics``); ``input`` is sent as given."""
    body = mapping_body(input, "input")
    path = "/subscription-topics"
    return op("POST", path, body=body, timeout=timeout, idempotency_key=idempotency_key)


def get(id: str, *, timeout: float | None = None) -> Operation[SubscriptionTopicDetail]:
    """The topic with its subscriber and opt-out counts."""
    return op("GET", _path(id), timeout=timeout)


def update(
    id: str, input: UpdateSubscriptionTopicParams, *, timeout: float | None = None
) -> Operation[SubscriptionTopicResponse]:
    """Change a subscription topic.

    ``PATCH /subscription-topics/{id}``: the fields in ``input``, sent as given.
    """
    return op("PATCH", _path(id), body=mapping_body(input, "input"), timeout=timeout)


def delete(id: str, *, timeout: float | None = None) -> Operation[SuccessResponse]:
    """Delete a subscription topic (``DELETE /subscription-topics/{id}``)."""
    return op("DELETE", _path(id), timeout=timeout)


def list_subscribers(
    id: str, params: ListSubscribersParams | None = None, *, timeout: float | None = None
) -> Operation[ListSubscribersResponse]:
    """A page of the topic's subscribers (``subscribed=False``: those who opted out)."""
    return op("GET", _path(id, "/subscribers"), query=query_pairs(params), timeout=timeout)


def get_contact_subscriptions(
    contact_id: str, *, timeout: float | None = None
) -> Operation[ContactSubscriptionsResponse]:
    """The topics a contact is subscribed to.

    ``GET /subscription-topics/contacts/{contact_id}/subscriptions``
    """
    return op("GET", _contact_path(contact_id), timeout=timeout)


def subscribe(
    contact_id: str,
    topic_id: str,
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[ContactSubscriptionResponse]:
    """Subscribe a contact to a topic.

    ``POST /subscription-topics/contacts/{contact_id}/subscriptions``
    """
    body = {"topic_id": topic_id}
    path = _contact_path(contact_id)
    return op("POST", path, body=body, timeout=timeout, idempotency_key=idempotency_key)


def unsubscribe(
    contact_id: str, topic_id: str, *, timeout: float | None = None
) -> Operation[ContactSubscriptionResponse]:
    """Record the contact's explicit opt-out of the topic."""
    path = f"{_contact_path(contact_id)}/{segment(topic_id, 'topic_id')}"
    return op("DELETE", path, timeout=timeout)


class SubscriptionTopics(Resource[Mode]):
    """``ps.subscription_topics``: topics contacts can opt out of one by one."""

    list: Final = endpoint(list)
    create: Final = endpoint(create)
    get: Final = endpoint(get)
    update: Final = endpoint(update)
    delete: Final = endpoint(delete)
    list_subscribers: Final = endpoint(list_subscribers)
    list_subscribers_all: Final = pages(list_subscribers, lambda page: page.get("subscribers"))
    get_contact_subscriptions: Final = endpoint(get_contact_subscriptions)
    subscribe: Final = endpoint(subscribe)
    unsubscribe: Final = endpoint(unsubscribe)

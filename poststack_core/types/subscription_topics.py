"""Types of the ``subscription_topics`` resource."""

from typing import TypedDict

from .common import ListParams, Pagination

__all__ = [
    "ContactSubscription",
    "ContactSubscriptionResponse",
    "ContactSubscriptionsResponse",
    "CreateSubscriptionTopicParams",
    "ListSubscribersParams",
    "ListSubscribersResponse",
    "ListSubscriptionTopicsResponse",
    "SubscriptionTopic",
    "SubscriptionTopicDetail",
    "SubscriptionTopicResponse",
    "TopicSubscriber",
    "UpdateSubscriptionTopicParams",
]


class _SubscriptionTopicRequired(TypedDict):
    id: int
    name: str
    createdAt: str


class SubscriptionTopic(_SubscriptionTopicRequired, total=False):
    """A topic contacts can subscribe to and unsubscribe from."""

    publicId: str
    description: str | None


class _CreateTopicRequired(TypedDict):
    name: str


class CreateSubscriptionTopicParams(_CreateTopicRequired, total=False):
    """The payload of ``subscription_topics.create``."""

    description: str


class UpdateSubscriptionTopicParams(TypedDict, total=False):
    """The payload of ``subscription_topics.update``."""

    name: str
    description: str | None
    """``None`` clears it."""


class SubscriptionTopicResponse(TypedDict):
    """What ``subscription_topics.create``, ``subscription_topics.update`` answer."""

    topic: SubscriptionTopic


class SubscriptionTopicDetail(SubscriptionTopicResponse, total=False):
    """What ``subscription_topics.get`` answers."""

    subscriberCount: int
    unsubscribedCount: int


class ListSubscriptionTopicsResponse(TypedDict):
    """What ``subscription_topics.list`` answers."""

    topics: list[SubscriptionTopic]


class ContactSubscription(TypedDict, total=False):
    """A contact's subscription to a topic, and when it began."""

    id: int
    topicId: int
    contactId: int
    subscribed: bool
    subscribedAt: str
    updatedAt: str
    topic: SubscriptionTopic


class ContactSubscriptionsResponse(TypedDict):
    """What ``subscription_topics.get_contact_subscriptions`` answers."""

    subscriptions: list[ContactSubscription]


class ContactSubscriptionResponse(TypedDict):
    """What ``subscription_topics.subscribe``, ``subscription_topics.unsubscribe`` answer."""

    subscription: ContactSubscription


class ListSubscribersParams(ListParams, total=False):
    """``per_page`` defaults to 50 (max 100)."""

    subscribed: bool
    """True (the default) lists subscribers, False those who opted out; sent as true/false."""


class TopicSubscriber(TypedDict, total=False):
    """A contact subscribed to a topic (``list_subscribers_all`` yields them)."""

    contactId: int
    contactPublicId: str
    email: str
    firstName: str | None
    lastName: str | None
    subscribedAt: str


class ListSubscribersResponse(TypedDict, total=False):
    """What ``subscription_topics.list_subscribers`` answers."""

    subscribers: list[TopicSubscriber]
    pagination: Pagination
    data: list[TopicSubscriber]
    meta: Pagination

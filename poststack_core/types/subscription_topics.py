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
    publicId: str
    description: str | None


class _CreateTopicRequired(TypedDict):
    name: str


class CreateSubscriptionTopicParams(_CreateTopicRequired, total=False):
    description: str


class UpdateSubscriptionTopicParams(TypedDict, total=False):
    name: str
    description: str | None
    """``None`` clears it."""


class SubscriptionTopicResponse(TypedDict):
    topic: SubscriptionTopic


class SubscriptionTopicDetail(SubscriptionTopicResponse, total=False):
    subscriberCount: int
    unsubscribedCount: int


class ListSubscriptionTopicsResponse(TypedDict):
    topics: list[SubscriptionTopic]


class ContactSubscription(TypedDict, total=False):
    id: int
    topicId: int
    contactId: int
    subscribed: bool
    subscribedAt: str
    updatedAt: str
    topic: SubscriptionTopic


class ContactSubscriptionsResponse(TypedDict):
    subscriptions: list[ContactSubscription]


class ContactSubscriptionResponse(TypedDict):
    subscription: ContactSubscription


class ListSubscribersParams(ListParams, total=False):
    """``per_page`` defaults to 50 (max 100)."""

    subscribed: bool
    """True (the default) lists subscribers, False those who opted out; sent as true/false."""


class TopicSubscriber(TypedDict, total=False):
    contactId: int
    contactPublicId: str
    email: str
    firstName: str | None
    lastName: str | None
    subscribedAt: str


class ListSubscribersResponse(TypedDict, total=False):
    subscribers: list[TopicSubscriber]
    pagination: Pagination
    data: list[TopicSubscriber]
    meta: Pagination

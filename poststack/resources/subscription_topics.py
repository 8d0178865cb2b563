from __future__ import annotations

from typing import TYPE_CHECKING

from poststack_core.endpoints import subscription_topics

from .._resource import Mode, Resource, endpoint, pages

if TYPE_CHECKING:
    from poststack_core.types.subscription_topics import TopicSubscriber
else:
    # Item types only type the walkers; at run time a TypedDict is a plain dict.
    TopicSubscriber = dict


class SubscriptionTopics(Resource[Mode]):
    """``ps.subscription_topics``: topics contacts can opt out of one by one."""

    list = endpoint(subscription_topics.list)
    create = endpoint(subscription_topics.create)
    get = endpoint(subscription_topics.get)
    update = endpoint(subscription_topics.update)
    delete = endpoint(subscription_topics.delete)
    list_subscribers = endpoint(subscription_topics.list_subscribers)
    list_subscribers_all = pages(
        subscription_topics.list_subscribers, "subscribers", TopicSubscriber
    )
    get_contact_subscriptions = endpoint(subscription_topics.get_contact_subscriptions)
    subscribe = endpoint(subscription_topics.subscribe)
    unsubscribe = endpoint(subscription_topics.unsubscribe)

"""Checked by mypy --strict and pyright, never run: typed webhook events narrow on their type."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from typing_extensions import assert_type

from poststack.inbound import EmailAddress, InboundMessage
from poststack.webhooks import (
    BouncedEvent,
    ClickedEvent,
    ComplainedEvent,
    DeferredEvent,
    DeliveredEvent,
    Event,
    FailedEvent,
    InboundEvent,
    SoftBouncedEvent,
    TrackingEvent,
    UnknownEvent,
    WebhookResponse,
    WebhookRouter,
    construct_event,
    parse_event,
)


def narrowing(body: bytes, headers: dict[str, str]) -> None:
    event = construct_event(body, headers, ["whsec_new", "whsec_old"])
    assert_type(event, Event)
    assert_type(event["id"], str | None)
    assert_type(event["timestamp"], datetime | None)
    assert_type(event["raw"], dict[str, Any])
    if event["type"] == "email.bounced":
        assert_type(event, BouncedEvent)
        assert_type(event["reason"], str | None)
        assert_type(event["email_id"], str | None)
        assert_type(event["tags"], list[str])
        assert_type(event["metadata"], dict[str, Any])
    elif event["type"] == "email.soft_bounced":
        assert_type(event, SoftBouncedEvent)
    elif event["type"] == "email.deferred":
        assert_type(event, DeferredEvent)
    elif event["type"] == "email.failed":
        assert_type(event, FailedEvent)
    elif event["type"] == "email.clicked":
        assert_type(event, ClickedEvent)
        assert_type(event["url"], str | None)
    elif event["type"] == "email.complained":
        assert_type(event, ComplainedEvent)
        assert_type(event["feedback_type"], str | None)
    elif event["type"] == "email.delivered":
        assert_type(event, DeliveredEvent)
        event["reason"]  # type: ignore[typeddict-item]  # a delivery has no reason
    elif event["type"] == "inbound.received":
        assert_type(event, InboundEvent)
        assert_type(event["inbound_id"], int | None)
        assert_type(InboundMessage.from_event(event).from_, EmailAddress | None)
    elif event["type"] == "unknown":
        assert_type(event, UnknownEvent)
        assert_type(event["name"], str | None)


def tracking_only(event: TrackingEvent) -> None:
    assert_type(event["recipient"], str | None)
    if event["type"] == "email.bounced":
        assert_type(event, BouncedEvent)


def routing(router: WebhookRouter, body: bytes) -> None:
    @router.on("email.bounced")
    def bounced(event: BouncedEvent) -> None: ...

    @router.on("email.clicked", "email.opened")
    async def engaged(event: Event) -> None: ...

    @router.catch_all
    def rest(event: Event) -> None: ...

    unchanged: Callable[[BouncedEvent], None] = bounced  # the function is handed back
    unchanged(BouncedEvent(type="email.bounced", id=None, timestamp=None, raw={}, email_id=None,
                           recipient=None, to=[], subject=None, tags=[], metadata={},
                           reason=None))  # fmt: skip
    assert_type(router.handle(body, {}), WebhookResponse)
    assert_type(parse_event({"type": "email.sent"}), Event)

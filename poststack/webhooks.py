"""Receiving PostStack's webhook deliveries: verified, typed, routed, never handled twice.

PostStack signs each delivery with HMAC-SHA256 over the raw request body and
sends it as ``X-PostStack-Signature: sha256=<hex>`` (two comma-separated
signatures while a rotated secret's grace window is open). Verify the body
bytes exactly as received, before parsing them::

    from poststack.webhooks import WebhookVerificationError, construct_event

    try:
        event = construct_event(request.body, request.headers, secret)
    except WebhookVerificationError:  # bad signature, or (WebhookPayloadError) not JSON
        return 401
    if event["type"] == "email.bounced":
        print(event["email_id"], event["recipient"], event["reason"])

``construct_event`` returns one of the typed events of :data:`Event`, which
type checkers narrow on ``event["type"]``; an unknown type is an
:class:`UnknownEvent`, and ``event["raw"]`` keeps the payload whole.
:class:`WebhookRouter` does the whole job (verify, de-duplicate, dispatch) for
any framework; ``poststack.contrib`` plugs it into Django, Flask, Starlette and
FastAPI. ``verify(payload, signature_header, secret)`` is the boolean check
(also ``ps.webhooks.verify``); ``sign`` computes the header value PostStack
would send, for tests. Verification and parsing are pure, in the core.
"""

from __future__ import annotations

from poststack_core import (
    INBOUND_EVENT_TYPE,
    SIGNATURE_HEADER,
    TRACKING_EVENT_TYPES,
    BouncedEvent,
    ClickedEvent,
    ComplainedEvent,
    DeferredEvent,
    DeliveredEvent,
    Event,
    FailedEvent,
    InboundEvent,
    OpenedEvent,
    QueuedEvent,
    Secret,
    SentEvent,
    SoftBouncedEvent,
    TrackingEvent,
    TrackingEventType,
    UnknownEvent,
    UnsubscribedEvent,
    WebhookPayloadError,
    WebhookVerificationError,
    construct_event,
    parse_event,
    sign,
    verify,
)

from ._event_store import Claim, EventStore, MemoryEventStore
from ._webhook_router import (
    DEFAULT_MAX_BODY_SIZE,
    DELIVERY_HEADER,
    WEBHOOK_SECRET_ENV,
    Handler,
    WebhookResponse,
    WebhookRouter,
)

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "DELIVERY_HEADER",
    "INBOUND_EVENT_TYPE",
    "SIGNATURE_HEADER",
    "TRACKING_EVENT_TYPES",
    "WEBHOOK_SECRET_ENV",
    "BouncedEvent",
    "Claim",
    "ClickedEvent",
    "ComplainedEvent",
    "DeferredEvent",
    "DeliveredEvent",
    "Event",
    "EventStore",
    "FailedEvent",
    "Handler",
    "InboundEvent",
    "MemoryEventStore",
    "OpenedEvent",
    "QueuedEvent",
    "Secret",
    "SentEvent",
    "SoftBouncedEvent",
    "TrackingEvent",
    "TrackingEventType",
    "UnknownEvent",
    "UnsubscribedEvent",
    "WebhookPayloadError",
    "WebhookResponse",
    "WebhookRouter",
    "WebhookVerificationError",
    "construct_event",
    "parse_event",
    "sign",
    "verify",
]


def _show_public_module() -> None:
    # The classes defined in private modules show this one, where callers import
    # them from, in reprs, tracebacks and pickles.
    for name in __all__:
        public = globals()[name]
        if isinstance(public, type) and public.__module__.startswith("poststack._"):
            public.__module__ = __name__


_show_public_module()
del _show_public_module

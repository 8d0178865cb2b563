"""poststack_core: the PostStack protocol with no I/O.

It builds requests, parses responses and decides retries as a state machine
(:class:`Call`), and never touches a socket, a clock or a random source of its
own: drivers pass those in. Any runtime can embed it.
"""

from ._call import EVENTS, Call, Done, Fail, Send, State, Wait
from ._config import DEFAULT_BASE_URL, DEFAULT_TIMEOUT, ClientConfig, is_loopback_host
from ._errors import (
    AttemptTimedOut,
    CallStateError,
    ConnectFailed,
    ConnectionBroken,
    PostStackConnectionError,
    PostStackError,
    PostStackTimeoutError,
    SendManyError,
    TransportFailure,
    WebhookPayloadError,
    WebhookVerificationError,
)
from ._events import (
    INBOUND_EVENT_TYPE,
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
    SentEvent,
    SoftBouncedEvent,
    TrackingEvent,
    TrackingEventType,
    UnknownEvent,
    UnsubscribedEvent,
    event_name,
    parse_event,
)
from ._idempotency import idempotency_key_from
from ._messages import Request, Response
from ._operation import NO_BODY, Operation, Plan, ResponseKind
from ._parse import error_from_response, parse_success
from ._retry_after import parse_http_date, parse_retry_after
from ._retry_policy import DEFAULT_MAX_RETRIES, QUOTA_CODES, RetryPolicy, validate_max_retries
from ._webhooks import SIGNATURE_HEADER, Secret, check_secrets, construct_event, sign, verify

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "EVENTS",
    "INBOUND_EVENT_TYPE",
    "NO_BODY",
    "QUOTA_CODES",
    "SIGNATURE_HEADER",
    "TRACKING_EVENT_TYPES",
    "AttemptTimedOut",
    "BouncedEvent",
    "Call",
    "CallStateError",
    "ClickedEvent",
    "ClientConfig",
    "ComplainedEvent",
    "ConnectFailed",
    "ConnectionBroken",
    "DeferredEvent",
    "DeliveredEvent",
    "Done",
    "Event",
    "Fail",
    "FailedEvent",
    "InboundEvent",
    "OpenedEvent",
    "Operation",
    "Plan",
    "PostStackConnectionError",
    "PostStackError",
    "PostStackTimeoutError",
    "QueuedEvent",
    "Request",
    "Response",
    "ResponseKind",
    "RetryPolicy",
    "Secret",
    "Send",
    "SendManyError",
    "SentEvent",
    "SoftBouncedEvent",
    "State",
    "TrackingEvent",
    "TrackingEventType",
    "TransportFailure",
    "UnknownEvent",
    "UnsubscribedEvent",
    "Wait",
    "WebhookPayloadError",
    "WebhookVerificationError",
    "check_secrets",
    "construct_event",
    "error_from_response",
    "event_name",
    "idempotency_key_from",
    "is_loopback_host",
    "parse_event",
    "parse_http_date",
    "parse_retry_after",
    "parse_success",
    "sign",
    "validate_max_retries",
    "verify",
]


def _show_public_module() -> None:
    # Public classes show where callers import them from (poststack_core.Call), not
    # the private module that defines them, in reprs, tracebacks and pickles.
    for name in __all__:
        public = globals()[name]
        if isinstance(public, type) and public.__module__.startswith(f"{__name__}._"):
            public.__module__ = __name__


_show_public_module()
del _show_public_module

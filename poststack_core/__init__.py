"""poststack_core: the PostStack protocol with no I/O.

It builds requests, parses responses and decides retries as a state machine
(:class:`Call`), and never touches a socket, a clock or a random source of its
own: drivers pass those in. Any runtime can embed it.

The public API, everything a driver, a transport or a façade needs:

- running one call: :class:`Call` and the actions it answers with
  (:class:`Send`, :class:`Wait`, :class:`Done`, :class:`Fail`), fed
  :class:`Response` values or :class:`TransportFailure` subclasses;
- what to run: :class:`Operation` (one request) and :class:`Plan` (several),
  built by the endpoint definitions in :mod:`poststack_core.endpoints`;
  :class:`PagedCall` for walking a list page by page;
- configuration: :class:`ClientConfig` and :class:`RetryPolicy`;
- observing: :class:`Attempt` (one attempt, described by ``Call.record()``),
  :class:`RateLimit` (what a response says of the rate limit),
  :class:`RawResponse` (a value with its response: ``Call.raw_response()``)
  and :func:`operation_name` (``"emails.send"``);
- webhooks: signatures (:func:`verify`, :func:`sign`), and deliveries verified
  and parsed into typed events (:func:`construct_event`, :func:`parse_event`,
  :data:`Event` and its members);
- the errors a caller sees, and the resource machinery
  (:class:`Resource`, :class:`Binder`, the descriptors) that turns every
  definition into a blocking or an async method;
- pacing: :class:`Pacing` (a policy) and :class:`Pacer` (one client's shared
  limiter: "wait how long before the next request?");
- bulk sending: :func:`plan_send_many` cuts an input into chunks (:class:`Chunk`)
  with deterministic Idempotency-Keys (a :class:`SendManyPlan`),
  :class:`ChunkSend` sends one chunk and :class:`SendManyRun` keeps a whole
  run (both state machines), ending in a :class:`SendManyResult` of
  :class:`EmailResult` per email; :class:`SendMany` is what ``emails.send_many``
  hands a client to run.
"""

from ._attempt import Attempt, RateLimit, RawResponse
from ._bulk_plan import (
    BATCH_LIMIT,
    Chunk,
    SendManyPlan,
    chunk_operation,
    manifest_operation,
    plan_send_many,
)
from ._bulk_results import (
    EmailResult,
    Progress,
    RunChangedError,
    SendManyError,
    SendManyResult,
    Status,
)
from ._bulk_run import SPLIT_STATUSES, CancelFlag, ChunkSend, SendMany, SendManyRun
from ._call import Action, Call, Done, Fail, Send, State, Wait
from ._config import DEFAULT_BASE_URL, DEFAULT_TIMEOUT, ClientConfig, is_loopback_host
from ._errors import (
    AttemptTimedOut,
    CallStateError,
    ConnectFailed,
    ConnectionBroken,
    PostStackConnectionError,
    PostStackError,
    PostStackTimeoutError,
    ResponseTooLarge,
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
    parse_event,
)
from ._idempotency import idempotency_key_from
from ._journal import JournalError
from ._messages import DEFAULT_MAX_RESPONSE_BYTES, Request, Response
from ._operation import Operation, Plan, ResponseKind
from ._pacing import Pacer, Pacing
from ._pagination import PagedCall
from ._resource import (
    Async,
    Binder,
    Mode,
    RawAsync,
    RawSync,
    Resource,
    Sync,
    bulk,
    endpoint,
    operation_name,
    pages,
    planned,
)
from ._retry_policy import DEFAULT_MAX_RETRIES, RetryPolicy
from ._webhooks import SIGNATURE_HEADER, Secret, check_secrets, construct_event, sign, verify

__all__ = [
    "BATCH_LIMIT",
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "INBOUND_EVENT_TYPE",
    "SIGNATURE_HEADER",
    "SPLIT_STATUSES",
    "TRACKING_EVENT_TYPES",
    "Action",
    "Async",
    "Attempt",
    "AttemptTimedOut",
    "Binder",
    "BouncedEvent",
    "Call",
    "CallStateError",
    "CancelFlag",
    "Chunk",
    "ChunkSend",
    "ClickedEvent",
    "ClientConfig",
    "ComplainedEvent",
    "ConnectFailed",
    "ConnectionBroken",
    "DeferredEvent",
    "DeliveredEvent",
    "Done",
    "EmailResult",
    "Event",
    "Fail",
    "FailedEvent",
    "InboundEvent",
    "JournalError",
    "Mode",
    "OpenedEvent",
    "Operation",
    "Pacer",
    "Pacing",
    "PagedCall",
    "Plan",
    "PostStackConnectionError",
    "PostStackError",
    "PostStackTimeoutError",
    "Progress",
    "QueuedEvent",
    "RateLimit",
    "RawAsync",
    "RawResponse",
    "RawSync",
    "Request",
    "Resource",
    "Response",
    "ResponseKind",
    "ResponseTooLarge",
    "RetryPolicy",
    "RunChangedError",
    "Secret",
    "Send",
    "SendMany",
    "SendManyError",
    "SendManyPlan",
    "SendManyResult",
    "SendManyRun",
    "SentEvent",
    "SoftBouncedEvent",
    "State",
    "Status",
    "Sync",
    "TrackingEvent",
    "TrackingEventType",
    "TransportFailure",
    "UnknownEvent",
    "UnsubscribedEvent",
    "Wait",
    "WebhookPayloadError",
    "WebhookVerificationError",
    "bulk",
    "check_secrets",
    "chunk_operation",
    "construct_event",
    "endpoint",
    "idempotency_key_from",
    "is_loopback_host",
    "manifest_operation",
    "operation_name",
    "pages",
    "parse_event",
    "plan_send_many",
    "planned",
    "sign",
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

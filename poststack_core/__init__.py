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
- the errors a caller sees, webhook signatures, and the resource machinery
  (:class:`Resource`, :class:`Binder`, the descriptors) that turns every
  definition into a blocking or an async method.
"""

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
    SendManyError,
    TransportFailure,
    WebhookPayloadError,
    WebhookVerificationError,
)
from ._idempotency import idempotency_key_from
from ._messages import DEFAULT_MAX_RESPONSE_BYTES, Request, Response
from ._operation import Operation, Plan, ResponseKind
from ._pagination import PagedCall
from ._resource import Async, Binder, Mode, Resource, Sync, endpoint, pages, planned
from ._retry_policy import DEFAULT_MAX_RETRIES, RetryPolicy
from ._webhooks import SIGNATURE_HEADER, construct_event, sign, verify

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "SIGNATURE_HEADER",
    "Action",
    "Async",
    "AttemptTimedOut",
    "Binder",
    "Call",
    "CallStateError",
    "ClientConfig",
    "ConnectFailed",
    "ConnectionBroken",
    "Done",
    "Fail",
    "Mode",
    "Operation",
    "PagedCall",
    "Plan",
    "PostStackConnectionError",
    "PostStackError",
    "PostStackTimeoutError",
    "Request",
    "Resource",
    "Response",
    "ResponseKind",
    "ResponseTooLarge",
    "RetryPolicy",
    "Send",
    "SendManyError",
    "State",
    "Sync",
    "TransportFailure",
    "Wait",
    "WebhookPayloadError",
    "WebhookVerificationError",
    "construct_event",
    "endpoint",
    "idempotency_key_from",
    "is_loopback_host",
    "pages",
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

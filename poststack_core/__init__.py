"""poststack_core: the PostStack protocol with no I/O.

It builds requests, parses responses and decides retries as a state machine
(:class:`Call`), and never touches a socket, a clock or a random source of its
own: drivers pass those in. Any runtime can embed it.
"""

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
    TransportFailure,
    WebhookPayloadError,
    WebhookVerificationError,
)
from ._idempotency import idempotency_key_from
from ._journal import JournalError
from ._messages import Request, Response
from ._operation import NO_BODY, Operation, Plan, ResponseKind
from ._pacing import Pacer, Pacing
from ._parse import error_from_response, parse_success
from ._retry_after import parse_http_date, parse_retry_after
from ._retry_policy import DEFAULT_MAX_RETRIES, QUOTA_CODES, RetryPolicy, validate_max_retries
from ._webhooks import SIGNATURE_HEADER, construct_event, sign, verify

__all__ = [
    "BATCH_LIMIT",
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "EVENTS",
    "NO_BODY",
    "QUOTA_CODES",
    "SIGNATURE_HEADER",
    "SPLIT_STATUSES",
    "AttemptTimedOut",
    "Call",
    "CallStateError",
    "CancelFlag",
    "Chunk",
    "ChunkSend",
    "ClientConfig",
    "ConnectFailed",
    "ConnectionBroken",
    "Done",
    "EmailResult",
    "Fail",
    "JournalError",
    "Operation",
    "Pacer",
    "Pacing",
    "Plan",
    "PostStackConnectionError",
    "PostStackError",
    "PostStackTimeoutError",
    "Progress",
    "Request",
    "Response",
    "ResponseKind",
    "RetryPolicy",
    "RunChangedError",
    "Send",
    "SendMany",
    "SendManyError",
    "SendManyPlan",
    "SendManyResult",
    "SendManyRun",
    "State",
    "Status",
    "TransportFailure",
    "Wait",
    "WebhookPayloadError",
    "WebhookVerificationError",
    "chunk_operation",
    "construct_event",
    "error_from_response",
    "idempotency_key_from",
    "is_loopback_host",
    "manifest_operation",
    "parse_http_date",
    "parse_retry_after",
    "parse_success",
    "plan_send_many",
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

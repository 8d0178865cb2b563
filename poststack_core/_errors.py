"""Every exception a caller of poststack can see, and the transport failures drivers report."""

from __future__ import annotations

from collections.abc import Mapping

from ._retry_policy import DEFAULT_POLICY


class PostStackError(Exception):
    """An API call failed.

    ``status_code`` is the HTTP status of the last response (0 when none came
    back), ``error`` the human message, ``code`` the stable machine code to
    branch on (or None), ``request_id`` the server's ``x-request-id``,
    ``headers`` every response header (lower-case names) and ``retry_after`` the
    parsed ``Retry-After`` in seconds, when the server sent a usable one.

    Two answers of the retry policy come with it, so code that re-queues work
    (task queues, outboxes) never re-derives them: ``retryable`` is True when
    the same request may succeed if sent again later (no response at all, a
    5xx, a 408, a throttling 429, a garbled 2xx), and ``is_quota`` is True for a
    429 that is a plan quota or send cap, which no retry within hours cures.
    Both default to what the standard policy says of the other fields.
    """

    status_code: int
    error: str
    code: str | None
    request_id: str | None
    headers: Mapping[str, str]
    retry_after: float | None
    retryable: bool
    is_quota: bool

    def __init__(
        self,
        status_code: int,
        error: str,
        code: str | None = None,
        request_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        retry_after: float | None = None,
        *,
        retryable: bool | None = None,
        is_quota: bool | None = None,
    ) -> None:
        super().__init__(error)
        self.status_code = status_code
        self.error = error
        self.code = code
        self.request_id = request_id
        self.headers = dict(headers) if headers else {}
        self.retry_after = retry_after
        if is_quota is None:
            is_quota = DEFAULT_POLICY.is_quota(status_code, code, retry_after)
        if retryable is None:
            retryable = DEFAULT_POLICY.is_retryable(status_code, code, retry_after)
        self.is_quota = is_quota
        self.retryable = retryable

    def __str__(self) -> str:
        # "422 validation_error: Invalid email address (request req_1)"; ``error``
        # stays the bare message for callers who format their own.
        head = " ".join(part for part in (str(self.status_code or ""), self.code or "") if part)
        text = f"{head}: {self.error}" if head else self.error
        return f"{text} (request {self.request_id})" if self.request_id else text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code}, error={self.error!r}, "
            f"code={self.code!r}, request_id={self.request_id!r}, "
            f"retry_after={self.retry_after!r})"
        )

    def __reduce__(self) -> tuple[object, ...]:
        # Exceptions cross process boundaries (Celery, multiprocessing): keep every field.
        fields = (
            self.status_code,
            self.error,
            self.code,
            self.request_id,
            self.headers,
            self.retry_after,
        )
        return (type(self), fields, self.__dict__)


class PostStackConnectionError(PostStackError):
    """No HTTP response came back (refused, reset, garbled) after every retry.

    ``status_code`` is 0; the transport library's own exception is ``__cause__``.
    """


class PostStackTimeoutError(PostStackConnectionError):
    """The last attempt ran out of time before a whole response arrived."""


class CallStateError(RuntimeError):
    """A driver fed a :class:`~poststack_core.Call` an event its state does not allow.

    This is a bug in the driver, never in the caller's input; the Call stays
    broken afterwards, as an h11 connection does.
    """


class WebhookVerificationError(ValueError):
    """A webhook delivery must not be processed: its signature is missing or does not match,
    or (:class:`WebhookPayloadError`) the signed payload is not a JSON object."""


class WebhookPayloadError(WebhookVerificationError):
    """The signature matched, but the payload is not a JSON object (invalid, too deep, ...)."""


class TransportFailure(Exception):
    """Base of the closed set of failures a transport reports for one attempt.

    Transports raise a subclass ``from`` their library's exception, so the
    original stays reachable as ``__cause__``.
    """


class ConnectFailed(TransportFailure):
    """The connection could not be made: the request surely never left."""


class AttemptTimedOut(TransportFailure):
    """The attempt's deadline passed before a whole response arrived."""


class ConnectionBroken(TransportFailure):
    """The connection broke, or the reply was not HTTP, after the request may have landed."""


class ResponseTooLarge(TransportFailure):
    """The response is larger than the request's ``max_response_bytes``; reading stopped.

    ``status`` and ``headers`` are the response head, which had arrived.
    Unlike the other failures this one is not retried: the same request would
    most likely get the same answer.
    """

    status: int
    headers: tuple[tuple[str, str], ...]

    def __init__(self, status: int, headers: tuple[tuple[str, str], ...], limit: int) -> None:
        super().__init__(f"the response is larger than max_response_bytes ({limit} bytes)")
        self.status = status
        self.headers = headers

"""OpenTelemetry traces of every PostStack call: ``PostStackInstrumentor().instrument()``.

::

    # pip install "poststack[opentelemetry]>=1"   (opentelemetry-api)
    from poststack.contrib.opentelemetry import PostStackInstrumentor

    PostStackInstrumentor().instrument()    # every client, sync and async, from now on

Each call is one span named after its operation (``emails.send``, kind
INTERNAL) and each attempt of it one child span (kind CLIENT), named after
its HTTP method as the HTTP client semantic conventions name a request with
no route template (``POST``). An attempt span carries
``http.request.method``, ``server.address``, ``server.port``, ``url.full``,
``url.path``, ``url.scheme``, ``http.response.status_code``,
``http.request.resend_count`` (on retries: 1 for the first), ``error.type``
(the status, such as ``"503"``, or the failure's code, such as
``"connect_error"``), ``poststack.request_id`` and the stated
``poststack.rate_limit.*``; an attempt the call retries also gets a
``poststack.retry`` event with the wait in ``poststack.retry.wait``
(seconds). The call's span carries ``poststack.operation``,
``poststack.idempotency_key``, ``poststack.attempts``, the last
``poststack.request_id`` and, when the call failed, ``error.type``, an ERROR
status and the exception. No span holds the API key or any request header.

Spans follow the context: a call made inside a span of yours (in a thread,
an asyncio task, a trio task) is that span's child, and while an attempt is
sent its span is the current one, so spans of an instrumented HTTP library
below nest under it. ``instrument(propagate=True)`` also sends each attempt's
trace context to the API in a W3C ``traceparent`` (and ``tracestate``)
header; it is off by default, so that no trace ids leave your system unless
you say so. ``tracer_provider=`` picks a provider other than the global one.

Tracing never changes a call: the instrumentation's own failures are logged
and the call goes on. Like OpenTelemetry's instrumentors, the instrumentor is
one object per process: ``PostStackInstrumentor()`` returns it, and
``instrument()`` while instrumented (or ``uninstrument()`` while not) logs a
warning and does nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from contextvars import Token
from typing import Any
from urllib.parse import urlsplit

from opentelemetry import context, trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from poststack import __version__
from poststack._observing import CallTrace, current_tracer, set_tracer
from poststack.transports._environment import DEFAULT_PORTS
from poststack_core import Attempt, Call, PostStackError

__all__ = ["PostStackInstrumentor"]

_log = logging.getLogger("poststack.contrib.opentelemetry")
# The semantic conventions these attribute names follow (HTTP spans are stable since 1.23).
SCHEMA_URL = "https://opentelemetry.io/schemas/1.26.0"
_PROPAGATOR = TraceContextTextMapPropagator()


class PostStackInstrumentor:
    """Turns tracing of every PostStack call on (:meth:`instrument`) and off again.

    One per process, as OpenTelemetry's instrumentors are:
    ``PostStackInstrumentor()`` always returns the same object.
    """

    _instance: PostStackInstrumentor | None = None
    _lock = threading.Lock()
    _tracer: _Tracer | None

    def __new__(cls) -> PostStackInstrumentor:
        with cls._lock:
            if cls._instance is None:
                instance = super().__new__(cls)
                instance._tracer = None
                cls._instance = instance
            return cls._instance

    @property
    def is_instrumented_by_opentelemetry(self) -> bool:
        """Whether :meth:`instrument` is in effect."""
        return self._tracer is not None and current_tracer() is self._tracer

    def instrument(
        self, *, tracer_provider: TracerProvider | None = None, propagate: bool = False
    ) -> None:
        """Trace every call of every client from now on.

        ``tracer_provider`` defaults to the global one (set before or after
        this call). ``propagate=True`` sends each attempt's trace context in
        a ``traceparent`` header.
        """
        if not isinstance(propagate, bool):
            raise TypeError(f"propagate must be True or False, got {propagate!r}")
        with self._lock:
            if self.is_instrumented_by_opentelemetry:
                _log.warning("PostStack is already instrumented: instrument() does nothing")
                return
            tracer = trace.get_tracer(
                "poststack", __version__, tracer_provider, schema_url=SCHEMA_URL
            )
            self._tracer = _Tracer(tracer, propagate)
            set_tracer(self._tracer)

    def uninstrument(self) -> None:
        """Stop tracing: calls that start from now on make no spans."""
        with self._lock:
            if not self.is_instrumented_by_opentelemetry:
                _log.warning("PostStack is not instrumented: uninstrument() does nothing")
                return
            set_tracer(None)
            self._tracer = None


class _Tracer:
    """The tracer the drivers see (``poststack._observing.Tracer``): one trace per call."""

    def __init__(self, tracer: trace.Tracer, propagate: bool) -> None:
        self.tracer = tracer
        self.propagate = propagate

    def start_call(self, call: Call[Any]) -> CallTrace:
        return _CallTrace(self, call)


class _CallTrace:
    """The spans of one call: the call's, current throughout; each attempt's in turn."""

    def __init__(self, owner: _Tracer, call: Call[Any]) -> None:
        self._owner = owner
        attributes: dict[str, Any] = {"poststack.operation": call.name}
        if call.idempotency_key is not None:
            attributes["poststack.idempotency_key"] = call.idempotency_key
        self._span = owner.tracer.start_span(
            call.name or "poststack", kind=SpanKind.INTERNAL, attributes=attributes
        )
        self._token = context.attach(trace.set_span_in_context(self._span))
        self._attempt: tuple[Span, Token[Context]] | None = None

    def attempt_started(self, record: Attempt) -> Sequence[tuple[str, str]]:
        span = self._owner.tracer.start_span(
            record.method, kind=SpanKind.CLIENT, attributes=_request_attributes(record)
        )
        span_context = trace.set_span_in_context(span)
        self._attempt = (span, context.attach(span_context))
        if not self._owner.propagate:
            return ()
        carrier: dict[str, str] = {}
        _PROPAGATOR.inject(carrier, context=span_context)
        return tuple(carrier.items())

    def attempt_ended(self, record: Attempt) -> None:
        span = self._end_attempt()
        if span is None:
            return
        if record.status is not None:
            span.set_attribute("http.response.status_code", record.status)
        if record.request_id is not None:
            span.set_attribute("poststack.request_id", record.request_id)
        limit = record.rate_limit
        if limit is not None:
            for name, value in (
                ("limit", limit.limit),
                ("remaining", limit.remaining),
                ("reset", limit.reset),
            ):
                if value is not None:
                    span.set_attribute(f"poststack.rate_limit.{name}", value)
        error = record.error
        if error is not None:
            span.set_attribute("error.type", _error_type(error))
            # An error status says it all; a failure without one says what happened.
            said = error.status_code >= 400
            span.set_status(Status(StatusCode.ERROR, None if said else error.error))
        if record.wait is not None:
            span.add_event("poststack.retry", {"poststack.retry.wait": record.wait})
        span.end()

    def ended(self, record: Attempt | None, error: BaseException | None) -> None:
        span = self._span
        try:
            unfinished = self._end_attempt()
            if unfinished is not None:  # the call stopped mid-attempt (cancelled, interrupted)
                unfinished.set_attribute("error.type", _exception_type(error))
                unfinished.set_status(Status(StatusCode.ERROR))
                unfinished.end()
            if record is not None:
                span.set_attribute("poststack.attempts", record.attempt)
                if record.request_id is not None:
                    span.set_attribute("poststack.request_id", record.request_id)
            if error is not None:
                if isinstance(error, PostStackError):
                    span.set_attribute("error.type", _error_type(error))
                    span.set_status(Status(StatusCode.ERROR, str(error)))
                else:
                    span.set_attribute("error.type", _exception_type(error))
                    span.set_status(Status(StatusCode.ERROR, type(error).__name__))
                span.record_exception(error)
        finally:
            span.end()
            context.detach(self._token)

    def _end_attempt(self) -> Span | None:
        """The attempt's span, no longer current (None when no attempt is open)."""
        attempt, self._attempt = self._attempt, None
        if attempt is None:
            return None
        span, token = attempt
        context.detach(token)
        return span


def _request_attributes(record: Attempt) -> dict[str, Any]:
    url = urlsplit(record.url)
    scheme = url.scheme
    attributes: dict[str, Any] = {
        "http.request.method": record.method,
        "server.address": url.hostname or "",
        "server.port": url.port or DEFAULT_PORTS.get(scheme, 0),
        "url.full": record.url,
        "url.path": record.path,
        "url.scheme": scheme,
    }
    if record.attempt > 1:
        attributes["http.request.resend_count"] = record.attempt - 1
    return attributes


def _error_type(error: PostStackError) -> str:
    """``error.type``: the status when the API answered with an error, else the error's code."""
    if error.status_code >= 400:
        return str(error.status_code)
    return error.code or type(error).__qualname__


def _exception_type(error: BaseException | None) -> str:
    return "_OTHER" if error is None else type(error).__qualname__

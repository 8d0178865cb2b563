"""poststack.contrib.opentelemetry against the OpenTelemetry SDK's in-memory exporter.

Every test instruments with a tracer provider of its own and reads the spans
that provider exported: their names, kinds, parents, attributes, events and
statuses. The API answers from a fault server on a loopback port (real HTTP
through every transport), or from the sandbox.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import trio
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from poststack import AsyncPostStack, PostStack, PostStackError
from poststack.contrib.opentelemetry import PostStackInstrumentor
from poststack.transports.httpx import AsyncHttpxTransport
from poststack.transports.trio import TrioTransport
from tests.conformance.runtimes import RUNTIMES, Runtime, Step
from tests.faultserver import FaultServer, Hang, RecordedRequest, Reply

API_KEY = "sk_test_otel_secret_key"
EMAIL = {"from": "a@example.com", "to": ["b@example.com"], "subject": "Hi", "text": "Hello"}
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")


class Traces:
    """A tracer provider of the test's own, instrumented, and what it exported."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider()
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.tracer = self.provider.get_tracer("tests")

    @property
    def spans(self) -> list[ReadableSpan]:
        """Every finished span, in the order they ended."""
        return list(self.exporter.get_finished_spans())

    def named(self, name: str) -> list[ReadableSpan]:
        return [span for span in self.spans if span.name == name]


@pytest.fixture
def traces() -> Iterator[Traces]:
    found = Traces()
    instrumentor = PostStackInstrumentor()
    instrumentor.instrument(tracer_provider=found.provider)
    try:
        yield found
    finally:
        instrumentor.uninstrument()


@pytest.fixture
def propagating() -> Iterator[Traces]:
    found = Traces()
    instrumentor = PostStackInstrumentor()
    instrumentor.instrument(tracer_provider=found.provider, propagate=True)
    try:
        yield found
    finally:
        instrumentor.uninstrument()


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as fault_server:
        yield fault_server


def parent_of(span: ReadableSpan) -> int | None:
    return None if span.parent is None else span.parent.span_id


def span_id(span: ReadableSpan) -> int:
    assert span.context is not None
    return span.context.span_id


def trace_id(span: ReadableSpan) -> int:
    assert span.context is not None
    return span.context.trace_id


# -- the exact spans of a call retried twice, on every transport ------------------------


@pytest.mark.parametrize("runtime", RUNTIMES, ids=lambda runtime: runtime.name)
def test_500_500_200_makes_these_spans_on_every_runtime(
    runtime: Runtime, traces: Traces, server: FaultServer
) -> None:
    server.script(
        Reply(500, {"error": "boom", "code": "internal_error"}),
        Reply(500, {"error": "boom", "code": "internal_error"}, {"x-ratelimit-remaining": "4"}),
        Reply(202, {"id": "em_1"}, {"x-ratelimit-limit": "10", "x-ratelimit-remaining": "3"}),
    )
    (outcome,) = runtime.run(server.url, [Step("send", (EMAIL,))], timeout=10, max_retries=3)
    assert outcome.error is None
    assert outcome.value == {"id": "em_1"}

    first, second, third, call = traces.spans
    key = server.requests[0].headers["idempotency-key"]
    assert UUID.match(key)
    assert (call.name, call.kind, call.parent) == ("emails.send", SpanKind.INTERNAL, None)
    assert dict(call.attributes or {}) == {
        "poststack.operation": "emails.send",
        "poststack.idempotency_key": key,
        "poststack.attempts": 3,
        "poststack.request_id": "req_3",
    }
    assert call.status.status_code is StatusCode.UNSET
    assert call.events == ()

    request = {
        "http.request.method": "POST",
        "server.address": "127.0.0.1",
        "server.port": server.port,
        "url.full": f"{server.url}/emails",
        "url.path": "/emails",
        "url.scheme": "http",
    }
    failed = {"http.response.status_code": 500, "error.type": "500"}
    assert dict(first.attributes or {}) == {**request, **failed, "poststack.request_id": "req_1"}
    assert dict(second.attributes or {}) == {
        **request,
        **failed,
        "http.request.resend_count": 1,
        "poststack.request_id": "req_2",
        "poststack.rate_limit.remaining": 4,
    }
    assert dict(third.attributes or {}) == {
        **request,
        "http.response.status_code": 202,
        "http.request.resend_count": 2,
        "poststack.request_id": "req_3",
        "poststack.rate_limit.limit": 10,
        "poststack.rate_limit.remaining": 3,
    }
    for attempt in (first, second, third):
        assert (attempt.name, attempt.kind) == ("POST", SpanKind.CLIENT)
        assert parent_of(attempt) == span_id(call)
        assert trace_id(attempt) == trace_id(call)
    for retried, ceiling in ((first, 0.25), (second, 0.5)):  # full jitter below 0.25 s x 2^k
        assert retried.status.status_code is StatusCode.ERROR
        assert retried.status.description is None  # the status code says it
        (event,) = retried.events
        assert event.name == "poststack.retry"
        assert set(event.attributes or {}) == {"poststack.retry.wait"}
        assert 0 <= (event.attributes or {})["poststack.retry.wait"] < ceiling
    assert third.status.status_code is StatusCode.UNSET
    assert third.events == ()
    # Each attempt span covers its request only: they follow one another inside the call.
    times = [(span.start_time or 0, span.end_time or 0) for span in (call, first, second, third)]
    (call_start, call_end), *attempts = times
    assert all(start and end for start, end in times)
    assert call_start <= attempts[0][0]
    assert all(end <= start for (_, end), (start, _) in itertools.pairwise(attempts))
    assert attempts[-1][1] <= call_end


# -- failures -------------------------------------------------------------------------------


def test_a_failed_call_is_an_error_span_with_the_exception(
    traces: Traces, server: FaultServer
) -> None:
    server.script(Reply(422, {"error": "Invalid 'from'", "code": "validation_error"}))
    with PostStack(API_KEY, server.url) as ps, pytest.raises(PostStackError):
        ps.emails.send(EMAIL)
    attempt, call = traces.spans
    assert call.status.status_code is StatusCode.ERROR
    assert call.status.description == "422 validation_error: Invalid 'from' (request req_1)"
    assert (call.attributes or {})["error.type"] == "422"
    (exception,) = call.events
    assert exception.name == "exception"
    assert (exception.attributes or {})["exception.type"] == "poststack.PostStackError"
    assert (attempt.attributes or {})["error.type"] == "422"
    assert attempt.status.status_code is StatusCode.ERROR
    assert attempt.events == ()  # not retried


def test_an_attempt_without_an_answer_says_what_failed(traces: Traces) -> None:
    with (
        socket_that_refuses() as url,
        PostStack(API_KEY, url, max_retries=1) as ps,
        pytest.raises(PostStackError) as info,
    ):
        ps.emails.get("em_1")
    first, second, call = traces.spans
    assert info.value.code == "connect_error"
    for attempt in (first, second):
        attributes = dict(attempt.attributes or {})
        assert attributes["error.type"] == "connect_error"
        assert "http.response.status_code" not in attributes
        assert attempt.status.description is not None
        assert attempt.status.description.startswith("could not connect for GET")
    assert [event.name for event in first.events] == ["poststack.retry"]
    assert (call.attributes or {})["error.type"] == "connect_error"
    assert (call.name, (first.attributes or {})["url.path"]) == ("emails.get", "/emails/em_1")


class socket_that_refuses:
    """A loopback URL whose port refuses connections (bound, never listening)."""

    def __enter__(self) -> str:
        import socket

        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def __exit__(self, *exc: object) -> None:
        self._sock.close()


# -- the API key is in no span ------------------------------------------------------------


def _texts(span: ReadableSpan) -> Iterator[str]:
    yield span.name
    yield str(span.status.description)
    for key, value in (span.attributes or {}).items():
        yield f"{key}={value}"
    for event in span.events:
        yield event.name
        for key, value in (event.attributes or {}).items():
            yield f"{key}={value}"


def test_the_api_key_is_in_no_span(propagating: Traces, server: FaultServer) -> None:
    server.script(Reply(500), Reply(401, {"error": f"bad key {API_KEY[:3]}"}), Reply(202, {}))
    with PostStack(API_KEY, server.url) as ps:
        with pytest.raises(PostStackError):
            ps.emails.send(EMAIL)
        ps.emails.send(EMAIL)
    with (
        socket_that_refuses() as url,
        PostStack(API_KEY, url, max_retries=0) as ps,
        pytest.raises(PostStackError),
    ):
        ps.emails.list()
    assert len(propagating.spans) == 7
    assert server.requests[0].headers["authorization"] == f"Bearer {API_KEY}"
    for span in propagating.spans:
        for text in _texts(span):
            assert API_KEY not in text
            assert "Bearer" not in text


# -- trace context on the wire ------------------------------------------------------------


def test_no_traceparent_is_sent_unless_asked(traces: Traces, server: FaultServer) -> None:
    from opentelemetry.propagate import get_global_textmap

    assert get_global_textmap() is not None  # a global propagator exists, and is not used
    with traces.tracer.start_as_current_span("request"), PostStack(API_KEY, server.url) as ps:
        ps.emails.get("em_1")
    assert "traceparent" not in server.requests[0].headers


def test_each_attempt_sends_its_own_traceparent_when_asked(
    propagating: Traces, server: FaultServer
) -> None:
    server.script(Reply(503, headers={"Retry-After": "0"}), Reply(202, {"id": "em_1"}))
    with PostStack(API_KEY, server.url) as ps:
        ps.emails.send(EMAIL)
    first, second, call = propagating.spans
    sent = [_traceparent(request) for request in server.requests]
    assert sent == [
        (trace_id(call), span_id(first)),
        (trace_id(call), span_id(second)),
    ]
    keys = {request.headers["idempotency-key"] for request in server.requests}
    assert len(keys) == 1  # a new traceparent per attempt, the same key


def _traceparent(request: RecordedRequest) -> tuple[int, int]:
    found = TRACEPARENT.match(request.headers["traceparent"])
    assert found, request.headers["traceparent"]
    return int(found[1], 16), int(found[2], 16)


# -- parents and children under threads, asyncio and trio ---------------------------------


def _assert_each_call_under_its_parent(traces: Traces, parents: Sequence[str]) -> None:
    """Every ``emails.send`` span is the child of one parent span, its attempts its own."""
    by_id = {span_id(span): span for span in traces.spans}
    calls = traces.named("emails.send")
    assert sorted(by_id[parent_of(call) or 0].name for call in calls) == sorted(parents)
    attempts = traces.named("POST")
    assert len(attempts) == 2 * len(calls)  # each call retried once
    for call in calls:
        mine = [attempt for attempt in attempts if parent_of(attempt) == span_id(call)]
        assert len(mine) == 2
        assert {trace_id(attempt) for attempt in mine} == {trace_id(call)}
    keys = {(call.attributes or {})["poststack.idempotency_key"] for call in calls}
    assert len(keys) == len(calls)  # no call's spans mixed up with another's


def _fail_each_first_attempt(server: FaultServer) -> None:
    seen: set[str] = set()
    lock = threading.Lock()

    def handler(request: RecordedRequest) -> Reply:
        key = request.headers["idempotency-key"]
        with lock:
            first = key not in seen
            seen.add(key)
        if first:
            return Reply(503, {"error": "again"}, {"Retry-After": "0"})
        return Reply(202, {"id": f"em_{key[:8]}"})

    server.handler = handler


def test_parents_under_threads(traces: Traces, server: FaultServer) -> None:
    _fail_each_first_attempt(server)
    names = [f"job {n}" for n in range(8)]
    barrier = threading.Barrier(len(names))  # every thread inside its span at once

    def job(name: str) -> None:
        with traces.tracer.start_as_current_span(name):
            barrier.wait(timeout=30)
            ps.emails.send(EMAIL)
            assert trace.get_current_span().get_span_context().span_id != 0

    with PostStack(API_KEY, server.url) as ps, ThreadPoolExecutor(len(names)) as pool:
        for future in [pool.submit(job, name) for name in names]:
            future.result()
    _assert_each_call_under_its_parent(traces, names)


def test_parents_under_asyncio(traces: Traces, server: FaultServer) -> None:
    _fail_each_first_attempt(server)
    names = [f"task {n}" for n in range(8)]

    async def main() -> None:
        async with AsyncPostStack(API_KEY, server.url) as ps:

            async def job(name: str) -> None:
                with traces.tracer.start_as_current_span(name) as parent:
                    await ps.emails.send(EMAIL)
                    assert trace.get_current_span() is parent  # restored after the call

            await asyncio.gather(*(job(name) for name in names))

    asyncio.run(main())
    _assert_each_call_under_its_parent(traces, names)


@pytest.mark.parametrize("transport", [TrioTransport, AsyncHttpxTransport])
def test_parents_under_trio(traces: Traces, server: FaultServer, transport: type[Any]) -> None:
    _fail_each_first_attempt(server)
    names = [f"trio task {n}" for n in range(8)]

    async def main() -> None:
        own = transport()
        async with AsyncPostStack(API_KEY, server.url, transport=own) as ps:

            async def job(name: str) -> None:
                with traces.tracer.start_as_current_span(name) as parent:
                    await ps.emails.send(EMAIL)
                    assert trace.get_current_span() is parent

            async with trio.open_nursery() as nursery:
                for name in names:
                    nursery.start_soon(job, name)
        await own.aclose()

    trio.run(main)
    _assert_each_call_under_its_parent(traces, names)


def test_an_instrumented_library_below_nests_under_the_attempt(
    traces: Traces, server: FaultServer
) -> None:
    seen: list[int] = []

    class Spy:
        """A transport that records the current span, as an instrumented HTTP library would."""

        def __init__(self) -> None:
            from poststack.transports.httpx import HttpxTransport

            self.inner = HttpxTransport()

        def send(self, request: Any, timeout: float) -> Any:
            seen.append(trace.get_current_span().get_span_context().span_id)
            return self.inner.send(request, timeout)

        def close(self) -> None:
            self.inner.close()

    spy = Spy()
    with PostStack(API_KEY, server.url, transport=spy) as ps:
        ps.emails.get("em_1")
    spy.close()
    attempt, _call = traces.spans
    assert seen == [span_id(attempt)]


# -- cancellation ends every span ---------------------------------------------------------


def test_a_cancelled_call_ends_its_spans_and_restores_the_context(
    traces: Traces, server: FaultServer
) -> None:
    server.script(Hang())

    async def main() -> None:
        async with AsyncPostStack(API_KEY, server.url) as ps:
            with traces.tracer.start_as_current_span("request") as parent:
                task = asyncio.ensure_future(ps.emails.send(EMAIL))
                await asyncio.to_thread(server.wait_for_requests, 1)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                assert trace.get_current_span() is parent

    asyncio.run(main())
    attempt, call, _parent = traces.spans
    assert (attempt.attributes or {})["error.type"] == "CancelledError"
    assert (call.attributes or {})["error.type"] == "CancelledError"
    assert call.status.status_code is StatusCode.ERROR
    assert parent_of(attempt) == span_id(call)


def test_a_trio_cancel_scope_ends_the_spans(traces: Traces, server: FaultServer) -> None:
    server.script(Hang())

    async def main() -> None:
        transport = TrioTransport()
        async with AsyncPostStack(API_KEY, server.url, transport=transport) as ps:
            with trio.CancelScope() as scope:

                async def cancel_when_sent() -> None:
                    await trio.to_thread.run_sync(server.wait_for_requests, 1)
                    scope.cancel()

                async with trio.open_nursery() as nursery:
                    nursery.start_soon(cancel_when_sent)
                    await ps.emails.send(EMAIL)
            assert trace.get_current_span() is trace.INVALID_SPAN
        await transport.aclose()

    trio.run(main)
    attempt, call = traces.spans
    assert (attempt.attributes or {})["error.type"] == "Cancelled"
    assert call.status.status_code is StatusCode.ERROR


# -- instrumenting, and a tracer that fails ------------------------------------------------


def test_the_instrumentor_is_one_object_and_warns_when_asked_twice(
    server: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    found = Traces()
    instrumentor = PostStackInstrumentor()
    assert PostStackInstrumentor() is instrumentor
    assert not instrumentor.is_instrumented_by_opentelemetry
    with PostStack(API_KEY, server.url) as ps:  # made before instrumenting: traced all the same
        instrumentor.instrument(tracer_provider=found.provider)
        try:
            assert instrumentor.is_instrumented_by_opentelemetry
            with caplog.at_level(logging.WARNING, logger="poststack.contrib.opentelemetry"):
                PostStackInstrumentor().instrument(tracer_provider=TracerProvider())
            assert "already instrumented" in caplog.text
            ps.emails.get("em_1")
        finally:
            instrumentor.uninstrument()
        ps.emails.get("em_2")  # not traced
    assert [span.name for span in found.spans] == ["GET", "emails.get"]
    with caplog.at_level(logging.WARNING, logger="poststack.contrib.opentelemetry"):
        instrumentor.uninstrument()
    assert "not instrumented" in caplog.text
    with pytest.raises(TypeError, match="propagate"):
        instrumentor.instrument(propagate="yes")  # type: ignore[arg-type]


class _BrokenTracer(trace.NoOpTracer):
    def start_span(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the tracer is broken")


class _BrokenProvider(trace.NoOpTracerProvider):
    def get_tracer(self, *args: Any, **kwargs: Any) -> trace.Tracer:
        return _BrokenTracer()


def test_a_broken_tracer_never_breaks_a_call(
    server: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    instrumentor = PostStackInstrumentor()
    instrumentor.instrument(tracer_provider=_BrokenProvider())
    try:
        with (
            caplog.at_level(logging.ERROR, logger="poststack"),
            PostStack(API_KEY, server.url) as ps,
        ):
            assert ps.emails.get("em_1") == {"ok": True}
    finally:
        instrumentor.uninstrument()
    assert len(server.requests) == 1
    assert "the tracer failed to start a trace" in caplog.text
    assert "the tracer is broken" in caplog.text

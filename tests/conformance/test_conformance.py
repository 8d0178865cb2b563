"""One conformance suite for every runtime: same scenarios, same requests, same outcomes.

Each scenario runs on every runtime of ``runtimes.RUNTIMES`` against its own
scripted fault server on a loopback port. ``test_scenario`` checks what the
scenario expects; ``test_same_on_every_runtime`` compares the normalised
records of all runtimes with each other: the requests the server saw
(method, target, every header, body) and what the caller got (the value, or
the error with every attribute). Idempotency keys are random, so they are
renamed ``<key 1>``, ``<key 2>`` … in order of appearance: the same key on
every attempt of one call, a new one for each call. Errors without an HTTP
response (status 0) may carry the library's own words after the core's
prefix, so only that prefix is compared; HTTP errors are compared word for
word.
"""

from __future__ import annotations

import base64
import dataclasses
import email.utils
import gzip
import hashlib
import json
import re
import time
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from poststack import PostStackConnectionError, PostStackError, PostStackTimeoutError
from tests.faultserver import (
    Action,
    CloseAfter,
    Drip,
    Endless,
    FaultServer,
    Garbage,
    Hang,
    Interim,
    RecordedRequest,
    Reply,
    Reset,
    ResetMidBody,
    unused_port,
)

from .runtimes import RUNTIMES, Outcome, Runtime, Step

PAYLOAD = {
    "from": "Acme <hello@acme.test>",
    "to": ["ana@example.com"],
    "subject": "Welcome",
    "html": "<p>Hello</p>",
}
SEND = Step("send", (PAYLOAD,))
QUEUED = {"id": "em_1", "status": "queued"}
UTF8_PAYLOAD = {
    "from": "Zoë Åström <zoe@acme.test>",
    "to": ["张伟 <zhang@example.com>"],
    "subject": "Привет 👋 مرحبا こんにちは",
    "text": 'Ünïcödé ✓ 🚀 "quoted" \\ back\tslash\n\U0001d518\U0001d52b\U0001d526',
    "tags": ["ñandú", "日本"],
}
UTF8_REPLY = {"id": "em_ü", "subject": UTF8_PAYLOAD["subject"], "note": "ok ✓ 🎉 ﷽"}
BIG_REPLY = {"email": {"id": "em_big", "html": "é👍x" * (5 * 1024 * 1024 // 8)}}
BIG_BYTES = json.dumps(BIG_REPLY, ensure_ascii=False).encode("utf-8")
JSON_UTF8 = {"content-type": "application/json; charset=utf-8"}
BIG_PAYLOAD = {
    **PAYLOAD,
    "attachments": [
        {"filename": "report.pdf", "content": base64.b64encode(bytes(range(256)) * 4096).decode()}
    ],
}
UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
SLOW_BODY = b'{"id": "em_slow", "padding": "' + b"x" * 60 + b'"}'
GET = Step("get", ("em_1",))
UNASKED_REPLY = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 16\r\n\r\n"
    b'{"id":"em_evil"}'
)
CAP = 1024 * 1024
GZIPPED = {"email": {"id": "em_gz", "html": "<p>" + "compressible text " * 4000 + "</p>"}}
GZIP_JSON = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
# 64 MiB of zeros in about 64 KiB: it decodes to 64 times the cap of the scenario.
GZIP_BOMB = gzip.compress(bytes(64 * CAP), compresslevel=9)


def _json(obj: object) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode("utf-8")


def _http_date(seconds_from_now: float) -> str:
    return email.utils.formatdate(time.time() + seconds_from_now, usegmt=True)


# --------------------------------------------------------------------------- records


@dataclasses.dataclass
class Record:
    """What one runtime did in one scenario, normalised for comparison."""

    requests: list[dict[str, Any]]
    outcomes: list[dict[str, Any]]
    raw: list[Outcome]
    created_emails: int

    @property
    def compared(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return self.requests, self.outcomes

    @property
    def keys(self) -> list[str | None]:
        return [r["headers"].get("idempotency-key") for r in self.requests]


def _digest(value: Any) -> Any:
    """Large values as a digest, so that a failing comparison stays readable."""
    data = value if isinstance(value, bytes) else json.dumps(value, sort_keys=True).encode()
    if len(data) <= 4096:
        return value
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def normalise_requests(requests: Sequence[RecordedRequest], port: int) -> list[dict[str, Any]]:
    keys: dict[str, str] = {}
    out = []
    for request in requests:
        headers = {}
        for name, value in request.headers.items():
            if name == "idempotency-key" and UUID4.fullmatch(value):
                # A key the SDK generated; one a caller passed is compared as it is.
                value = keys.setdefault(value, f"<key {len(keys) + 1}>")
            elif name == "host":
                value = value.replace(f":{port}", ":<port>")
            headers[name] = value
        out.append(
            {
                "method": request.method,
                "target": request.target,
                "http_version": request.http_version,
                "headers": headers,
                # The order on the wire too: the core's, which no transport changes.
                "raw_names": [name.decode("latin-1").lower() for name, _ in request.raw_headers],
                "body": _digest(request.body),
            }
        )
    return out


def normalise_outcome(outcome: Outcome, port: int) -> dict[str, Any]:
    error = outcome.error
    if error is None:
        return {"value": _digest(outcome.value)}
    text = error.error
    if error.status_code == 0:
        # The core's words, before the transport library's own detail.
        text = text.split(": ", 1)[0]
    return {
        "type": type(error).__name__,
        "status_code": error.status_code,
        "error": text.replace(str(port), "<port>"),
        "code": error.code,
        "request_id": error.request_id,
        "retry_after": error.retry_after,
        "headers": dict(error.headers),
        "has_cause": error.__cause__ is not None,
    }


# --------------------------------------------------------------------------- scenarios


@dataclasses.dataclass(frozen=True)
class Scenario:
    name: str
    script: Callable[[], list[Action]]
    check: Callable[[Record], None]
    steps: tuple[Step, ...] = (SEND,)
    timeout: float = 5.0
    max_retries: int = 3
    refused: bool = False
    max_response_bytes: int | None = None

    def run(self, runtime: Runtime) -> Record:
        options: dict[str, Any] = {
            "timeout": self.timeout,
            "max_retries": self.max_retries,
            "max_response_bytes": self.max_response_bytes,
        }
        if self.refused:
            port = unused_port()
            raw = runtime.run(f"http://127.0.0.1:{port}", self.steps, **options)
            return Record([], [normalise_outcome(o, port) for o in raw], raw, 0)
        with FaultServer() as server:
            server.script(*self.script())
            raw = runtime.run(server.url, self.steps, **options)
            # The runtime has closed its connections. The server reads each request in
            # its own thread, which under load may lag behind a client that gave up
            # (a hang, a timeout): once every connection is closed, all are recorded.
            server.wait_for_open_connections(0, timeout=30)
            requests = server.requests
            port = server.port
            created = server.created_emails
        return Record(
            normalise_requests(requests, port),
            [normalise_outcome(o, port) for o in raw],
            raw,
            created,
        )


def ok(*values: Any, attempts: Sequence[int] | None = None) -> Callable[[Record], None]:
    """Every call succeeded with ``values``; ``attempts[i]`` requests for call i (default 1)."""

    def check(record: Record) -> None:
        assert [o.error for o in record.raw] == [None] * len(values)
        assert [o.value for o in record.raw] == list(values)
        _check_keys(record, attempts or [1] * len(values))

    return check


def fails(
    kind: type[PostStackError],
    status: int,
    code: str | None,
    *,
    attempts: int,
    error: str | None = None,
    retry_after: float | None = None,
    request_id: str | None = None,
    slower_than: float = 0.0,
    faster_than: float = 60.0,
) -> Callable[[Record], None]:
    def check(record: Record) -> None:
        [outcome] = record.raw
        exc = outcome.error
        assert type(exc) is kind, repr(exc)
        assert isinstance(exc, PostStackError)
        assert (exc.status_code, exc.code, exc.retry_after) == (status, code, retry_after)
        if error is not None:
            assert exc.error == error
        assert exc.request_id == request_id
        if status == 0:
            assert exc.__cause__ is not None  # the library's exception, for debugging
        assert slower_than <= outcome.seconds < faster_than, outcome.seconds
        _check_keys(record, [attempts])

    return check


def _check_keys(record: Record, attempts: Sequence[int]) -> None:
    """``attempts[i]`` requests for call i: a POST's attempts share one key, its own."""
    assert len(record.requests) == sum(attempts), record.requests
    index = 0
    seen: set[str] = set()
    for count in attempts:
        requests = record.requests[index : index + count]
        index += count
        keys = {r["headers"].get("idempotency-key") for r in requests}
        if not requests:
            continue
        if requests[0]["method"] != "POST":
            assert keys == {None}
            continue
        [key] = keys
        assert key is not None
        assert key not in seen
        seen.add(key)


def every_verb_check(record: Record) -> None:
    ok(
        {"email": QUEUED},
        {"emails": [], "pagination": {"page": 2}},
        {"rescheduled": True},
        {"success": True},
        {"id": "em_3"},
    )(record)
    assert [(r["method"], r["target"]) for r in record.requests] == [
        ("GET", "/emails/em%201%2F%C3%BC"),
        ("GET", "/emails?page=2&status=delivered&subject=a%26b%3Dc"),
        ("PATCH", "/emails/em_1"),
        ("POST", "/emails/em_1/cancel"),
        ("POST", "/emails"),
    ]
    assert record.keys == [None, None, None, "<key 1>", "order-42"]
    # Content-Length only where a body is or may be (RFC 9110 8.6); no Content-Type without one.
    assert [r["headers"].get("content-length") for r in record.requests] == [
        None,
        None,
        str(len(record.requests[2]["body"])),
        "0",
        str(len(record.requests[4]["body"])),
    ]
    # The core frames every request: Host first, then the rest as the core built them.
    for request in record.requests:
        assert request["raw_names"][0] == "host", request["raw_names"]
        assert request["headers"]["host"] == "127.0.0.1:<port>"
        assert request["headers"]["accept-encoding"] == "gzip"
    assert [r["headers"].get("content-type") for r in record.requests] == [
        None,
        None,
        "application/json",
        None,
        "application/json",
    ]


SCENARIOS = [
    Scenario("success", lambda: [Reply(202, QUEUED)], ok(QUEUED)),
    Scenario(
        "5xx_then_success",
        lambda: [Reply(503, {"error": "Try again", "code": "internal_error"}), Reply(202, QUEUED)],
        ok(QUEUED, attempts=[2]),
    ),
    Scenario(
        "5xx_exhausted",
        lambda: [
            Reply(500, {"error": "Internal error", "code": "internal_error"}),
            Reply(502, "<html>bad gateway</html>"),
        ],
        fails(PostStackError, 502, None, attempts=2, error="Bad Gateway", request_id="req_2"),
        max_retries=1,
    ),
    Scenario(
        "429_retry_after_seconds",
        lambda: [
            Reply(
                429, {"error": "Slow down", "code": "rate_limit_exceeded"}, {"Retry-After": "0.05"}
            ),
            Reply(202, QUEUED),
        ],
        ok(QUEUED, attempts=[2]),
    ),
    Scenario(
        "429_retry_after_http_date",
        lambda: [
            Reply(
                429,
                {"error": "Slow down", "code": "rate_limit_exceeded"},
                {"Retry-After": _http_date(1)},
            ),
            Reply(202, QUEUED),
        ],
        ok(QUEUED, attempts=[2]),
    ),
    Scenario(
        "429_quota",
        lambda: [
            Reply(
                429,
                {"error": "Monthly limit reached", "code": "monthly_limit_exceeded"},
                {"Retry-After": "3600", "X-RateLimit-Remaining": "0"},
            )
        ],
        fails(
            PostStackError,
            429,
            "monthly_limit_exceeded",
            attempts=1,
            error="Monthly limit reached",
            retry_after=3600.0,
            request_id="req_1",
        ),
    ),
    Scenario(
        "429_quota_without_retry_after",
        lambda: [Reply(429, {"error": "Plan limit", "code": "rate_limit_exceeded"})],
        fails(
            PostStackError,
            429,
            "rate_limit_exceeded",
            attempts=1,
            error="Plan limit",
            request_id="req_1",
        ),
    ),
    Scenario(
        "4xx",
        lambda: [
            Reply(
                422,
                {"error": "Domain not verified", "code": "unprocessable_entity"},
                {"x-request-id": "req_abc"},
            )
        ],
        fails(
            PostStackError,
            422,
            "unprocessable_entity",
            attempts=1,
            error="Domain not verified",
            request_id="req_abc",
        ),
    ),
    Scenario(
        "4xx_not_json",
        lambda: [Reply(401, "<html>who are you?</html>")],
        fails(PostStackError, 401, None, attempts=1, error="Unauthorized", request_id="req_1"),
    ),
    Scenario(
        "2xx_not_json",
        lambda: [Reply(200, b"<html>proxy page</html>", {"content-type": "text/html"})],
        fails(PostStackError, 200, "invalid_response", attempts=1, request_id="req_1"),
    ),
    Scenario(
        "connection_refused",
        lambda: [],
        fails(PostStackConnectionError, 0, "connect_error", attempts=0),
        max_retries=1,
        refused=True,
    ),
    Scenario("reset_then_success", lambda: [Reset(), Reply(202, QUEUED)], ok(QUEUED, attempts=[2])),
    Scenario(
        "reset_exhausted",
        lambda: [Reset()],
        fails(PostStackConnectionError, 0, "connection_error", attempts=1),
        max_retries=0,
    ),
    Scenario(
        "reset_mid_body_then_success",
        lambda: [ResetMidBody(202), Reply(202, QUEUED)],
        ok(QUEUED, attempts=[2]),
    ),
    Scenario(
        "reset_mid_body_exhausted",
        lambda: [ResetMidBody(202), ResetMidBody(202)],
        fails(PostStackConnectionError, 0, "connection_error", attempts=2),
        max_retries=1,
    ),
    Scenario(
        "garbage_then_success", lambda: [Garbage(), Reply(202, QUEUED)], ok(QUEUED, attempts=[2])
    ),
    Scenario(
        "garbage_exhausted",
        lambda: [Garbage(b"SSH-2.0-OpenSSH_9.6\r\n")],
        fails(PostStackConnectionError, 0, "connection_error", attempts=1),
        max_retries=0,
    ),
    Scenario(
        "hang_then_success",
        lambda: [Hang(), Reply(202, QUEUED)],
        ok(QUEUED, attempts=[2]),
        timeout=0.3,
    ),
    Scenario(
        "hang_exhausted",
        lambda: [Hang()],
        fails(PostStackTimeoutError, 0, "timeout", attempts=1, slower_than=0.3, faster_than=3.0),
        timeout=0.3,
        max_retries=0,
    ),
    Scenario(
        "slow_body_within_timeout",
        lambda: [Drip(202, _json(QUEUED), interval=0.005)],
        ok(QUEUED),
    ),
    Scenario(
        # 80 bytes, one every 0.1 s: 8 s in all, but the attempt has 0.5 s.
        "slow_body_past_deadline",
        lambda: [Drip(200, SLOW_BODY, interval=0.1)],
        fails(PostStackTimeoutError, 0, "timeout", attempts=1, slower_than=0.5, faster_than=3.0),
        steps=(Step("get", ("em_slow",)),),
        timeout=0.5,
        max_retries=0,
    ),
    Scenario(
        "large_body_5mb",
        lambda: [Reply(200, BIG_BYTES, JSON_UTF8)],
        ok(BIG_REPLY),
        steps=(Step("get", ("em_big",)),),
    ),
    Scenario(
        "chunked_body",
        lambda: [Reply(202, QUEUED, chunked=True), Reply(200, BIG_BYTES, JSON_UTF8, chunked=True)],
        ok(QUEUED, BIG_REPLY),
        steps=(SEND, Step("get", ("em_big",))),
    ),
    Scenario(
        "large_request_body",
        lambda: [Reply(202, QUEUED)],
        ok(QUEUED),
        steps=(Step("send", (BIG_PAYLOAD,)),),
    ),
    Scenario(
        "redirect_not_followed",
        lambda: [Reply(307, None, {"Location": "/elsewhere"})],
        fails(
            PostStackError, 307, None, attempts=1, error="Temporary Redirect", request_id="req_1"
        ),
    ),
    Scenario(
        "utf8_round_trip",
        lambda: [Reply(202, _json(UTF8_REPLY), JSON_UTF8)],
        ok(UTF8_REPLY),
        steps=(Step("send", (UTF8_PAYLOAD,)),),
    ),
    Scenario(
        "connection_close_then_next_call",
        lambda: [CloseAfter(Reply(202, QUEUED)), Reply(200, {"email": QUEUED})],
        ok(QUEUED, {"email": QUEUED}),
        steps=(SEND, Step("get", ("em_1",))),
    ),
    Scenario(
        # A JSON endpoint never answers None: no content is an invalid response.
        "no_content_where_json_is_promised",
        lambda: [Reply(204)],
        fails(PostStackError, 204, "invalid_response", attempts=1, request_id="req_1"),
    ),
    # --- interim and unasked responses
    Scenario(
        "interim_responses_skipped",
        lambda: [Interim((100, 102, 103), Reply(202, QUEUED))],
        ok(QUEUED),
    ),
    Scenario(
        "switching_protocols_unasked",
        lambda: [
            Garbage(
                b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                b"Upgrade: websocket\r\n\r\n\x81\x05hello"
            )
        ],
        fails(PostStackConnectionError, 0, "connection_error", attempts=1),
        max_retries=0,
    ),
    Scenario(
        # Bytes behind a response, in the same read, that look like the next answer: a
        # connection holding them is never reused, so the second call gets its own.
        "unasked_response_behind_an_answer",
        lambda: [Reply(200, {"id": "em_1"}, unasked=UNASKED_REPLY), Reply(200, {"id": "em_2"})],
        ok({"id": "em_1"}, {"id": "em_2"}),
        steps=(GET, Step("get", ("em_2",))),
    ),
    # --- the whole attempt within its timeout, however the server sends
    Scenario(
        # The status line and headers, one byte every 0.1 s.
        "head_dripped_past_deadline",
        lambda: [Drip(200, SLOW_BODY, interval=0.1, headers_too=True)],
        fails(PostStackTimeoutError, 0, "timeout", attempts=1, slower_than=0.5, faster_than=3.0),
        steps=(GET,),
        timeout=0.5,
        max_retries=0,
    ),
    Scenario(
        # A body that never ends, in small pieces: the attempt ends at its deadline.
        "endless_body_past_deadline",
        lambda: [Endless(200, b"x" * 512, interval=0.01)],
        fails(PostStackTimeoutError, 0, "timeout", attempts=1, slower_than=0.5, faster_than=3.0),
        steps=(GET,),
        timeout=0.5,
        max_retries=0,
    ),
    # --- the size cap
    Scenario(
        "endless_body_over_the_cap",
        lambda: [Endless(200)],
        fails(PostStackError, 200, "response_too_large", attempts=1, request_id="req_1"),
        steps=(GET,),
        max_response_bytes=CAP,
    ),
    Scenario(
        "content_length_over_the_cap",
        lambda: [Endless(200, content_length=1 << 40)],
        fails(PostStackError, 200, "response_too_large", attempts=1, request_id="req_1"),
        steps=(GET,),
        max_response_bytes=CAP,
    ),
    Scenario(
        # Too large is not retried, whatever the status.
        "error_over_the_cap",
        lambda: [Endless(503), Reply(200, {"email": QUEUED})],
        fails(PostStackError, 503, "response_too_large", attempts=1, request_id="req_1"),
        steps=(GET,),
        max_response_bytes=CAP,
    ),
    Scenario(
        "body_exactly_at_the_cap",
        lambda: [Reply(200, b'{"padding": "' + b"x" * (CAP - 15) + b'"}', JSON_UTF8)],
        ok({"padding": "x" * (CAP - 15)}),
        steps=(GET,),
        max_response_bytes=CAP,
    ),
    # --- Content-Encoding: decoded once, by the core, under the cap
    Scenario(
        "gzip_body",
        lambda: [Reply(200, gzip.compress(_json(GZIPPED)), GZIP_JSON)],
        ok(GZIPPED),
        steps=(GET,),
    ),
    Scenario(
        "gzip_error_body",
        lambda: [
            Reply(
                422,
                gzip.compress(
                    _json({"error": "Domain not verified", "code": "unprocessable_entity"})
                ),
                GZIP_JSON,
            )
        ],
        fails(
            PostStackError,
            422,
            "unprocessable_entity",
            attempts=1,
            error="Domain not verified",
            request_id="req_1",
        ),
    ),
    Scenario(
        "gzip_bomb",
        lambda: [Reply(200, GZIP_BOMB, GZIP_JSON)],
        fails(PostStackError, 200, "response_too_large", attempts=1, request_id="req_1"),
        steps=(GET,),
        max_response_bytes=CAP,
    ),
    Scenario(
        "corrupt_gzip",
        lambda: [Reply(200, b"\x1f\x8b\x08\x00 not really gzip", GZIP_JSON)],
        fails(PostStackError, 200, "invalid_response", attempts=1, request_id="req_1"),
        steps=(GET,),
    ),
    Scenario(
        "encoding_never_asked_for",
        lambda: [Reply(200, b"\x8b\x02\x80{}\x03", {"Content-Encoding": "br"})],
        fails(PostStackError, 200, "invalid_response", attempts=1, request_id="req_1"),
        steps=(GET,),
    ),
    Scenario(
        "every_verb",
        lambda: [
            Reply(200, {"email": QUEUED}),
            Reply(200, {"emails": [], "pagination": {"page": 2}}),
            Reply(200, {"rescheduled": True}),
            Reply(200, {"success": True}),
            Reply(202, {"id": "em_3"}),
        ],
        every_verb_check,
        steps=(
            Step("get", ("em 1/ü",)),
            Step("list", ({"page": 2, "status": "delivered", "subject": "a&b=c"},)),
            Step("reschedule", ("em_1", "2030-01-01T09:00:00Z")),
            Step("cancel", ("em_1",)),
            Step("send", (PAYLOAD,), {"idempotency_key": "order-42"}),
        ),
    ),
]

_records: dict[tuple[str, str], Record] = {}


def record_for(scenario: Scenario, runtime: Runtime) -> Record:
    key = (scenario.name, runtime.name)
    if key not in _records:
        _records[key] = scenario.run(runtime)
    return _records[key]


@pytest.mark.parametrize("runtime", RUNTIMES, ids=lambda r: r.name)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_scenario(scenario: Scenario, runtime: Runtime) -> None:
    record = record_for(scenario, runtime)
    assert record.created_emails <= 1
    scenario.check(record)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_same_on_every_runtime(scenario: Scenario) -> None:
    records = {runtime.name: record_for(scenario, runtime) for runtime in RUNTIMES}
    reference_name, reference = next(iter(records.items()))
    for name, record in records.items():
        assert record.requests == reference.requests, (
            f"{name} sent other requests than {reference_name}"
        )
        assert record.outcomes == reference.outcomes, (
            f"{name} saw another outcome than {reference_name}"
        )

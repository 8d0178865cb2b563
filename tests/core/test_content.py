"""The core's decisions about the wire: framing, the size cap and Content-Encoding.

Through the public API alone: a Call fed responses, and the requests a
ClientConfig builds.
"""

from __future__ import annotations

import gzip
import json
import zlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from poststack_core import (
    AttemptTimedOut,
    Call,
    ClientConfig,
    ConnectionBroken,
    Done,
    Fail,
    Operation,
    Response,
    ResponseTooLarge,
    Wait,
)

from .helpers import KEY, NOW


def _call(kind: str = "bytes", limit: int = 1024, method: str = "GET", **op: Any) -> Call[Any]:
    config = ClientConfig("sk_test_core", max_response_bytes=limit)
    operation = Operation(method, "/x", response=kind, **op)  # type: ignore[arg-type]
    call: Call[Any] = Call(operation, config, new_key=lambda: KEY, random=lambda: 0.5)
    call.start()
    return call


def _receive(call: Call[Any], status: int, body: bytes, *headers: tuple[str, str]) -> Any:
    return call.receive(Response(status, (("x-request-id", "req_1"), *headers), body), NOW)


GZIP = ("Content-Encoding", "gzip")


@given(st.binary(max_size=4096), st.integers(min_value=1, max_value=5000))
def test_gzip_is_undone_exactly_up_to_the_cap(data: bytes, limit: int) -> None:
    # The cap holds for the body on the wire and for the body decoded.
    wire = gzip.compress(data)
    action = _receive(_call(limit=limit), 200, wire, GZIP)
    if len(data) <= limit and len(wire) <= limit:
        assert action == Done(data)
    else:
        assert isinstance(action, Fail)
        assert (action.error.code, action.error.status_code) == ("response_too_large", 200)
        assert action.error.retryable is False


@given(st.lists(st.binary(max_size=512), min_size=1, max_size=5))
def test_gzip_members_back_to_back_are_one_body(parts: list[bytes]) -> None:
    body = b"".join(gzip.compress(part) for part in parts)
    assert _receive(_call(limit=4096), 200, body, GZIP) == Done(b"".join(parts))


@given(st.binary(min_size=1, max_size=2048), st.integers(min_value=1, max_value=4096))
def test_a_body_over_the_cap_fails_even_when_the_transport_let_it_through(
    data: bytes, limit: int
) -> None:
    action = _receive(_call(limit=limit), 200, data)
    assert action == Done(data) if len(data) <= limit else isinstance(action, Fail)


def test_a_bomb_is_cut_off_at_the_cap() -> None:
    bomb = gzip.compress(bytes(50 * 1024 * 1024))  # 50 MiB of zeros in ~50 KiB
    action = _receive(_call(limit=1024 * 1024), 200, bomb, GZIP)
    assert isinstance(action, Fail)
    assert action.error.code == "response_too_large"
    assert action.error.request_id == "req_1"


@pytest.mark.parametrize(
    ("encoding", "body", "expected"),
    [
        ("identity", b"plain", b"plain"),
        ("", b"plain", b"plain"),
        ("GZIP", gzip.compress(b"x"), b"x"),
        ("x-gzip", gzip.compress(b"x"), b"x"),
        ("gzip, gzip", gzip.compress(gzip.compress(b"twice")), b"twice"),
        ("gzip, identity", gzip.compress(b"x"), b"x"),
    ],
)
def test_encodings_undone(encoding: str, body: bytes, expected: bytes) -> None:
    assert _receive(_call(), 200, body, ("Content-Encoding", encoding)) == Done(expected)


@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        ("br", b"\x8b\x02\x80hello\x03"),
        ("zstd", b"(\xb5/\xfd"),
        ("deflate", zlib.compress(b"never asked for")),
        ("gzip", b"\x1f\x8b\x08\x00not gzip at all"),
        ("gzip", gzip.compress(b"cut short")[:-6]),
        ("gzip", gzip.compress(b"x") + b"trailing garbage"),
    ],
)
def test_a_body_that_does_not_decode_is_an_invalid_response(encoding: str, body: bytes) -> None:
    action = _receive(_call(kind="json"), 200, body, ("Content-Encoding", encoding))
    assert isinstance(action, Fail)
    assert (action.error.code, action.error.request_id) == ("invalid_response", "req_1")


def test_an_error_body_is_decoded_too() -> None:
    error = json.dumps({"error": "Domain not verified", "code": "unprocessable_entity"})
    action = _receive(_call(kind="json"), 422, gzip.compress(error.encode()), GZIP)
    assert isinstance(action, Fail)
    assert (action.error.error, action.error.code) == (
        "Domain not verified",
        "unprocessable_entity",
    )


def test_an_undecodable_error_body_keeps_the_status_and_its_retries() -> None:
    call = _call(kind="json")
    action = _receive(call, 503, b"\x1f\x8bgarbage", GZIP)
    assert isinstance(action, Wait)
    assert (action.error.status_code, action.error.error) == (503, "Service Unavailable")


def test_too_large_from_the_transport_fails_at_once_with_the_head() -> None:
    call = _call(kind="json")
    head = (("x-request-id", "req_9"), ("Content-Length", "99999999"))
    action = call.transport_failed(ResponseTooLarge(503, head, 1024))
    assert isinstance(action, Fail)
    error = action.error
    assert (error.status_code, error.code, error.request_id) == (503, "response_too_large", "req_9")
    assert error.headers["content-length"] == "99999999"
    assert "1024 bytes" in error.error
    assert error.retryable is False


@pytest.mark.parametrize("status", [100, 101, 103, 199])
def test_an_interim_response_reaching_the_core_is_a_broken_connection(status: int) -> None:
    call = _call(kind="json")
    action = _receive(call, status, b"")
    assert isinstance(action, Wait)
    assert action.error.code == "connection_error"
    assert str(status) in action.error.error


def test_the_other_failures_are_still_retried() -> None:
    call = _call()
    assert isinstance(call.transport_failed(AttemptTimedOut("slow")), Wait)
    call.resume()
    assert isinstance(call.transport_failed(ConnectionBroken("reset")), Wait)


# --------------------------------------------------------------------------- framing


def _headers(method: str, **op: Any) -> list[tuple[str, str]]:
    config = ClientConfig("sk_test_core", "http://127.0.0.1:8025/v1", allow_insecure_http=False)
    return list(config.build_request(Operation(method, "/x", **op), None).headers)


@pytest.mark.parametrize(
    ("method", "op", "length"),
    [
        ("GET", {}, None),
        ("DELETE", {}, None),
        ("POST", {}, "0"),
        ("PUT", {}, "0"),
        ("PATCH", {}, "0"),
        ("POST", {"body": {}}, "2"),
        ("PATCH", {"body": {"a": "é"}}, str(len('{"a":"é"}'.encode()))),
        ("DELETE", {"body": {"ids": [1]}}, "11"),
    ],
)
def test_framing_is_decided_by_the_core(
    method: str, op: dict[str, Any], length: str | None
) -> None:
    headers = _headers(method, **op)
    assert headers[0] == ("Host", "127.0.0.1:8025")
    assert dict(headers).get("Content-Length") == length
    assert [name for name, _ in headers].count("Content-Length") == (length is not None)
    assert ("Accept-Encoding", "gzip") in headers


@pytest.mark.parametrize(
    ("base_url", "host"),
    [
        ("https://api.poststack.dev", "api.poststack.dev"),
        ("https://api.poststack.dev:8443", "api.poststack.dev:8443"),
        ("http://localhost:80", "localhost"),
        ("http://[::1]:8025", "[::1]:8025"),
    ],
)
def test_host_header(base_url: str, host: str) -> None:
    request = ClientConfig("sk_test_core", base_url).build_request(Operation("GET", "/x"), None)
    assert request.headers[0] == ("Host", host)
    assert request.max_response_bytes == 64 * 1024 * 1024

"""ClientConfig and the loopback check: what may be sent where, decided before any I/O."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from poststack_core import (
    Call,
    ClientConfig,
    Operation,
    Response,
    RetryPolicy,
    Send,
    idempotency_key_from,
    is_loopback_host,
)


@pytest.mark.parametrize(
    "host",
    ["localhost", "LocalHost", "127.0.0.1", "127.255.255.254", "127.0.1.1", "::1", "[::1]",
     "0:0:0:0:0:0:0:1"],
)  # fmt: skip
def test_loopback(host: str) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize(
    "host",
    [
        "127.300.1.1",  # not an address: a name DNS resolves
        "127.0.0.999",
        "127.1",  # inet_aton reads it as 127.0.0.1, DNS may not
        "127.0.0.01",
        "0x7f.0.0.1",
        "2130706433",
        "a.localhost",
        "localhost.",
        "localhost.localdomain",
        "ip6-localhost",
        "::ffff:127.0.0.1",
        "::1%eth0",
        "128.0.0.1",
        "10.0.0.1",
        "0.0.0.0",
        "::",
        "",
        "example.com",
    ],
)
def test_not_loopback(host: str) -> None:
    assert not is_loopback_host(host)


def test_not_a_str_is_not_loopback() -> None:
    assert not is_loopback_host(None)  # type: ignore[arg-type]


@given(st.tuples(*[st.integers(0, 255)] * 3))
def test_all_of_127_slash_8_in_canonical_form(octets: tuple[int, int, int]) -> None:
    assert is_loopback_host("127." + ".".join(map(str, octets)))


@given(st.integers(0, 255), st.tuples(*[st.integers(0, 255)] * 3))
def test_nothing_outside_127_slash_8(first: int, rest: tuple[int, int, int]) -> None:
    host = ".".join(map(str, (first, *rest)))
    assert is_loopback_host(host) == (first == 127)


def test_the_config_keeps_the_key_out_of_its_repr() -> None:
    config = ClientConfig("sk_live_TOPSECRET")
    assert "TOPSECRET" not in repr(config)
    assert ("Authorization", "Bearer sk_live_TOPSECRET") in config.base_headers


@pytest.mark.parametrize("agent", ["", " x", "x\r\nInjected: 1", "naïve/1.0"])
def test_the_user_agent_must_be_a_header_value(agent: str) -> None:
    with pytest.raises(ValueError, match="user_agent"):
        ClientConfig("k", user_agent=agent)


def test_the_base_url_is_split_into_what_requests_need() -> None:
    config = ClientConfig("k", "https://EU.example.test:8443/v1/")
    assert (config.scheme, config.host, config.port, config.base_path) == (
        "https",
        "eu.example.test",
        8443,
        "/v1",
    )
    assert config.origin == "https://eu.example.test:8443"
    assert ClientConfig("k", "http://[::1]:80").origin == "http://[::1]"


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"timeout": None}, ValueError, "timeout"),
        ({"retry": 3}, TypeError, "retry must be a RetryPolicy"),
        ({"user_agent": b"agent/1"}, TypeError, "user_agent must be a str"),
        ({"api_key": "   "}, ValueError, "No API key"),
        ({"base_url": "https://:443"}, ValueError, "base_url has no host"),
        ({"base_url": "https://[v1.fe80]/"}, ValueError, "base_url"),
        ({"base_url": "https://1.2.3.4.5"}, ValueError, "IPv4"),
    ],
)
def test_bad_settings(kwargs: dict[str, object], error: type[Exception], match: str) -> None:
    arguments: dict[str, object] = {"api_key": "sk_test_core", **kwargs}
    with pytest.raises(error, match=match):
        ClientConfig(**arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("body", "error", "match"),
    [
        ({"when": {1, 2}}, TypeError, "not JSON-serialisable"),
        ({"data": b"bytes"}, TypeError, "not JSON-serialisable"),
        ({"ratio": float("nan")}, ValueError, "not valid JSON"),
        ({"text": "lone \ud800"}, UnicodeEncodeError, "surrogate"),
    ],
)
def test_a_body_json_cannot_carry_fails_before_anything_is_sent(
    body: object, error: type[Exception], match: str
) -> None:
    operation = Operation("POST", "/x", body=body)
    with pytest.raises(error, match=match):
        Call(operation, ClientConfig("k"), new_key=lambda: "key", random=lambda: 0.0)


def test_the_request_is_shown_without_its_headers() -> None:
    operation = Operation("POST", "/emails", query=(("a", "b c"),), body={"x": "é"})
    call = Call(operation, ClientConfig("sk_live_HIDDEN"), new_key=lambda: "k-1", random=lambda: 0)
    send = call.start()
    assert isinstance(send, Send)
    request = send.request
    assert repr(request) == "<Request POST https://api.poststack.dev/emails?a=b%20c>"
    assert "HIDDEN" not in repr(send)
    assert request.body == '{"x":"é"}'.encode()
    assert request.header("content-type") == "application/json"
    assert request.header("Idempotency-Key") == "k-1"
    # The core frames the request; a transport only moves its bytes.
    assert request.header("Host") == "api.poststack.dev"
    assert request.header("Content-Length") == str(len(request.body))
    assert repr(Response(200, (("A", "1"),), b"abc")) == "<Response 200 (3 bytes)>"
    assert repr(Operation("GET", "/x")).startswith(
        "Operation(method='GET', path='/x', query=(), body=NO_BODY"
    )


def test_idempotency_keys_are_uuid4_from_sixteen_bytes() -> None:
    assert idempotency_key_from(bytes(16)) == "00000000-0000-4000-8000-000000000000"
    assert idempotency_key_from(b"\xff" * 16) == "ffffffff-ffff-4fff-bfff-ffffffffffff"
    for wrong in (b"", bytes(15), bytes(17)):
        with pytest.raises(ValueError, match="16 random bytes"):
            idempotency_key_from(wrong)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"backoff_base": -1}, ValueError, "backoff_base"),
        ({"backoff_base": float("inf")}, ValueError, "backoff_base"),
        ({"backoff_base": "1"}, TypeError, "backoff_base"),
        ({"retry_after_cap": float("nan")}, ValueError, "retry_after_cap"),
        ({"backoff_growth": 0.5}, ValueError, "backoff_growth must be >= 1"),
        ({"max_retries": -1}, ValueError, "max_retries"),
        ({"max_retries": True}, TypeError, "max_retries"),
        ({"no_such_field": 1}, TypeError, "no_such_field"),
    ],
)
def test_a_retry_policy_checks_its_numbers(
    kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        RetryPolicy().replace(**kwargs)


def test_a_retry_policy_is_an_immutable_value() -> None:
    policy = RetryPolicy(extra_retry_statuses={408})  # type: ignore[arg-type]
    assert policy.extra_retry_statuses == frozenset({408})
    assert policy.replace(max_retries=5) == RetryPolicy(
        max_retries=5, extra_retry_statuses=frozenset({408})
    )
    assert hash(policy) == hash(RetryPolicy(extra_retry_statuses=frozenset({408})))
    with pytest.raises(AttributeError):
        policy.max_retries = 9  # type: ignore[misc]

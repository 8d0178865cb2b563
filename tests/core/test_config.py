"""ClientConfig and the loopback check: what may be sent where, decided before any I/O."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from poststack_core import ClientConfig, is_loopback_host


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

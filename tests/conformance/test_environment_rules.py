"""The one reading of the environment every transport shares: Environment and proxy_for."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from poststack.transports import Environment, Proxy

PROXY = Proxy("http", "proxy.corp", 3128)


def env(**variables: str) -> Environment:
    return Environment.from_environ(variables)


def test_nothing_set_is_no_proxy_and_the_default_cas() -> None:
    assert env() == Environment()
    assert Environment().proxy_for("https", "api.poststack.dev", 443) is None
    assert Environment().ca_location is None


@pytest.mark.parametrize(
    ("variables", "scheme", "expected"),
    [
        ({"HTTP_PROXY": "http://proxy.corp:3128"}, "http", PROXY),
        ({"HTTP_PROXY": "http://proxy.corp:3128"}, "https", None),
        ({"HTTPS_PROXY": "proxy.corp:3128"}, "https", PROXY),  # no scheme: http://
        (
            {"https_proxy": "http://proxy.corp:3128", "HTTPS_PROXY": "http://other:1"},
            "https",
            PROXY,
        ),
        ({"ALL_PROXY": "http://proxy.corp:3128"}, "https", PROXY),
        ({"ALL_PROXY": "http://other:1", "http_proxy": "http://proxy.corp:3128"}, "http", PROXY),
        ({"HTTPS_PROXY": "https://proxy.corp"}, "https", Proxy("https", "proxy.corp", 443)),
        ({"HTTP_PROXY": "http://proxy.corp"}, "http", Proxy("http", "proxy.corp", 80)),
        ({"HTTPS_PROXY": "  "}, "https", None),  # empty is unset
        # A CGI request can set HTTP_PROXY through a Proxy: header ("httpoxy").
        ({"HTTP_PROXY": "http://evil:1", "REQUEST_METHOD": "GET"}, "http", None),
        ({"http_proxy": "http://proxy.corp:3128", "REQUEST_METHOD": "GET"}, "http", PROXY),
    ],
)
def test_which_proxy(variables: dict[str, str], scheme: str, expected: Proxy | None) -> None:
    assert env(**variables).proxy_for(scheme, "api.poststack.dev", 443) == expected


def test_credentials_become_a_header_and_are_never_shown() -> None:
    proxy = env(HTTPS_PROXY="http://us%40er:p%3Ass@proxy.corp:3128").proxy_for("https", "a", 443)
    assert proxy is not None
    token = base64.b64encode(b"us@er:p:ss").decode()
    assert proxy.headers == (("Proxy-Authorization", f"Basic {token}"),)
    assert proxy.url == "http://proxy.corp:3128"
    assert "p:ss" not in repr(proxy)
    assert token not in repr(proxy)


@pytest.mark.parametrize(
    ("no_proxy", "host", "port", "bypassed"),
    [
        ("*", "anything.example", 443, True),
        ("example.com", "example.com", 443, True),
        ("example.com", "api.example.com", 443, True),
        ("example.com", "badexample.com", 443, False),
        (".example.com", "api.example.com", 443, True),
        (".example.com", "example.com", 443, True),
        ("*.example.com", "api.example.com", 443, True),
        ("EXAMPLE.com", "Example.COM.", 443, True),
        ("example.com:8443", "example.com", 443, False),
        ("example.com:8443", "example.com", 8443, True),
        ("127.0.0.1", "127.0.0.1", 8025, True),
        ("127.0.0.1", "127.0.0.2", 8025, False),
        ("10.0.0.0/8", "10.1.2.3", 443, True),
        ("10.0.0.0/8", "11.1.2.3", 443, False),
        ("10.0.0.0/8", "example.com", 443, False),
        ("::1", "::1", 443, True),
        ("[::1]:8025", "[::1]", 8025, True),
        ("[::1]:8025", "::1", 443, False),
        ("localhost", "127.0.0.1", 443, False),  # names are not resolved
        (" foo.test , example.com ", "example.com", 443, True),
        ("example.com:x", "example.com", 443, False),
    ],
)
def test_no_proxy(no_proxy: str, host: str, port: int, bypassed: bool) -> None:
    environment = env(HTTPS_PROXY="http://proxy.corp:3128", NO_PROXY=no_proxy)
    assert (environment.proxy_for("https", host, port) is None) is bypassed


@given(st.from_regex(r"[a-z][a-z0-9-]{0,10}(\.[a-z][a-z0-9-]{0,10}){0,3}", fullmatch=True))
def test_a_host_in_no_proxy_is_bypassed_with_its_subdomains(host: str) -> None:
    environment = env(ALL_PROXY="http://proxy.corp:3128", no_proxy=f"other.test,{host}")
    assert environment.proxy_for("https", host, 443) is None
    assert environment.proxy_for("http", f"api.{host}", 80) is None
    assert environment.proxy_for("https", f"x{host}", 443) == PROXY


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ("socks5://user:secret@127.0.0.1:1080", "only http:// and https://"),
        ("http://proxy.corp:notaport", "invalid port"),
        ("http://:3128", "names no host"),
    ],
)
def test_an_unusable_proxy_is_refused_naming_the_variable(value: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint) as info:
        env(HTTPS_PROXY=value)
    assert "HTTPS_PROXY" in str(info.value)
    assert "secret" not in str(info.value)


def test_ca_variables(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    assert env(SSL_CERT_FILE=str(bundle)).ca_location == str(bundle)
    assert env(SSL_CERT_DIR=str(tmp_path)).ca_location == str(tmp_path)
    # As httpx: the file wins over the directory.
    assert env(SSL_CERT_FILE=str(bundle), SSL_CERT_DIR=str(tmp_path)).ca_dir is None
    with pytest.raises(ValueError, match="SSL_CERT_FILE"):
        env(SSL_CERT_FILE=str(tmp_path / "missing.pem"))
    with pytest.raises(ValueError, match="SSL_CERT_DIR"):
        env(SSL_CERT_DIR=str(tmp_path / "missing"))


def test_the_default_context_verifies() -> None:
    import ssl

    context = Environment().ssl_context()
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert context.cert_store_stats()["x509_ca"] > 0

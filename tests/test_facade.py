"""The public façade: configuration, security basics, logging, lifecycle."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from typing import Any

import pytest

import poststack
from poststack import AsyncPostStack, PostStack, PostStackError
from poststack.transports.httpx import HttpxTransport
from tests.faultserver import FaultServer, Reply, Reset
from tests.recording import sync_client

SECRET = "sk_live_SECRETSECRET123"
EMAIL: Any = {"from": "a@example.com", "to": ["b@example.com"], "subject": "s", "text": "t"}


@pytest.fixture
def server() -> Any:
    with FaultServer() as srv:
        yield srv


def test_api_key_and_base_url_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, server: FaultServer
) -> None:
    monkeypatch.setenv("POSTSTACK_API_KEY", "sk_test_env")
    monkeypatch.setenv("POSTSTACK_BASE_URL", server.url)
    server.script(Reply(202, {"id": "em_env"}))
    with PostStack() as ps:
        assert ps.base_url == server.url
        assert ps.emails.send(EMAIL) == {"id": "em_env"}
    assert server.requests[0].headers["authorization"] == "Bearer sk_test_env"


def test_explicit_arguments_beat_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTSTACK_API_KEY", "sk_test_env")
    monkeypatch.setenv("POSTSTACK_BASE_URL", "http://localhost:1")
    ps = PostStack(api_key="sk_test_arg", base_url="https://eu.example.test")
    assert ps.base_url == "https://eu.example.test"


def test_default_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POSTSTACK_BASE_URL", raising=False)
    assert PostStack(api_key="k").base_url == "https://api.poststack.dev"
    assert AsyncPostStack(api_key="k").base_url == "https://api.poststack.dev"


@pytest.mark.parametrize("client", [PostStack, AsyncPostStack])
def test_missing_key_is_a_clear_error_at_construction(
    client: type[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POSTSTACK_API_KEY", raising=False)
    with pytest.raises(ValueError, match="POSTSTACK_API_KEY"):
        client()
    monkeypatch.setenv("POSTSTACK_API_KEY", "")
    with pytest.raises(ValueError, match="POSTSTACK_API_KEY"):
        client()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"max_retries": -1}, ValueError, "max_retries"),
        ({"max_retries": 1.5}, TypeError, "max_retries"),
        ({"max_retries": True}, TypeError, "max_retries"),
        ({"max_retries": "3"}, TypeError, "max_retries"),
        ({"timeout": 0}, ValueError, "timeout"),
        ({"timeout": -5}, ValueError, "timeout"),
        ({"timeout": float("nan")}, ValueError, "timeout"),
        ({"timeout": float("inf")}, ValueError, "timeout"),
        ({"timeout": "30"}, TypeError, "timeout"),
        ({"base_url": "http://api.poststack.dev"}, ValueError, "http://"),
        ({"base_url": "http://10.0.0.5:8080"}, ValueError, "not this machine"),
        ({"base_url": "ftp://api.poststack.dev"}, ValueError, "https://"),
        ({"base_url": "api.poststack.dev"}, ValueError, "https://"),
        ({"base_url": "https://user:pw@api.poststack.dev"}, ValueError, "credentials"),
        ({"base_url": "https://api.poststack.dev/v 1"}, ValueError, "base_url.*spaces"),
        ({"base_url": "https://api.poststack.dev/v1\r\nX: y"}, ValueError, "base_url.*control"),
        ({"base_url": "https://api.poststack.dev/é"}, ValueError, "base_url path"),
        ({"base_url": "https://api.poststack.dev/%zz"}, ValueError, "base_url path.*%"),
        ({"base_url": "https://api.poststack.dev:0"}, ValueError, "base_url.*port"),
        ({"base_url": "https://api.poststack.dev:65536"}, ValueError, "base_url.*port"),
        ({"base_url": "https://api.poststack.dev:http"}, ValueError, "base_url.*port"),
        ({"base_url": "https://api.poststack.dev?v=1"}, ValueError, "base_url.*query"),
        ({"base_url": "https://api.poststack.dev/#top"}, ValueError, "base_url.*fragment"),
        ({"base_url": "https://-bad-.example"}, ValueError, "base_url.*host"),
        ({"base_url": "https://a..example"}, ValueError, "base_url.*host"),
        ({"base_url": "https://bücher.example"}, ValueError, "base_url host.*ASCII"),
        ({"base_url": "https://127.0.0.999"}, ValueError, "base_url.*IPv4"),
        ({"base_url": "https://[::g]"}, ValueError, "base_url"),
        ({"base_url": 5}, TypeError, "base_url"),
        ({"api_key": " sk_test "}, ValueError, "api_key.*whitespace"),
        ({"api_key": 123}, TypeError, "api_key"),
        ({"api_key": "sk_test_clé"}, ValueError, "api_key.*ASCII"),
        ({"api_key": "sk_test a"}, ValueError, "api_key.*spaces"),
        ({"api_key": "sk_test\na"}, ValueError, "api_key"),
        ({"allow_insecure_http": "yes"}, TypeError, "allow_insecure_http"),
    ],
)
def test_bad_settings_fail_clearly(
    kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    kwargs.setdefault("api_key", "sk_test_x")
    with pytest.raises(error, match=match) as info:
        PostStack(**kwargs)
    with pytest.raises(error, match=match):
        AsyncPostStack(**kwargs)
    key = kwargs["api_key"]
    if isinstance(key, str) and len(key) > 3:
        # The message names the argument, never the key (nor a piece of it).
        assert key.strip() not in str(info.value)
        assert "clé" not in str(info.value)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000",
        "http://localhost:9/",
        "http://LOCALHOST:9",
        "http://[::1]:8000",
        "http://127.5.6.7",
        "https://api.poststack.dev/v1/",
        "https://x_y.internal:8443/base%20path",
        " https://api.poststack.dev \n",
    ],
)
def test_good_base_urls(url: str) -> None:
    PostStack(api_key="k", base_url=url)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.999:8000",
        "http://127.1",
        "http://foo.localhost",
        "http://[::ffff:127.0.0.1]",
    ],
)
def test_plain_http_only_to_real_loopback_literals(url: str) -> None:
    with pytest.raises(ValueError, match="base_url"):
        PostStack(api_key="sk_test_x", base_url=url)


def test_plain_http_to_another_host_is_an_explicit_opt_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("POSTSTACK_ALLOW_INSECURE_HTTP", raising=False)
    compose = "http://sandbox:8025"
    with pytest.raises(
        ValueError, match=r"allow_insecure_http=True.*POSTSTACK_ALLOW_INSECURE_HTTP"
    ):
        PostStack(api_key="sk_test_x", base_url=compose)
    _, recorder = sync_client()
    ps = PostStack(
        api_key="sk_test_x", base_url=compose, allow_insecure_http=True, transport=recorder
    )
    ps.emails.send(EMAIL)
    assert recorder.requests[0].url == "http://sandbox:8025/emails"
    assert (recorder.requests[0].host, recorder.requests[0].port) == ("sandbox", 8025)
    monkeypatch.setenv("POSTSTACK_ALLOW_INSECURE_HTTP", "1")
    assert PostStack(api_key="sk_test_x", base_url=compose).base_url == compose
    assert AsyncPostStack(api_key="sk_test_x", base_url=compose).base_url == compose
    # An explicit argument beats the environment.
    with pytest.raises(ValueError, match="not this machine"):
        PostStack(api_key="sk_test_x", base_url=compose, allow_insecure_http=False)


def test_never_a_live_key_over_plain_http_to_another_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POSTSTACK_ALLOW_INSECURE_HTTP", "1")
    for allow in (True, None):
        with pytest.raises(ValueError, match="sk_live_") as info:
            PostStack(api_key=SECRET, base_url="http://sandbox:8025", allow_insecure_http=allow)
        assert "SECRET" not in str(info.value)
    # To this machine a live key may use plain http (a local proxy, a tunnel).
    PostStack(api_key=SECRET, base_url="http://127.0.0.1:8025")


@pytest.mark.parametrize("value", ["maybe", "2", "enable"])
def test_an_unreadable_insecure_http_variable_is_an_error(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POSTSTACK_ALLOW_INSECURE_HTTP", value)
    with pytest.raises(ValueError, match="POSTSTACK_ALLOW_INSECURE_HTTP"):
        PostStack(api_key="sk_test_x", base_url="http://sandbox:8025")


def test_base_url_path_prefix_is_kept(server: FaultServer) -> None:
    server.script(Reply(202, {"id": "em_1"}))
    with PostStack(api_key="k", base_url=server.url + "/v1/") as ps:
        ps.emails.send(EMAIL)
    assert server.requests[0].path == "/v1/emails"


def test_bad_input_fails_before_anything_is_sent(server: FaultServer) -> None:
    with PostStack(api_key="k", base_url=server.url) as ps:
        with pytest.raises(TypeError, match="dict"):
            ps.emails.send(["not", "a", "dict"])  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="idempotency_key"):
            ps.emails.send(EMAIL, idempotency_key="")
        with pytest.raises(ValueError, match="timeout"):
            ps.emails.get("em_1", timeout=-1)
        with pytest.raises(TypeError, match="id must be a str"):
            ps.emails.get(42)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="base64"):
            ps.emails.send({**EMAIL, "attachments": [{"filename": "a", "content": "@@@"}]})
        with pytest.raises(ValueError, match="at most 100"):
            ps.emails.batch({"emails": [EMAIL] * 101})
        with pytest.raises(ValueError, match="JSON"):
            ps.emails.send({**EMAIL, "variables": {"x": float("nan")}})
    assert server.requests == []


def test_ids_are_one_percent_encoded_segment(server: FaultServer) -> None:
    server.default = Reply(200, {"email": {}})
    with PostStack(api_key="k", base_url=server.url) as ps:
        ps.emails.get("em_../a b?c#d%e")
    assert server.requests[0].path == "/emails/em_..%2Fa%20b%3Fc%23d%25e"


def test_the_key_never_shows_in_reprs_errors_or_logs(
    server: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.script(Reply(500, {"error": "boom"}), Reset(), Reply(401, {"error": "Invalid key"}))
    ps = PostStack(api_key=SECRET, base_url=server.url)
    with pytest.raises(PostStackError) as info:
        ps.emails.send(EMAIL)
    ps.close()
    texts = [
        repr(ps),
        str(ps),
        repr(ps.emails),
        repr(HttpxTransport()),
        repr(AsyncPostStack(api_key=SECRET)),
        repr(ps._config),
        str(info.value),
        repr(info.value),
        repr(info.value.headers),
        caplog.text,
    ]
    assert server.requests[0].headers["authorization"] == f"Bearer {SECRET}"
    for text in texts:
        assert SECRET not in text
    assert "SECRETSECRET" not in caplog.text


def test_logging_a_debug_line_per_attempt_a_warning_per_retry_and_the_answer(
    server: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    # tests/test_logging.py has the rest: the fields in extra, stderr, POSTSTACK_LOG.
    caplog.set_level(logging.DEBUG, logger="poststack")
    server.script(Reply(503, {"error": "x"}, {"Retry-After": "0.01"}), Reply(202, {"id": "em_1"}))
    with PostStack(api_key="k", base_url=server.url) as ps:
        ps.emails.send(EMAIL)
    records = [r for r in caplog.records if r.name == "poststack"]
    assert [r.levelname for r in records] == ["DEBUG", "WARNING", "DEBUG", "INFO"]
    _, retry, _, done = (r.getMessage() for r in records)
    assert "POST /emails" in retry
    assert "503" in retry
    assert "attempt 1" in retry
    assert "0.010 s" in retry
    assert "req_1" in retry
    assert "202" in done
    assert "attempt 2" in done
    assert "req_2" in done


def test_close_is_idempotent_and_a_closed_client_refuses_work(server: FaultServer) -> None:
    ps = PostStack(api_key="k", base_url=server.url)
    ps.close()
    ps.close()
    with pytest.raises(RuntimeError, match="closed"):
        ps.emails.get("em_1")


def test_a_transport_passed_in_is_not_closed() -> None:
    class Recording:
        closed = False

        def send(self, request: Any, timeout: float) -> Any:
            raise AssertionError

        def close(self) -> None:
            self.closed = True

    transport = Recording()
    with PostStack(api_key="k", transport=transport):
        pass
    assert not transport.closed


def test_async_client_closes_its_own_transport(server: FaultServer) -> None:
    server.default = Reply(200, {"email": {"id": 1}})

    async def main() -> None:
        ps = AsyncPostStack(api_key="k", base_url=server.url)
        async with ps:
            await ps.emails.get("em_1")
        with pytest.raises(RuntimeError, match="closed"):
            await ps.emails.get("em_1")

    asyncio.run(main())
    server.wait_for_open_connections(0)


def test_errors_survive_pickling() -> None:
    import pickle

    error = PostStackError(429, "slow", "rate_limit_exceeded", "req_1", {"retry-after": "3"}, 3.0)
    copy = pickle.loads(pickle.dumps(error))
    assert (
        copy.status_code,
        copy.error,
        copy.code,
        copy.request_id,
        copy.headers,
        copy.retry_after,
    ) == (
        429,
        "slow",
        "rate_limit_exceeded",
        "req_1",
        {"retry-after": "3"},
        3.0,
    )


def test_import_poststack_loads_no_transport_library() -> None:
    code = (
        "import sys, poststack; "
        "print(sorted(m for m in ('httpx', 'httpcore', 'requests', 'trio', 'asyncio', 'ssl') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_version() -> None:
    assert poststack.__version__


def test_tls_verification_is_on_by_default() -> None:
    import ssl

    from poststack.transports import Environment

    context = Environment().ssl_context()
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert context.cert_store_stats()["x509_ca"] > 0

"""The environment honoured the same way in every runtime: proxies, NO_PROXY and the CA variables.

Each scenario sets environment variables, starts a loopback proxy
(:mod:`proxyserver`) and a loopback server (TLS with a throwaway
certificate for ``https://`` targets), and sends one email through each
runtime. It checks what the proxy was asked, what the server received and
what the caller got; the records of all runtimes must be identical. The
docs' example transport honours no environment and is left out. A user's own
httpx/httpx2 client is used as it is, so it honours the environment by its
library's rules: those agree with the SDK's everywhere but in one place, where
the test holds such a client to its library's own answer (see
``library_reads_ca_file_anyway``).
"""

from __future__ import annotations

import base64
import dataclasses
import importlib
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.faultserver import FaultServer, Reply, unused_port
from tests.selfsigned import self_signed_certificate

from .proxyserver import ProxyServer
from .runtimes import SDK_RUNTIMES, Runtime, Step
from .test_conformance import PAYLOAD, QUEUED, normalise_outcome, normalise_requests

VARIABLES = [
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "ssl_cert_file",
    "ssl_cert_dir",
    "request_method",
    "requests_ca_bundle",
    "curl_ca_bundle",
]
CREDENTIALS = "Basic " + base64.b64encode(b"ana:p@ss word").decode()


@dataclasses.dataclass(frozen=True)
class Scenario:
    name: str
    env: dict[str, str]
    """Values may name ``{proxy}`` (the proxy's URL), ``{auth}`` (it with credentials),
    ``{cert}`` (the server's certificate) and ``{nowhere}`` (a port nobody listens on)."""
    https: bool = False
    trust_env: bool = True
    proxy: dict[str, Any] = dataclasses.field(default_factory=dict)
    check: Callable[[Record], None] = lambda record: None


@dataclasses.dataclass
class Record:
    asked: list[dict[str, Any]]
    received: list[dict[str, Any]]
    outcome: dict[str, Any]

    @property
    def value(self) -> Any:
        return self.outcome.get("value")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ssl.SSLContext]:
    cert, key = self_signed_certificate(tmp_path_factory.mktemp("proxy-tls"))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return cert, context


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    return monkeypatch


def _asked(proxy: ProxyServer, ports: dict[int, str]) -> list[dict[str, Any]]:
    def anonymous(text: str) -> str:
        for port, name in ports.items():
            text = text.replace(str(port), name)
        return text

    asked = []
    for request in proxy.asked:
        if request.method == "CONNECT":
            # Each library words the CONNECT its own way (httpcore adds Host and Accept,
            # http.client before 3.12 neither): what matters is where it goes and the
            # credentials it carries.
            keep = {"proxy-authorization"}
        else:
            keep = set(request.headers) - {"idempotency-key"}
        headers = {k: anonymous(v) for k, v in request.headers.items() if k in keep}
        asked.append({"method": request.method, "target": anonymous(request.target), **headers})
    return asked


def run(scenario: Scenario, runtime: Runtime, monkeypatch: pytest.MonkeyPatch, cert: Path,
        tls: ssl.SSLContext) -> Record:  # fmt: skip
    with (
        ProxyServer(**scenario.proxy) as proxy,
        FaultServer(tls=tls if scenario.https else None) as server,
    ):
        server.default = Reply(202, QUEUED)
        nowhere = unused_port()
        values = {
            "proxy": proxy.url,
            "auth": proxy.url.replace("http://", "http://ana:p%40ss%20word@"),
            "cert": str(cert),
            "nowhere": f"http://127.0.0.1:{nowhere}",
        }
        for name, value in scenario.env.items():
            monkeypatch.setenv(name, value.format(**values))
        [outcome] = runtime.run(
            server.url,
            [Step("send", (PAYLOAD,))],
            timeout=10,
            max_retries=0,
            trust_env=scenario.trust_env,
        )
        server.wait_for_open_connections(0, timeout=30)  # every request recorded (see there)
        ports = {server.port: "<server>", proxy.port: "<proxy>", nowhere: "<nowhere>"}
        record = Record(
            _asked(proxy, ports),
            normalise_requests(server.requests, server.port),
            normalise_outcome(outcome, server.port),
        )
    for name in scenario.env:
        monkeypatch.delenv(name)
    for request in record.received:
        request.pop("raw_names")  # a proxy may reorder headers; compared as a mapping
    return record


def ok(*, asked: list[dict[str, str]], through_proxy: bool) -> Callable[[Record], None]:
    def check(record: Record) -> None:
        assert record.outcome == {"value": QUEUED}
        assert [{k: a[k] for k in ("method", "target")} for a in record.asked] == asked
        [received] = record.received
        # A proxy passes the request on as the SDK wrote it, its own headers removed.
        assert not any(name.startswith("proxy-") for name in received["headers"])
        assert received["target"] == "/emails"
        assert bool(record.asked) is through_proxy

    return check


def failed(
    code: str | None, status: int = 0, *, reached_server: bool = False
) -> Callable[[Record], None]:
    def check(record: Record) -> None:
        assert (record.outcome.get("code"), record.outcome.get("status_code")) == (code, status)
        assert bool(record.received) is reached_server

    return check


FORWARDED = [{"method": "POST", "target": "http://127.0.0.1:<server>/emails"}]
TUNNELLED = [{"method": "CONNECT", "target": "127.0.0.1:<server>"}]


def _with_credentials(record: Record) -> None:
    ok(asked=FORWARDED, through_proxy=True)(record)
    assert record.asked[0]["proxy-authorization"] == CREDENTIALS


def _tunnel_with_credentials(record: Record) -> None:
    ok(asked=TUNNELLED, through_proxy=True)(record)
    assert record.asked[0]["proxy-authorization"] == CREDENTIALS


SCENARIOS = [
    Scenario(
        "http_through_the_proxy",
        {"HTTP_PROXY": "{proxy}"},
        check=ok(asked=FORWARDED, through_proxy=True),
    ),
    Scenario(
        "lower_case_and_all_proxy",
        {"all_proxy": "{proxy}", "HTTP_PROXY": "{nowhere}", "http_proxy": ""},
        check=ok(asked=FORWARDED, through_proxy=True),
    ),
    Scenario(
        "http_proxy_credentials",
        {"HTTP_PROXY": "{auth}"},
        proxy={"credentials": CREDENTIALS},
        check=_with_credentials,
    ),
    Scenario(
        "https_through_a_connect_tunnel",
        {"HTTPS_PROXY": "{proxy}", "SSL_CERT_FILE": "{cert}"},
        https=True,
        check=ok(asked=TUNNELLED, through_proxy=True),
    ),
    Scenario(
        "tunnel_credentials",
        {"HTTPS_PROXY": "{auth}", "SSL_CERT_FILE": "{cert}"},
        https=True,
        proxy={"credentials": CREDENTIALS},
        check=_tunnel_with_credentials,
    ),
    Scenario(
        "no_proxy_bypasses_it",
        {"HTTP_PROXY": "{proxy}", "NO_PROXY": "example.com,127.0.0.1"},
        check=ok(asked=[], through_proxy=False),
    ),
    Scenario(
        "trust_env_off_ignores_the_proxy",
        {"HTTP_PROXY": "{proxy}", "ALL_PROXY": "{proxy}"},
        trust_env=False,
        check=ok(asked=[], through_proxy=False),
    ),
    Scenario(
        "ssl_cert_file_trusted",
        {"SSL_CERT_FILE": "{cert}"},
        https=True,
        check=ok(asked=[], through_proxy=False),
    ),
    Scenario(
        "trust_env_off_ignores_ssl_cert_file",
        {"SSL_CERT_FILE": "{cert}"},
        https=True,
        trust_env=False,
        check=failed("connect_error"),
    ),
    Scenario(
        "tunnel_refused",
        {"HTTPS_PROXY": "{proxy}", "SSL_CERT_FILE": "{cert}"},
        https=True,
        proxy={"refuse_tunnels": True},
        check=failed("connect_error"),
    ),
    Scenario(
        # Plain http: the proxy's own 407 is the answer, an HTTP error like any.
        "proxy_wants_credentials",
        {"HTTP_PROXY": "{proxy}"},
        proxy={"credentials": CREDENTIALS},
        check=failed(None, 407),
    ),
    Scenario(
        "proxy_down",
        {"HTTP_PROXY": "{nowhere}"},
        check=failed("connect_error"),
    ),
]

_records: dict[tuple[str, str], Record] = {}


def library_reads_ca_file_anyway(
    runtime: Runtime, scenario: Scenario, certificate: tuple[Path, ssl.SSLContext]
) -> bool:
    """Whether a user's client, made with ``trust_env=False``, still trusts ``SSL_CERT_FILE``.

    httpx2 before 2.16 (the newest on Python 3.10) verifies with truststore,
    which reads the variable whatever ``trust_env`` says. The SDK does not
    rebuild a user's client, so there the send succeeds, as that library's own
    requests do: asked here of a plain client of the library.
    """
    if runtime.own or scenario.trust_env or "SSL_CERT_FILE" not in scenario.env:
        return False
    cert, tls = certificate
    library = importlib.import_module(runtime.name.split(".")[0])
    with pytest.MonkeyPatch.context() as env, FaultServer(tls=tls) as server:
        env.setenv("SSL_CERT_FILE", str(cert))
        server.default = Reply(200, {})
        with library.Client(trust_env=False) as client:
            try:
                client.get(server.url)
            except library.ConnectError:
                return False
    return True


def record_for(
    scenario: Scenario,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
    certificate: tuple[Path, ssl.SSLContext],
) -> Record:
    key = (scenario.name, runtime.name)
    if key not in _records:
        _records[key] = run(scenario, runtime, monkeypatch, *certificate)
    return _records[key]


@pytest.mark.parametrize("runtime", SDK_RUNTIMES, ids=lambda r: r.name)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_scenario(
    scenario: Scenario,
    runtime: Runtime,
    clean_environment: pytest.MonkeyPatch,
    certificate: tuple[Path, ssl.SSLContext],
) -> None:
    record = record_for(scenario, runtime, clean_environment, certificate)
    if library_reads_ca_file_anyway(runtime, scenario, certificate):
        ok(asked=[], through_proxy=False)(record)
    else:
        scenario.check(record)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_same_on_every_runtime(
    scenario: Scenario,
    clean_environment: pytest.MonkeyPatch,
    certificate: tuple[Path, ssl.SSLContext],
) -> None:
    records = {
        runtime.name: record_for(scenario, runtime, clean_environment, certificate)
        for runtime in SDK_RUNTIMES
        if not library_reads_ca_file_anyway(runtime, scenario, certificate)
    }
    reference_name, reference = next(iter(records.items()))
    for name, record in records.items():
        assert record == reference, f"{name} differs from {reference_name}"

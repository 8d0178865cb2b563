"""RequestsTransport beyond the conformance suite: a user's session, auth, cookies, deadlines."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from poststack import PostStack, PostStackTimeoutError
from poststack.transports.requests import DeadlineAdapter, RequestsTransport
from tests.faultserver import Drip, FaultServer, Interim, Reply

API_KEY = "sk_test_requests"


def test_a_users_session_is_used_as_is_and_not_closed() -> None:
    session = requests.Session()
    session.headers["X-Proxy-Tag"] = "team-a"
    session.auth = ("user", "password")  # must not replace the API key
    with FaultServer() as server:
        transport = RequestsTransport(session)
        with PostStack(API_KEY, server.url, transport=transport) as ps:
            ps.emails.get("em_1")
        transport.close()
        # Still open: the session belongs to the caller.
        assert session.get(server.url + "/ping", timeout=10).status_code == 200
        first = server.requests[0]
        assert first.headers["x-proxy-tag"] == "team-a"
        assert first.headers["authorization"] == f"Bearer {API_KEY}"
    session.close()


def test_netrc_does_not_replace_the_api_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    with (
        FaultServer() as server,
        PostStack(API_KEY, server.url, transport=RequestsTransport()) as ps,
    ):
        ps.emails.get("em_1")
        assert server.requests[0].headers["authorization"] == f"Bearer {API_KEY}"


def test_cookies_are_neither_kept_nor_sent() -> None:
    with FaultServer() as server:
        server.script(Reply(200, {}, {"Set-Cookie": "session=abc; Path=/"}))
        transport = RequestsTransport()
        with PostStack(API_KEY, server.url, transport=transport) as ps:
            ps.emails.get("em_1")
            ps.emails.get("em_2")
        transport.close()
        assert "cookie" not in server.requests[1].headers


def test_a_users_session_also_gets_the_whole_attempt_deadline() -> None:
    with FaultServer() as server, requests.Session() as session:
        server.script(Drip(200, b'{"padding": "' + b"x" * 80 + b'"}', interval=0.1))
        transport = RequestsTransport(session)
        ps = PostStack(API_KEY, server.url, timeout=0.5, max_retries=0, transport=transport)
        start = time.monotonic()
        with pytest.raises(PostStackTimeoutError):
            ps.emails.get("em_1")
        assert time.monotonic() - start < 3.0  # the drip would take 9 s
        # The half-read connection was closed, not handed to the next request.
        assert ps.emails.get("em_2") == {"ok": True}
        assert server.connections == 2


def test_keep_alive_reuses_one_connection() -> None:
    with FaultServer() as server:
        transport = RequestsTransport()
        with PostStack(API_KEY, server.url, transport=transport) as ps:
            for _ in range(5):
                ps.emails.send({"from": "a@acme.test", "to": ["b@example.com"], "subject": "x"})
        transport.close()
        assert server.connections == 1
        server.wait_for_open_connections(0)


def test_importing_poststack_loads_no_transport_library() -> None:
    code = (
        "import sys, poststack, poststack.transports\n"
        "print(sorted(m for m in ('requests', 'trio', 'h11', 'httpx', 'httpcore', 'urllib3')"
        " if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


def _timed_out_fast(ps: PostStack) -> float:
    start = time.monotonic()
    with pytest.raises(PostStackTimeoutError):
        ps.emails.get("em_1")
    return time.monotonic() - start


def test_the_default_session_bounds_a_dripped_head() -> None:
    with FaultServer() as server:
        server.script(Drip(200, b'{"id": "em_1"}', interval=0.1, headers_too=True))
        transport = RequestsTransport()
        with PostStack(API_KEY, server.url, timeout=0.5, max_retries=0, transport=transport) as ps:
            assert _timed_out_fast(ps) < 3.0  # the drip takes 12 s
        transport.close()


def test_a_deadline_adapter_on_a_users_session_bounds_the_head_too() -> None:
    with FaultServer() as server, requests.Session() as session:
        session.mount("http://", DeadlineAdapter())
        server.script(Drip(200, b'{"id": "em_1"}', interval=0.1, headers_too=True))
        transport = RequestsTransport(session)
        with PostStack(API_KEY, server.url, timeout=0.5, max_retries=0, transport=transport) as ps:
            assert _timed_out_fast(ps) < 3.0
            # Outside an SDK call the adapter is a stock one: no deadline of its own.
            assert session.get(server.url + "/ping", timeout=10).json() == {"ok": True}


def test_interim_answers_on_a_stock_session_never_leave_a_stale_answer_behind() -> None:
    # A stock adapter cannot read past a 103: the attempt fails, its connection is
    # closed, and the retry (a new connection) gets the server's next answer.
    with FaultServer() as server, requests.Session() as session:
        server.script(Interim((103,), Reply(200, {"id": "em_first"})), Reply(200, {"id": "em_2"}))
        with PostStack(API_KEY, server.url, transport=RequestsTransport(session)) as ps:
            assert ps.emails.get("em_1") == {"id": "em_2"}
            assert ps.emails.get("em_3") == {"ok": True}
        assert [r.connection_id for r in server.requests] == [1, 2, 2]


def test_interim_answers_are_skipped_with_a_deadline_adapter() -> None:
    with FaultServer() as server, requests.Session() as session:
        session.mount("http://", DeadlineAdapter())
        server.script(Interim((102, 103), Reply(200, {"id": "em_1"})))
        with PostStack(API_KEY, server.url, transport=RequestsTransport(session)) as ps:
            assert ps.emails.get("em_1") == {"id": "em_1"}
            assert ps.emails.get("em_2") == {"ok": True}
        assert [r.connection_id for r in server.requests] == [1, 1]


def test_the_users_session_decides_its_own_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    with FaultServer() as server, requests.Session() as session:
        session.trust_env = False
        with PostStack(API_KEY, server.url, transport=RequestsTransport(session)) as ps:
            assert ps.emails.get("em_1") == {"ok": True}
    with pytest.raises(ValueError, match="trust_env"):
        RequestsTransport(requests.Session(), trust_env=False)

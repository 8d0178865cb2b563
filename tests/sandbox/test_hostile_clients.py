"""The sandbox against a hostile page or client: Host and Origin checks, CSRF, deadlines, bounds."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import httpx
import pytest

from poststack import PostStack
from poststack.testing import Sandbox

from .helpers import MESSAGE


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


def raw(port: int, request: bytes, timeout: float = 10.0) -> bytes:
    """Send bytes on a fresh connection; everything the server answers until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


def get(port: int, host: str, path: str = "/_sandbox/messages") -> bytes:
    return raw(port, f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())


# --- Host -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/_sandbox/messages", "/emails", "/nope"])
@pytest.mark.parametrize(
    "host",
    [
        "attacker.example",  # a DNS-rebinding page's own name
        "attacker.example:{port}",
        "127.0.0.1:1",  # a loopback name on another port
        "localhost",  # no port: port 80
        "127.0.0.1.attacker.example:{port}",
        "[::1:{port}",
        "",
    ],
)
def test_foreign_hosts_are_refused_everywhere(sb: Sandbox, host: str, path: str) -> None:
    answer = get(sb.port, host.format(port=sb.port), path)
    assert answer.startswith(b"HTTP/1.1 403 "), answer[:80]
    assert b'"code":"forbidden"' in answer
    assert sb.requests == []  # refused before anything else looked at it


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST:{port}"])
def test_loopback_names_on_the_own_port_are_served(sb: Sandbox, host: str) -> None:
    assert get(sb.port, host.format(port=sb.port)).startswith(b"HTTP/1.1 200 ")


def test_allow_remote_names_extend_the_list() -> None:
    with Sandbox(allow_remote=["sandbox", "mail.test:9000"]) as sandbox:
        port = sandbox.port
        assert get(port, f"sandbox:{port}").startswith(b"HTTP/1.1 200 ")
        assert get(port, "mail.test:9000").startswith(b"HTTP/1.1 200 ")  # a mapped port
        assert get(port, f"localhost:{port}").startswith(b"HTTP/1.1 200 ")
        assert get(port, "sandbox:9000").startswith(b"HTTP/1.1 403 ")
        assert get(port, f"other:{port}").startswith(b"HTTP/1.1 403 ")
        refused = get(port, f"other:{port}")
        assert b"--allow-remote" in refused


def test_the_sdk_through_an_allowed_remote_name() -> None:
    # What a compose service does: the client connects to 127.0.0.1 but names "sandbox".
    with Sandbox(allow_remote=["sandbox"]) as sandbox:
        transport = httpx.HTTPTransport()
        with httpx.Client(
            base_url=sandbox.base_url,
            headers={
                "Host": f"sandbox:{sandbox.port}",
                "Authorization": f"Bearer {sandbox.api_key}",
            },
            transport=transport,
        ) as client:
            assert client.post("/emails", json=MESSAGE).status_code == 202


def test_binding_beyond_loopback_needs_allow_remote() -> None:
    with pytest.raises(ValueError, match="loopback addresses only"):
        Sandbox(host="0.0.0.0")
    with pytest.raises(ValueError, match="allow_remote"):
        Sandbox(host="::")
    with pytest.raises(ValueError, match="not a host name"):
        Sandbox(allow_remote=["a b:c:d"])


def test_all_interfaces_with_allow_remote() -> None:
    # Bound on every interface as in a container; the test itself talks to loopback only.
    with Sandbox(host="0.0.0.0", allow_remote=["sandbox"]) as sandbox:
        assert sandbox.base_url == f"http://127.0.0.1:{sandbox.port}"
        assert get(sandbox.port, f"sandbox:{sandbox.port}").startswith(b"HTTP/1.1 200 ")
        assert get(sandbox.port, f"evil:{sandbox.port}").startswith(b"HTTP/1.1 403 ")


# --- Origin and CSRF -------------------------------------------------------------------------


def test_cross_origin_api_calls_are_refused(sb: Sandbox) -> None:
    headers = {"Authorization": f"Bearer {sb.api_key}", "Origin": "https://attacker.example"}
    response = httpx.post(f"{sb.base_url}/emails", json=MESSAGE, headers=headers)
    assert response.status_code == 403
    assert sb.outbox == []
    same = {**headers, "Origin": sb.base_url}
    assert httpx.post(f"{sb.base_url}/emails", json=MESSAGE, headers=same).status_code == 202


def test_a_refused_cross_origin_request_spends_no_fault(sb: Sandbox) -> None:
    sb.faults.next(status=503)
    foreign = {"Authorization": f"Bearer {sb.api_key}", "Origin": "http://attacker.example"}
    assert httpx.get(f"{sb.base_url}/emails", headers=foreign).status_code == 403
    own = {"Authorization": f"Bearer {sb.api_key}"}
    assert httpx.get(f"{sb.base_url}/emails", headers=own).status_code == 503  # still armed


def test_inbox_mutations_need_json_and_the_own_origin(sb: Sandbox) -> None:
    with PostStack(api_key=sb.api_key, base_url=sb.base_url) as ps:
        email_id = ps.emails.send(MESSAGE)["id"]
    url = f"{sb.base_url}/_sandbox/messages/{email_id}/bounce"
    # What a form or a no-cors fetch on another site can send: refused, nothing changes.
    form = httpx.post(url, data={"type": "hard"})
    assert form.status_code == 415
    plain = httpx.post(url, content=b"{}", headers={"Content-Type": "text/plain"})
    assert plain.status_code == 415
    foreign = httpx.post(url, json={}, headers={"Origin": "http://attacker.example"})
    assert foreign.status_code == 403
    null_origin = httpx.post(url, json={}, headers={"Origin": "null"})
    assert null_origin.status_code == 403
    cleared = httpx.delete(f"{sb.base_url}/_sandbox/messages", headers={"Origin": "http://x.test"})
    assert cleared.status_code == 403
    assert sb.outbox[0].status == "delivered"
    own = httpx.post(url, json={"type": "hard"}, headers={"Origin": sb.base_url})
    assert own.status_code == 200
    assert sb.outbox[0].status == "bounced"


def test_no_cors_headers_are_ever_granted(sb: Sandbox) -> None:
    preflight = httpx.options(
        f"{sb.base_url}/emails",
        headers={"Origin": "http://attacker.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    page = httpx.get(f"{sb.base_url}/_sandbox/messages", headers={"Origin": "http://x.test"})
    assert "access-control-allow-origin" not in page.headers


# --- deadlines and bounds ----------------------------------------------------------------------


def test_a_slow_request_gets_a_408_and_the_connection_closes() -> None:
    with Sandbox(request_timeout=0.3) as sandbox:
        # Half a request head, then silence: the server gives up on its own.
        answer = raw(sandbox.port, b"POST /emails HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        assert answer.startswith(b"HTTP/1.1 408 ")


def test_a_dribbled_body_is_cut_at_the_deadline() -> None:
    with Sandbox(request_timeout=0.3) as sandbox:
        head = (
            f"POST /emails HTTP/1.1\r\nHost: 127.0.0.1:{sandbox.port}\r\n"
            "Content-Length: 1000\r\n\r\n{"
        ).encode()
        assert raw(sandbox.port, head).startswith(b"HTTP/1.1 408 ")
        assert sandbox.outbox == []


def test_an_idle_keepalive_connection_is_closed() -> None:
    with (
        Sandbox(idle_timeout=0.3) as sandbox,
        socket.create_connection(("127.0.0.1", sandbox.port), timeout=10) as sock,
    ):
        sock.sendall(
            f"GET /_sandbox/clock HTTP/1.1\r\nHost: 127.0.0.1:{sandbox.port}\r\n\r\n".encode()
        )
        data = b""
        while chunk := sock.recv(65536):  # ends when the server closes the idle connection
            data += chunk
        assert data.startswith(b"HTTP/1.1 200 ")
        assert data.count(b"HTTP/1.1") == 1


def _sandbox_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("poststack-sandbox")]


def test_many_idle_and_slow_connections_hold_no_threads() -> None:
    workers = 4
    with Sandbox(workers=workers) as sandbox:
        before = len(_sandbox_threads())
        held = [
            socket.create_connection(("127.0.0.1", sandbox.port), timeout=10) for _ in range(60)
        ]
        try:
            for index, sock in enumerate(held):
                if index % 2:
                    sock.sendall(b"GET /emails HTTP/1.1\r\nHost: 12")  # a head that never ends
            # Every one of those is pending, yet a normal request is answered at once.
            with PostStack(api_key=sandbox.api_key, base_url=sandbox.base_url, timeout=10) as ps:
                for _ in range(10):
                    ps.emails.send(MESSAGE)
            assert len(sandbox.outbox) == 10
            assert len(_sandbox_threads()) <= before + workers
        finally:
            for sock in held:
                sock.close()


def test_beyond_max_connections_a_503() -> None:
    with Sandbox(max_connections=3) as sandbox:
        held = [socket.create_connection(("127.0.0.1", sandbox.port), timeout=10) for _ in range(3)]
        try:
            # The third accept happens before the fourth connection arrives: wait for it.
            clock = f"GET /_sandbox/clock HTTP/1.1\r\nHost: 127.0.0.1:{sandbox.port}\r\n\r\n"
            for sock in held:
                sock.sendall(clock.encode())
                assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
            answer = get(sandbox.port, f"127.0.0.1:{sandbox.port}")
            assert answer.startswith(b"HTTP/1.1 503 ")
        finally:
            for sock in held:
                sock.close()

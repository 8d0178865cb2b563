"""Tests of the scripted fault server itself, with raw sockets and httpx."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence

import h11
import httpx
import pytest

from tests.faultserver import (
    HOST,
    CloseAfter,
    Delay,
    Drip,
    FaultServer,
    FaultServerError,
    Garbage,
    Hang,
    RecordedRequest,
    Reply,
    Reset,
    ResetMidBody,
    unused_port,
)

BIG = 5 * 1024 * 1024


# --------------------------------------------------------------------------- helpers


@dataclasses.dataclass
class RawResponse:
    status: int
    reason: bytes
    headers: dict[str, str]
    body: bytes
    data_events: int
    informational: list[int]


class RawClient:
    """A minimal HTTP/1.1 client on a plain socket (h11 does the framing)."""

    def __init__(self, port: int, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        self.h11 = h11.Connection(h11.CLIENT)

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.sock.close()

    def _head(self, method: str, target: str, headers: Sequence[tuple[str, str]]) -> bytes:
        all_headers = [("Host", "test"), *headers]
        return self.h11.send(h11.Request(method=method, target=target, headers=all_headers)) or b""

    def _body(self, body: bytes) -> bytes:
        data = (self.h11.send(h11.Data(data=body)) or b"") if body else b""
        return data + (self.h11.send(h11.EndOfMessage()) or b"")

    def send_head(
        self, method: str = "GET", target: str = "/", headers: Sequence[tuple[str, str]] = ()
    ) -> None:
        self.sock.sendall(self._head(method, target, headers))

    def send_body(self, body: bytes) -> None:
        if data := self._body(body):
            self.sock.sendall(data)

    def request(
        self,
        method: str = "GET",
        target: str = "/",
        headers: Sequence[tuple[str, str]] = (),
        body: bytes = b"",
    ) -> None:
        """Send a whole request in one write.

        Once the request is complete the server may answer and reset at once; a
        second write after that would fail with ECONNRESET on our side.
        """
        if body:
            headers = [*headers, ("Content-Length", str(len(body)))]
        self.sock.sendall(self._head(method, target, headers) + self._body(body))

    def next_event(self) -> h11.Event:
        while True:
            event = self.h11.next_event()
            if event is h11.NEED_DATA:
                self.h11.receive_data(self.sock.recv(65536))
                continue
            assert isinstance(event, h11.Event)
            return event

    def response(self) -> RawResponse:
        informational: list[int] = []
        event = self.next_event()
        while isinstance(event, h11.InformationalResponse):
            informational.append(event.status_code)
            event = self.next_event()
        assert isinstance(event, h11.Response)
        body = bytearray()
        data_events = 0
        while True:
            part = self.next_event()
            if isinstance(part, h11.EndOfMessage):
                break
            assert isinstance(part, h11.Data)
            data_events += 1
            body += part.data
        if self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE:
            self.h11.start_next_cycle()
        return RawResponse(
            status=event.status_code,
            reason=bytes(event.reason),
            headers={n.decode(): v.decode() for n, v in event.headers},
            body=bytes(body),
            data_events=data_events,
            informational=informational,
        )

    def read_all(self) -> tuple[bytes, BaseException | None]:
        """Read raw bytes until EOF or an error; return them and the error if any."""
        received = bytearray()
        try:
            while chunk := self.sock.recv(65536):
                received += chunk
        except OSError as exc:
            return bytes(received), exc
        return bytes(received), None


def in_thread(func: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    """Run ``func`` in a daemon thread; its result or exception lands in the list."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(func())
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


@pytest.fixture
def srv() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


# --------------------------------------------------------------------------- basics


def test_url_port_and_loopback(srv: FaultServer) -> None:
    assert srv.port > 0
    assert srv.host == "127.0.0.1"
    assert srv.url == f"http://127.0.0.1:{srv.port}"
    response = httpx.get(srv.url + "/")
    assert response.status_code == 200
    assert srv.connections == 1


def test_default_reply(srv: FaultServer) -> None:
    response = httpx.get(srv.url + "/anything")
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-length"] == str(len(response.content))
    assert response.headers["x-request-id"] == "req_1"


def test_script_in_order_then_default(srv: FaultServer) -> None:
    srv.script(Reply(500, {"error": "boom", "code": "internal_error"}), Reply(202, {"id": "em_1"}))
    assert srv.pending == 2
    with httpx.Client(base_url=srv.url) as client:
        first = client.post("/emails", json={})
        second = client.post("/emails", json={})
        third = client.get("/x")
    assert (first.status_code, first.json()) == (500, {"error": "boom", "code": "internal_error"})
    assert (second.status_code, second.json()) == (202, {"id": "em_1"})
    assert (third.status_code, third.json()) == (200, {"ok": True})
    assert [r.headers["x-request-id"] for r in (first, second, third)] == [
        "req_1",
        "req_2",
        "req_3",
    ]
    assert srv.pending == 0


def test_script_appends(srv: FaultServer) -> None:
    srv.script(Reply(201))
    srv.script(Reply(202))
    with httpx.Client(base_url=srv.url) as client:
        assert [client.get("/").status_code for _ in range(3)] == [201, 202, 200]


def test_default_is_settable(srv: FaultServer) -> None:
    srv.default = Reply(503, {"error": "down"})
    with httpx.Client(base_url=srv.url) as client:
        assert [client.get("/").status_code for _ in range(2)] == [503, 503]


def test_handler_overrides_script(srv: FaultServer) -> None:
    srv.script(Reply(500))

    def handler(request: RecordedRequest) -> Reply:
        return Reply(201, {"path": request.path})

    srv.handler = handler
    response = httpx.get(srv.url + "/via/handler?x=1")
    assert response.status_code == 201
    assert response.json() == {"path": "/via/handler"}
    assert srv.pending == 1


def test_handler_exception_is_reported() -> None:
    def handler(request: RecordedRequest) -> Reply:
        raise ValueError("handler bug")

    server = FaultServer().start()
    server.handler = handler
    try:
        response = httpx.get(server.url)
    finally:
        with pytest.raises(FaultServerError, match="handler bug"):
            server.__exit__(None, None, None)
    assert response.status_code == 500
    assert "handler bug" in response.json()["error"]
    assert isinstance(server.errors[0], ValueError)


def test_reply_body_kinds_and_headers(srv: FaultServer) -> None:
    text = "héllo ✉ 日本語"
    srv.script(
        Reply(200, b"\x00\xffraw"),
        Reply(200, text),
        Reply(200, [1, "two", None]),
        Reply(200),
        Reply(200, {"a": 1}, {"Content-Type": "application/problem+json", "X-Request-Id": "mine"}),
        Reply(200, b"", [("set-cookie", "a=1"), ("set-cookie", "b=2")]),
        Reply(204),
    )
    with httpx.Client(base_url=srv.url) as client:
        raw = client.get("/")
        assert raw.content == b"\x00\xffraw"
        assert "content-type" not in raw.headers
        utf8 = client.get("/")
        assert utf8.content == text.encode("utf-8")
        assert utf8.headers["content-type"] == "text/plain; charset=utf-8"
        listed = client.get("/")
        assert listed.json() == [1, "two", None]
        assert listed.headers["content-type"] == "application/json"
        empty = client.get("/")
        assert empty.content == b""
        assert empty.headers["content-length"] == "0"
        custom = client.get("/")
        assert custom.headers["content-type"] == "application/problem+json"
        assert custom.headers["x-request-id"] == "mine"
        assert custom.headers.get_list("x-request-id") == ["mine"]
        cookies = client.get("/")
        assert cookies.headers.get_list("set-cookie") == ["a=1", "b=2"]
        no_content = client.get("/")
        assert no_content.status_code == 204
        assert "content-length" not in no_content.headers
    assert srv.connections == 1


def test_reason_phrase(srv: FaultServer) -> None:
    srv.script(Reply(418, reason=b"Short And Stout"), Reply(429), Reply(599))
    with RawClient(srv.port) as client:
        client.request()
        assert (client.response().reason, 418) == (b"Short And Stout", 418)
        client.request()
        assert client.response().reason == b"Too Many Requests"
        client.request()
        response = client.response()
        assert (response.status, response.reason) == (599, b"")


def test_invalid_actions_rejected() -> None:
    with pytest.raises(ValueError, match="204"):
        Reply(204, b"body")
    with pytest.raises(ValueError, match="status"):
        Reply(100)
    with pytest.raises(ValueError, match="sent"):
        ResetMidBody(body=b"short", sent=5)


def test_head_request_gets_no_body(srv: FaultServer) -> None:
    srv.script(Reply(200, b"0123456789"))
    with httpx.Client(base_url=srv.url) as client:
        head = client.head("/")
        assert head.headers["content-length"] == "10"
        assert head.content == b""
        after = client.get("/")  # the connection must still be in sync
        assert after.json() == {"ok": True}
    assert srv.connections == 1


# --------------------------------------------------------------------------- recording


def test_recorded_request_fields(srv: FaultServer) -> None:
    with RawClient(srv.port) as client:
        client.request(
            "POST",
            "/emails/em%2F1?to=a%40b.com&empty=&x=1&x=2",
            headers=[
                ("Content-Type", "application/json"),
                ("X-Tag", "a"),
                ("x-tag", "b"),
                ("Idempotency-Key", "key-1"),
            ],
            body=b'{"subject": "h\xc3\xa9"}',
        )
        assert client.response().status == 200
    (request,) = srv.requests
    assert request.method == "POST"
    assert request.target == "/emails/em%2F1?to=a%40b.com&empty=&x=1&x=2"
    assert request.path == "/emails/em%2F1"
    assert request.query == [("to", "a@b.com"), ("empty", ""), ("x", "1"), ("x", "2")]
    assert request.headers["x-tag"] == "a, b"
    assert request.headers["idempotency-key"] == "key-1"
    assert request.headers["content-type"] == "application/json"
    assert (b"X-Tag", b"a") in request.raw_headers
    assert request.body == '{"subject": "hé"}'.encode()
    assert request.json == {"subject": "hé"}
    assert request.connection_id == 1
    assert request.http_version == "1.1"


def test_json_property_none_for_empty_or_invalid(srv: FaultServer) -> None:
    with httpx.Client(base_url=srv.url) as client:
        client.get("/")
        client.post("/", content=b"not json")
        client.post("/", content=b"[1, 2]")
    empty, invalid, valid = srv.requests
    assert empty.json is None
    assert invalid.json is None
    assert valid.json == [1, 2]


def test_only_fully_received_requests_are_recorded(srv: FaultServer) -> None:
    with RawClient(srv.port) as client:
        client.send_head("POST", "/emails", [("Content-Length", "100")])
        client.sock.sendall(b"only part of the body")
        srv.wait_for_connections(1)
    srv.wait_for_open_connections(0)
    assert srv.requests == []
    assert srv.created_emails == 0
    assert srv.errors == []


def test_utf8_bodies_byte_for_byte(srv: FaultServer) -> None:
    payload = "Grüße, ✉️ 📬 — «ok»".encode()
    srv.script(Reply(200, payload))
    response = httpx.post(srv.url + "/echo", content=payload)
    assert response.content == payload
    assert srv.requests[0].body == payload


def test_created_emails(srv: FaultServer) -> None:
    with httpx.Client(base_url=srv.url) as client:
        client.post("/emails", json={}, headers={"Idempotency-Key": "k1"})
        client.post("/emails", json={}, headers={"Idempotency-Key": "k1"})  # a retry
        client.post("/emails", json={}, headers={"Idempotency-Key": "k2"})
        client.post("/emails", json={})
        client.post("/emails", json={})
        client.post("/v1/emails", json={}, headers={"Idempotency-Key": "k3"})
        client.get("/emails")
        client.post("/emails/em_1/cancel", json={})
        client.post("/domains", json={})
    assert srv.created_emails == 5


def test_created_emails_ignores_incomplete_requests(srv: FaultServer) -> None:
    with RawClient(srv.port) as client:
        client.send_head("POST", "/emails", [("Content-Length", "10")])
    srv.wait_for_open_connections(0)
    httpx.post(srv.url + "/emails", json={}, headers={"Idempotency-Key": "k"})
    assert srv.created_emails == 1


def test_wait_for_requests(srv: FaultServer) -> None:
    srv.script(Delay(0.1, Reply(200)))

    def three_requests() -> None:
        with httpx.Client(base_url=srv.url) as client:
            for _ in range(3):
                client.get("/")

    thread, outcome = in_thread(three_requests)
    srv.wait_for_requests(3, timeout=10)
    assert len(srv.requests) >= 3
    thread.join(10)
    assert outcome == [None]


def test_wait_for_requests_times_out(srv: FaultServer) -> None:
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="1 request"):
        srv.wait_for_requests(1, timeout=0.2)
    assert time.monotonic() - started < 5


# --------------------------------------------------------------------------- connections


def test_keep_alive_with_httpx(srv: FaultServer) -> None:
    with httpx.Client(base_url=srv.url) as client:
        client.get("/one")
        client.post("/two", json={"n": 2})
    assert srv.connections == 1
    assert [r.connection_id for r in srv.requests] == [1, 1]
    assert srv.max_concurrent_connections == 1


def test_keep_alive_raw_socket(srv: FaultServer) -> None:
    with RawClient(srv.port) as client:
        client.request("GET", "/a")
        assert client.response().status == 200
        client.request("POST", "/b", body=b"xyz")
        assert client.response().status == 200
    assert srv.connections == 1
    assert [r.path for r in srv.requests] == ["/a", "/b"]
    assert srv.requests[1].body == b"xyz"


def test_pipelined_requests(srv: FaultServer) -> None:
    srv.script(Reply(201), Reply(202))
    with socket.create_connection((HOST, srv.port), timeout=10) as sock:
        sock.sendall(b"GET /1 HTTP/1.1\r\nHost: t\r\n\r\nGET /2 HTTP/1.1\r\nHost: t\r\n\r\n")
        srv.wait_for_requests(2)
    assert [r.path for r in srv.requests] == ["/1", "/2"]


def test_client_connection_close(srv: FaultServer) -> None:
    with RawClient(srv.port) as client:
        client.request(headers=[("Connection", "close")])
        response = client.response()
        assert response.status == 200
        assert response.headers["connection"] == "close"
        assert client.read_all() == (b"", None)


@pytest.mark.parametrize("action", [CloseAfter(Reply(200, {"n": 1})), Reply(200, close=True)])
def test_server_closes_after_reply(srv: FaultServer, action: CloseAfter | Reply) -> None:
    srv.script(action)
    with httpx.Client(base_url=srv.url) as client:
        first = client.get("/")
        assert first.headers["connection"] == "close"
        second = client.get("/")
        assert "connection" not in second.headers
    assert srv.connections == 2
    assert [r.connection_id for r in srv.requests] == [1, 2]


def test_connection_counting(srv: FaultServer) -> None:
    with RawClient(srv.port) as one, RawClient(srv.port) as two:
        one.request()
        two.request()
        assert one.response().status == two.response().status == 200
        assert srv.connections == 2
        assert srv.open_connections == 2
    srv.wait_for_open_connections(0)
    with RawClient(srv.port) as three:
        three.request()
        three.response()
    assert srv.connections == 3
    assert srv.max_concurrent_connections == 2


def test_malformed_request_gets_400(srv: FaultServer) -> None:
    with socket.create_connection((HOST, srv.port), timeout=10) as sock:
        sock.sendall(b"this is not a request line\r\n\r\n")
        received = bytearray()
        while chunk := sock.recv(65536):
            received += chunk
    assert received.startswith(b"HTTP/1.1 400 ")
    assert srv.requests == []


def test_expect_100_continue(srv: FaultServer) -> None:
    srv.script(Reply(201))
    with RawClient(srv.port) as client:
        client.send_head("POST", "/emails", [("Content-Length", "5"), ("Expect", "100-continue")])
        event = client.next_event()
        assert isinstance(event, h11.InformationalResponse)
        assert event.status_code == 100
        client.send_body(b"hello")
        response = client.response()
    assert response.status == 201
    assert srv.requests[0].body == b"hello"


def test_chunked_request_body(srv: FaultServer) -> None:
    def parts() -> Iterator[bytes]:
        yield b"first,"
        yield "sécond,".encode()
        yield b"third"

    httpx.post(srv.url + "/emails", content=parts())
    (request,) = srv.requests
    assert request.headers["transfer-encoding"] == "chunked"
    assert request.body == "first,sécond,third".encode()


def test_chunked_reply(srv: FaultServer) -> None:
    body = b"0123456789" * 10
    srv.script(Reply(200, body, chunked=True), Reply(200, {"j": 1}, chunked=True))
    with RawClient(srv.port) as client:
        client.request()
        response = client.response()
        assert response.headers["transfer-encoding"] == "chunked"
        assert "content-length" not in response.headers
        assert response.body == body
        assert response.data_events >= 3
    with httpx.Client() as http_client:
        reply = http_client.get(srv.url)
        assert reply.json() == {"j": 1}
        assert reply.headers["transfer-encoding"] == "chunked"


def test_five_megabyte_bodies(srv: FaultServer) -> None:
    payload = bytes(range(256)) * (BIG // 256)
    srv.script(Reply(200, payload), Reply(200, payload, chunked=True))
    with httpx.Client(base_url=srv.url, timeout=30) as client:
        sent = client.post("/upload", content=payload)
        assert sent.content == payload
        chunked = client.get("/download")
        assert chunked.content == payload
    assert srv.requests[0].body == payload
    assert srv.connections == 1


# --------------------------------------------------------------------------- faults


def test_reset_raw(srv: FaultServer) -> None:
    srv.script(Reset())
    with RawClient(srv.port) as client:
        client.request("POST", "/emails", body=b"{}")
        received, error = client.read_all()
    assert received == b""
    assert isinstance(error, ConnectionResetError)
    assert srv.requests[0].body == b"{}"


def test_reset_httpx(srv: FaultServer) -> None:
    srv.script(Reset())
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        httpx.post(srv.url + "/emails", json={"a": 1}, timeout=10)
    assert len(srv.requests) == 1
    assert httpx.get(srv.url).status_code == 200


def test_reset_mid_body_raw(srv: FaultServer) -> None:
    body = b"x" * 1000
    srv.script(ResetMidBody(200, body, sent=10))
    with RawClient(srv.port) as client:
        client.request()
        received, error = client.read_all()
    assert isinstance(error, ConnectionResetError)
    full_head = b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n"
    # Whatever arrived before the reset is a prefix of the headers and ten body bytes.
    assert full_head.startswith(received[: len(full_head)])
    assert len(received) < 200
    if b"\r\n\r\n" in received:
        assert received.split(b"\r\n\r\n", 1)[1] == b"x" * 10


def test_reset_mid_body_httpx(srv: FaultServer) -> None:
    srv.script(ResetMidBody())
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        httpx.get(srv.url, timeout=10)


def test_garbage(srv: FaultServer) -> None:
    srv.script(Garbage(), Garbage(b"\x00\x01binary junk"))
    with RawClient(srv.port) as client:
        client.request()
        assert client.read_all() == (b"this is not http\r\n\r\n", None)
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(srv.url, timeout=10)
    assert len(srv.requests) == 2


def test_hang_times_out_client(srv: FaultServer) -> None:
    srv.script(Hang())
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(srv.url, timeout=0.3)
    assert len(srv.requests) == 1
    srv.wait_for_open_connections(0)  # the client left, so the server gives up
    assert srv.errors == []


def test_stop_during_hang_is_fast() -> None:
    server = FaultServer().start()
    try:
        server.script(Hang())
        thread, outcome = in_thread(lambda: httpx.get(server.url, timeout=30))
        server.wait_for_requests(1)
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 5
        thread.join(10)
        assert not thread.is_alive()
        assert len(outcome) == 1
        assert isinstance(outcome[0], httpx.TransportError)
        assert not isinstance(outcome[0], httpx.TimeoutException)
    finally:
        server.stop()
    assert server.errors == []


def test_stop_during_hang_raw_socket() -> None:
    server = FaultServer().start()
    try:
        server.script(Hang())
        with RawClient(server.port) as client:
            client.request()
            server.wait_for_requests(1)
            started = time.monotonic()
            server.stop()
            assert time.monotonic() - started < 5
            assert client.read_all()[0] == b""
    finally:
        server.stop()
    assert server.open_connections == 0


def test_drip(srv: FaultServer) -> None:
    srv.script(Drip(201, b"abcdef", interval=0.05))
    started = time.monotonic()
    with httpx.Client(base_url=srv.url, timeout=10) as client:
        response = client.get("/")
        elapsed = time.monotonic() - started
        assert response.status_code == 201
        assert response.content == b"abcdef"
        assert elapsed >= 6 * 0.05 * 0.9
        assert client.get("/").json() == {"ok": True}  # keep-alive still works
    assert srv.connections == 1


def test_drip_sends_headers_at_once(srv: FaultServer) -> None:
    srv.script(Drip(200, b"slow body", interval=30))
    with RawClient(srv.port, timeout=10) as client:
        client.request()
        event = client.next_event()  # headers arrive long before the first body byte
        assert isinstance(event, h11.Response)
        assert event.status_code == 200
        assert dict(event.headers)[b"content-length"] == b"9"


def test_drip_headers_too(srv: FaultServer) -> None:
    srv.script(Drip(200, b"slow body", interval=30, headers_too=True))
    with RawClient(srv.port, timeout=0.5) as client:
        client.request()
        with pytest.raises(TimeoutError):
            client.sock.recv(65536)


def test_drip_headers_too_completes(srv: FaultServer) -> None:
    srv.script(Drip(200, b"ok", interval=0.001, headers_too=True))
    with RawClient(srv.port) as client:
        client.request()
        response = client.response()
    assert (response.status, response.body) == (200, b"ok")


def test_drip_client_goes_away(srv: FaultServer) -> None:
    srv.script(Drip(200, b"x" * 10_000, interval=0.02))
    with RawClient(srv.port) as client:
        client.request()
        assert isinstance(client.next_event(), h11.Response)
    srv.wait_for_open_connections(0, timeout=10)
    assert srv.errors == []


def test_stop_during_drip_is_fast() -> None:
    server = FaultServer().start()
    try:
        server.script(Drip(200, b"y" * 1000, interval=0.5))
        with RawClient(server.port) as client:
            client.request()
            assert isinstance(client.next_event(), h11.Response)
            started = time.monotonic()
            server.stop()
            assert time.monotonic() - started < 5
            received, _ = client.read_all()  # the server closed the connection
            assert len(received) < 1000
    finally:
        server.stop()
    assert server.errors == []


def test_delay(srv: FaultServer) -> None:
    srv.script(Delay(0.2, Reply(201)))
    started = time.monotonic()
    response = httpx.get(srv.url, timeout=10)
    assert response.status_code == 201
    assert time.monotonic() - started >= 0.2


def test_stop_during_delay_is_fast() -> None:
    server = FaultServer().start()
    try:
        server.script(Delay(60, Reply(201)))
        with RawClient(server.port) as client:
            client.request()
            server.wait_for_requests(1)
            started = time.monotonic()
            server.stop()
            assert time.monotonic() - started < 5
            assert client.read_all()[0] == b""
    finally:
        server.stop()


def test_stop_with_idle_keep_alive_connection_is_fast() -> None:
    server = FaultServer().start()
    try:
        with RawClient(server.port) as client:
            client.request()
            client.response()
            started = time.monotonic()
            server.stop()
            assert time.monotonic() - started < 5
            assert client.read_all()[0] == b""
    finally:
        server.stop()
    assert server.open_connections == 0


def test_stop_closes_listener_and_is_idempotent() -> None:
    with FaultServer() as server:
        port = server.port
        assert httpx.get(server.url).status_code == 200
    server.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((HOST, port), timeout=5).close()


def test_unused_port() -> None:
    port = unused_port()
    assert 0 < port < 65536
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((HOST, port), timeout=5).close()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://{HOST}:{port}/", timeout=5)

"""A scripted HTTP/1.1 server for tests, able to misbehave on purpose.

The server listens on ``127.0.0.1`` on a port picked by the kernel and answers each
fully received request with the next *action* of its script (or with ``default`` once the
script is used up, or with whatever ``handler`` returns when one is set). Actions either
reply normally (:class:`Reply`, :class:`CloseAfter`, :class:`Delay`) or inject a fault
(:class:`Reset`, :class:`ResetMidBody`, :class:`Garbage`, :class:`Hang`, :class:`Drip`).

Design notes:

* One daemon thread accepts connections, one daemon thread serves each connection;
  requests are parsed with ``h11`` so keep-alive, pipelining, chunked request bodies,
  ``Expect: 100-continue`` and ``Connection: close`` behave like a real server.
* Nothing sleeps to synchronise. Waits use :class:`threading.Event` or
  :class:`threading.Condition` with a timeout, and every socket operation is bounded.
* :meth:`FaultServer.stop` is quick even while a :class:`Hang` or :class:`Drip` is in
  progress: it sets a stop event, wakes the accept loop with a self-pipe, shuts down every
  connection socket (which wakes blocked ``recv`` calls) and joins the threads with a timeout.
* Unexpected exceptions in server threads (bugs in a handler, an invalid action...) are
  collected in :attr:`FaultServer.errors`; leaving the ``with`` block then raises
  :class:`FaultServerError` so that they cannot go unnoticed. A client going away
  (reset, broken pipe) is not an error.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import http
import json as _json
import math
import selectors
import socket
import ssl
import struct
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, TypeAlias

import h11

__all__ = [
    "Action",
    "CloseAfter",
    "Delay",
    "Drip",
    "Endless",
    "FaultServer",
    "FaultServerError",
    "Garbage",
    "Hang",
    "Interim",
    "RecordedRequest",
    "Reply",
    "Reset",
    "ResetMidBody",
    "unused_port",
]

HOST = "127.0.0.1"

_RECV_SIZE = 65536
# Upper bound for one blocking socket operation. Stopping the server normally wakes
# blocked threads at once (the sockets are shut down); this only bounds the fallback.
_SOCKET_TIMEOUT = 0.5
# A response that the client does not read for this long is abandoned.
_SEND_DEADLINE = 60.0
_JOIN_TIMEOUT = 5.0
_CHUNK_TARGET = 65536
_NO_BODY_STATUSES = frozenset({204, 304})

HeadersArg: TypeAlias = Mapping[str, str] | Sequence[tuple[str, str]]


# --------------------------------------------------------------------------- requests


@dataclasses.dataclass(frozen=True)
class RecordedRequest:
    """A request the server received completely (headers and body)."""

    method: str
    target: str
    """The raw request target, including the query string."""
    path: str
    """The target without its query string, still percent-encoded."""
    query: list[tuple[str, str]]
    headers: dict[str, str]
    """Lower-case names; repeated headers are joined with ``", "``."""
    body: bytes
    connection_id: int
    """1 for the first connection the server accepted, 2 for the second..."""
    raw_headers: tuple[tuple[bytes, bytes], ...] = ()
    """Header names and values as sent (original case, repeats kept)."""
    http_version: str = "1.1"

    @property
    def json(self) -> Any:
        """The body parsed as JSON, or None when it is empty or not valid JSON."""
        if not self.body:
            return None
        try:
            return _json.loads(self.body)
        except ValueError:
            return None


# --------------------------------------------------------------------------- actions


@dataclasses.dataclass(frozen=True)
class Reply:
    """A normal response.

    ``body`` may be bytes (sent as is), str (UTF-8, ``text/plain``), None (empty) or any
    other JSON-able object (sent as JSON with ``Content-Type: application/json``).
    ``x-request-id: req_<n>`` is added unless ``headers`` has one, and Content-Length is
    added unless ``chunked`` (then the body is sent in at least three chunks) or
    ``headers`` already has one. ``close=True`` sends ``Connection: close`` and closes the
    connection after the response. ``unasked`` bytes go out right behind the response, in
    the same write, on a connection that stays open (what looks like the answer to a
    request the client has not sent yet).
    """

    status: int
    body: object = None
    headers: HeadersArg = ()
    _: dataclasses.KW_ONLY
    chunked: bool = False
    reason: bytes | None = None
    close: bool = False
    unasked: bytes = b""

    def __post_init__(self) -> None:
        if not 200 <= self.status <= 999:
            raise ValueError(f"Reply status must be in 200..999, got {self.status}")
        if self.status in _NO_BODY_STATUSES and self.body not in (None, b"", ""):
            raise ValueError(f"a {self.status} reply cannot have a body")


@dataclasses.dataclass(frozen=True)
class CloseAfter:
    """Send ``reply`` with ``Connection: close``, then close the connection."""

    reply: Reply


@dataclasses.dataclass(frozen=True)
class Reset:
    """Read the request, then reset the connection (RST) without answering."""


@dataclasses.dataclass(frozen=True)
class ResetMidBody:
    """Send the headers (with the full Content-Length) and ``sent`` body bytes, then RST."""

    status: int = 200
    body: bytes = b'{"id": "em_truncated", "status": "queued", "padding": "xxxxxxxxxxxx"}'
    sent: int = 10

    def __post_init__(self) -> None:
        if not 0 <= self.sent < len(self.body):
            raise ValueError("ResetMidBody.sent must be smaller than the body")


@dataclasses.dataclass(frozen=True)
class Garbage:
    """Send bytes that are not an HTTP response, then close the connection."""

    data: bytes = b"this is not http\r\n\r\n"


@dataclasses.dataclass(frozen=True)
class Hang:
    """Read the request, then send nothing until the client leaves or the server stops."""


@dataclasses.dataclass(frozen=True)
class Drip:
    """Send a response one byte every ``interval`` seconds.

    The headers are sent at once unless ``headers_too``. The connection stays usable
    afterwards (keep-alive) if the client waited for the whole response.
    """

    status: int = 200
    body: bytes = b'{"ok": true}'
    interval: float = 0.2
    headers_too: bool = False


@dataclasses.dataclass(frozen=True)
class Delay:
    """Wait ``seconds`` (cut short if the server stops), then perform ``then``."""

    seconds: float
    then: Action


@dataclasses.dataclass(frozen=True)
class Interim:
    """Send informational responses (``100``, ``102``, ``103``...), then perform ``then``."""

    statuses: tuple[int, ...]
    then: Action

    def __post_init__(self) -> None:
        if not all(100 <= status < 200 and status != 101 for status in self.statuses):
            raise ValueError("Interim statuses are 1xx other than 101 (send 101 with Garbage)")


@dataclasses.dataclass(frozen=True)
class Endless:
    """A response whose body never ends: ``chunk`` after ``chunk``, ``interval`` s apart.

    Chunked, unless ``content_length`` is given: then that length is announced
    (and at most that much sent). It stops when the client leaves or the
    server stops, or once ``stop_after`` bytes are out (a bound for tests that
    must not run away if the client fails to stop). Nothing is buffered: the
    same chunk object is sent again.
    """

    status: int = 200
    chunk: bytes = b"x" * 65536
    interval: float = 0.0
    content_length: int | None = None
    headers: HeadersArg = ()
    stop_after: int | None = None


Action: TypeAlias = (
    Reply | CloseAfter | Reset | ResetMidBody | Garbage | Hang | Drip | Delay | Interim | Endless
)


# --------------------------------------------------------------------------- helpers


class FaultServerError(RuntimeError):
    """Raised when leaving a server whose threads hit unexpected exceptions."""

    def __init__(self, errors: Sequence[BaseException]) -> None:
        self.errors = list(errors)
        listing = "; ".join(f"{type(e).__name__}: {e}" for e in self.errors)
        super().__init__(f"fault server had {len(self.errors)} error(s): {listing}")


class _Disconnect(Exception):
    """Stop serving a connection quietly (server stopping, peer gone, send deadline)."""


def unused_port() -> int:
    """A loopback port with nothing listening on it (for "connection refused" tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
    return port


# TCP states (Linux's tcp_info.tcpi_state) in which the client has not yet closed its end.
_CLIENT_STILL_OPEN = frozenset({1, 4, 5})  # ESTABLISHED, FIN_WAIT1, FIN_WAIT2


def _client_holds_open(sock: socket.socket) -> bool:
    """Whether the client has not closed its end of ``sock``, as the kernel sees it now.

    A serving thread notices a closed connection only when it next reads, which
    under load can be after the client has already opened its next one: counting
    threads would then see two connections where the client never held more than
    one. The kernel knows at once (the FIN arrived before the next SYN).
    """
    tcp_info = getattr(socket, "TCP_INFO", None)
    if tcp_info is not None:
        try:
            return sock.getsockopt(socket.IPPROTO_TCP, tcp_info, 1)[0] in _CLIENT_STILL_OPEN
        except OSError:
            return False
    try:  # pragma: no cover - no TCP_INFO: peek for the end of the stream instead
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", errors="surrogateescape")


def _normalise_headers(headers: HeadersArg) -> list[tuple[str, str]]:
    if isinstance(headers, Mapping):
        return [(str(k), str(v)) for k, v in headers.items()]
    return [(str(k), str(v)) for k, v in headers]


def _encode_body(body: object) -> tuple[bytes, str | None]:
    if body is None:
        return b"", None
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body), None
    if isinstance(body, str):
        return body.encode("utf-8"), "text/plain; charset=utf-8"
    return _json.dumps(body).encode("utf-8"), "application/json"


def _reason(status: int) -> bytes:
    try:
        return http.HTTPStatus(status).phrase.encode("ascii")
    except ValueError:
        return b""


def _split(body: bytes) -> list[bytes]:
    """Split ``body`` into at least three pieces (more for big bodies)."""
    pieces = max(3, math.ceil(len(body) / _CHUNK_TARGET))
    size = max(1, math.ceil(len(body) / pieces))
    return [body[i : i + size] for i in range(0, len(body), size)]


def _make_recorded(request: h11.Request, body: bytes, connection_id: int) -> RecordedRequest:
    target = _decode(request.target)
    path, _, query = target.partition("?")
    headers: dict[str, str] = {}
    for name, value in request.headers:
        key = _decode(name)
        text = _decode(value)
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return RecordedRequest(
        method=_decode(request.method),
        target=target,
        path=path,
        query=urllib.parse.parse_qsl(query, keep_blank_values=True),
        headers=headers,
        body=body,
        connection_id=connection_id,
        raw_headers=tuple((bytes(n), bytes(v)) for n, v in request.headers.raw_items()),
        http_version=_decode(request.http_version),
    )


# --------------------------------------------------------------------------- connection


class _Connection:
    """Serves one accepted socket, in its own thread."""

    def __init__(self, server: FaultServer, sock: socket.socket, connection_id: int) -> None:
        self.server = server
        self.sock = sock
        self.connection_id = connection_id
        self.h11 = h11.Connection(h11.SERVER)
        self.stopping = server._stopping
        self.peer_closed = False

    # -- socket primitives

    def recv(self) -> bytes:
        while True:
            if self.stopping.is_set():
                raise _Disconnect
            try:
                data = self.sock.recv(_RECV_SIZE)
            except TimeoutError:
                continue
            except (ssl.SSLEOFError, ssl.SSLZeroReturnError):
                data = b""  # a TLS client that closed, with or without close_notify
            if not data:
                self.peer_closed = True
            return data

    def sendall(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        deadline = time.monotonic() + _SEND_DEADLINE
        while view:
            if self.stopping.is_set():
                raise _Disconnect
            try:
                sent = self.sock.send(view)
            except TimeoutError:
                if time.monotonic() > deadline:
                    raise _Disconnect from None
                continue
            view = view[sent:]

    def send_events(self, events: Iterable[h11.Event]) -> None:
        """Serialise ``events`` with h11 and send them (small pieces are coalesced)."""
        pending: list[bytes] = []
        size = 0
        for event in events:
            for piece in self.h11.send_with_data_passthrough(event) or ():
                if len(piece) >= _CHUNK_TARGET:
                    if pending:
                        self.sendall(b"".join(pending))
                        pending, size = [], 0
                    self.sendall(piece)
                else:
                    pending.append(bytes(piece))
                    size += len(piece)
        if pending:
            self.sendall(b"".join(pending))

    def close_gracefully(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_WR)

    def arm_reset(self) -> None:
        """Make the coming close() send RST instead of FIN."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    # -- main loop

    def run(self) -> None:
        while True:
            recorded = self.read_request()
            if recorded is None:
                return
            action = self.server._record_and_choose(recorded)
            if not self.perform(action, recorded):
                return
            if self.h11.our_state is h11.MUST_CLOSE:
                self.close_gracefully()
                return
            self.h11.start_next_cycle()

    def read_request(self) -> RecordedRequest | None:
        request: h11.Request | None = None
        body = bytearray()
        while True:
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError as exc:
                if not self.peer_closed:
                    self.send_error_response(exc)
                return None
            if event is h11.NEED_DATA:
                if self.h11.they_are_waiting_for_100_continue:
                    self.send_events([h11.InformationalResponse(status_code=100, headers=[])])
                self.h11.receive_data(self.recv())
            elif isinstance(event, h11.Request):
                request = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                assert request is not None
                return _make_recorded(request, bytes(body), self.connection_id)
            elif isinstance(event, h11.ConnectionClosed):
                return None
            else:  # pragma: no cover - PAUSED cannot happen: cycles are restarted in run()
                raise RuntimeError(f"unexpected h11 event {event!r}")

    def send_error_response(self, exc: h11.RemoteProtocolError) -> None:
        # h11 lets a server answer an unparseable request even from the IDLE state.
        if self.h11.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return
        body = _json.dumps({"error": str(exc), "code": "bad_request"}).encode()
        status = exc.error_status_hint
        try:
            self.send_events(
                [
                    h11.Response(
                        status_code=status,
                        reason=_reason(status),
                        headers=[
                            ("content-type", "application/json"),
                            ("content-length", str(len(body))),
                            ("connection", "close"),
                        ],
                    ),
                    h11.Data(data=body),
                    h11.EndOfMessage(),
                ]
            )
        except (OSError, _Disconnect):
            return
        self.close_gracefully()

    # -- actions

    def perform(self, action: Action, request: RecordedRequest) -> bool:
        """Carry out ``action``; return whether the connection may serve another request."""
        if isinstance(action, Reply):
            self.reply(action, request, force_close=False)
            return True
        if isinstance(action, CloseAfter):
            self.reply(action.reply, request, force_close=True)
            return True
        if isinstance(action, Delay):
            if self.stopping.wait(action.seconds):
                raise _Disconnect
            return self.perform(action.then, request)
        if isinstance(action, Reset):
            self.arm_reset()
            return False
        if isinstance(action, ResetMidBody):
            head = h11.Response(
                status_code=action.status,
                reason=_reason(action.status),
                headers=[
                    ("content-length", str(len(action.body))),
                    ("x-request-id", self.server._next_request_id()),
                ],
            )
            self.send_events([head, h11.Data(data=action.body[: action.sent])])
            self.arm_reset()
            return False
        if isinstance(action, Garbage):
            self.sendall(action.data)
            self.close_gracefully()
            return False
        if isinstance(action, Hang):
            while self.recv():
                pass
            return False
        if isinstance(action, Drip):
            self.drip(action, request)
            return True
        if isinstance(action, Interim):
            for status in action.statuses:
                interim = h11.InformationalResponse(
                    status_code=status, reason=_reason(status), headers=[("x-interim", "1")]
                )
                self.send_events([interim])
            return self.perform(action.then, request)
        if isinstance(action, Endless):
            self.endless(action)
            return False
        raise TypeError(f"not a fault server action: {action!r}")

    def endless(self, endless: Endless) -> None:
        headers = _normalise_headers(endless.headers)
        headers.append(("x-request-id", self.server._next_request_id()))
        if endless.content_length is None:
            headers.append(("transfer-encoding", "chunked"))
        else:
            headers.append(("content-length", str(endless.content_length)))
        head = h11.Response(
            status_code=endless.status, reason=_reason(endless.status), headers=headers
        )
        self.send_events([head])
        limits = [endless.content_length, endless.stop_after]
        left = min([math.inf, *(limit for limit in limits if limit is not None)])
        while left > 0:
            if endless.interval and self.stopping.wait(endless.interval):
                raise _Disconnect
            chunk = endless.chunk if left >= len(endless.chunk) else endless.chunk[: int(left)]
            self.send_events([h11.Data(data=chunk)])
            left -= len(chunk)
        self.send_events([h11.EndOfMessage()])

    def response_events(
        self, reply: Reply, request: RecordedRequest, *, force_close: bool
    ) -> tuple[h11.Response, list[bytes]]:
        body, content_type = _encode_body(reply.body)
        headers = _normalise_headers(reply.headers)
        names = {name.lower() for name, _ in headers}
        if "x-request-id" not in names:
            headers.append(("x-request-id", self.server._next_request_id()))
        if content_type is not None and "content-type" not in names:
            headers.append(("content-type", content_type))
        if reply.chunked:
            if "transfer-encoding" not in names:
                headers.append(("transfer-encoding", "chunked"))
        elif reply.status not in _NO_BODY_STATUSES and "content-length" not in names:
            headers.append(("content-length", str(len(body))))
        if (reply.close or force_close) and "connection" not in names:
            headers.append(("connection", "close"))
        response = h11.Response(
            status_code=reply.status,
            reason=reply.reason if reply.reason is not None else _reason(reply.status),
            headers=headers,
        )
        if request.method == "HEAD" or not body:
            return response, []
        if reply.chunked:
            return response, _split(body)
        return response, [body]

    def reply(self, reply: Reply, request: RecordedRequest, *, force_close: bool) -> None:
        response, pieces = self.response_events(reply, request, force_close=force_close)
        if reply.chunked:
            # One send per chunk, so that the client really sees them arrive separately.
            self.send_events([response])
            for piece in pieces:
                self.send_events([h11.Data(data=piece)])
            self.send_events([h11.EndOfMessage()])
        elif reply.unasked:
            events = [response, *(h11.Data(data=p) for p in pieces), h11.EndOfMessage()]
            self.sendall(b"".join(self.h11.send(event) or b"" for event in events) + reply.unasked)
        else:
            self.send_events([response, *(h11.Data(data=p) for p in pieces), h11.EndOfMessage()])

    def drip(self, drip: Drip, request: RecordedRequest) -> None:
        response, pieces = self.response_events(
            Reply(drip.status, drip.body), request, force_close=False
        )
        head = self.h11.send(response) or b""
        rest = b"".join(self.h11.send(h11.Data(data=p)) or b"" for p in pieces)
        rest += self.h11.send(h11.EndOfMessage()) or b""
        if drip.headers_too:
            rest = head + rest
        else:
            self.sendall(head)
        for index in range(len(rest)):
            if self.stopping.wait(drip.interval):
                raise _Disconnect
            self.sendall(rest[index : index + 1])


# --------------------------------------------------------------------------- server


class FaultServer:
    """A scripted HTTP/1.1 server on ``127.0.0.1:<free port>``; see the module docstring.

    Use as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(self, *, raise_errors: bool = True, tls: ssl.SSLContext | None = None) -> None:
        self.host = HOST
        self.tls = tls
        self.port = 0
        self.default: Action = Reply(200, {"ok": True})
        self.handler: Callable[[RecordedRequest], Action] | None = None
        self.raise_errors = raise_errors
        self.errors: list[BaseException] = []
        self._cond = threading.Condition()
        self._script: collections.deque[Action] = collections.deque()
        self._requests: list[RecordedRequest] = []
        self._connections = 0
        self._open = 0
        self._max_open = 0
        self._request_ids = 0
        self._stopping = threading.Event()
        self._started = False
        self._stopped = False
        self._listener: socket.socket | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._threads: list[threading.Thread] = []
        self._sockets: set[socket.socket] = set()

    # -- lifecycle

    def start(self) -> FaultServer:
        if self._started:
            raise RuntimeError("FaultServer already started")
        self._started = True
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.bind((HOST, 0))
            listener.listen(128)
            listener.setblocking(False)
            self._wake_r, self._wake_w = socket.socketpair()
        except BaseException:
            listener.close()
            raise
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name=f"faultserver-accept-{self.port}", daemon=True
        )
        self._accept_thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, drop every connection and join the threads (idempotent)."""
        if self._stopped or not self._started:
            self._stopped = True
            return
        self._stopped = True
        self._stopping.set()
        assert self._wake_w is not None
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        deadline = time.monotonic() + _JOIN_TIMEOUT
        if self._accept_thread is not None:
            self._accept_thread.join(_JOIN_TIMEOUT)
        with self._cond:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            threads = list(self._threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        with self._cond:
            stuck = [t.name for t in threads if t.is_alive()]
            if stuck:
                self.errors.append(RuntimeError(f"threads did not stop: {stuck}"))
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()
        for own in (self._listener, self._wake_r, self._wake_w):
            if own is not None:
                own.close()

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        if self.raise_errors and self.errors and exc_type is None:
            raise FaultServerError(self.errors) from self.errors[0]

    # -- public state

    @property
    def url(self) -> str:
        if not self.port:
            raise RuntimeError("FaultServer not started")
        return f"{'https' if self.tls is not None else 'http'}://{self.host}:{self.port}"

    def script(self, *actions: Action) -> None:
        """Queue actions for the next requests, in arrival order (appends to the queue)."""
        with self._cond:
            self._script.extend(actions)

    @property
    def pending(self) -> int:
        """Number of scripted actions not used yet."""
        with self._cond:
            return len(self._script)

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the fully received requests, in arrival order."""
        with self._cond:
            return list(self._requests)

    @property
    def connections(self) -> int:
        """Number of TCP connections accepted so far."""
        with self._cond:
            return self._connections

    @property
    def open_connections(self) -> int:
        """Number of connections the server is currently serving."""
        with self._cond:
            return self._open

    @property
    def max_concurrent_connections(self) -> int:
        """The most connections the client held open at once, counted at each accept.

        A connection the client has closed no longer counts, even while its
        serving thread has not noticed yet (see :func:`_client_holds_open`).
        """
        with self._cond:
            return self._max_open

    @property
    def created_emails(self) -> int:
        """Distinct Idempotency-Key values among ``POST .../emails`` requests.

        A request without the header counts as its own email. Paths ending in ``/emails``
        count (so a ``/v1`` prefix in the base URL does not matter).
        """
        keys: set[str] = set()
        without_key = 0
        for request in self.requests:
            if request.method != "POST" or not request.path.rstrip("/").endswith("/emails"):
                continue
            key = request.headers.get("idempotency-key")
            if key is None:
                without_key += 1
            else:
                keys.add(key)
        return len(keys) + without_key

    def wait_for_requests(self, n: int, timeout: float = 10.0) -> None:
        """Block until at least ``n`` requests were fully received."""
        self._wait(lambda: len(self._requests) >= n, timeout, f"{n} request(s)")

    def wait_for_connections(self, n: int, timeout: float = 10.0) -> None:
        """Block until at least ``n`` connections were accepted."""
        self._wait(lambda: self._connections >= n, timeout, f"{n} connection(s)")

    def wait_for_open_connections(self, n: int, timeout: float = 10.0) -> None:
        """Block until exactly ``n`` connections are being served (e.g. 0: all closed)."""
        self._wait(lambda: self._open == n, timeout, f"{n} open connection(s)")

    def _wait(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        with self._cond:
            if not self._cond.wait_for(predicate, timeout):
                raise TimeoutError(
                    f"timed out after {timeout}s waiting for {what}: "
                    f"{len(self._requests)} request(s), {self._connections} connection(s), "
                    f"{self._open} open"
                )

    # -- internals

    def _next_request_id(self) -> str:
        with self._cond:
            self._request_ids += 1
            return f"req_{self._request_ids}"

    def _record_and_choose(self, request: RecordedRequest) -> Action:
        with self._cond:
            self._requests.append(request)
            self._cond.notify_all()
            handler = self.handler
            if handler is None:
                return self._script.popleft() if self._script else self.default
        try:
            return handler(request)
        except Exception as exc:
            self._record_error(exc)
            return Reply(500, {"error": f"fault server handler raised {exc!r}"})

    def _record_error(self, exc: BaseException) -> None:
        with self._cond:
            self.errors.append(exc)

    def _accept_loop(self) -> None:
        assert self._listener is not None
        assert self._wake_r is not None
        selector = selectors.DefaultSelector()
        try:
            selector.register(self._listener, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while not self._stopping.is_set():
                for key, _ in selector.select(timeout=_SOCKET_TIMEOUT):
                    if key.fileobj is self._listener:
                        self._accept_one(self._listener)
        except Exception as exc:
            if not self._stopping.is_set():
                self._record_error(exc)
        finally:
            selector.close()

    def _accept_one(self, listener: socket.socket) -> None:
        try:
            sock, _ = listener.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return
        sock.settimeout(_SOCKET_TIMEOUT)
        with self._cond:
            if self._stopping.is_set():
                sock.close()
                return
            self._connections += 1
            self._open += 1
            held = 1 + sum(1 for other in self._sockets if _client_holds_open(other))
            self._max_open = max(self._max_open, held)
            connection_id = self._connections
            self._sockets.add(sock)
            thread = threading.Thread(
                target=self._serve,
                args=(sock, connection_id),
                name=f"faultserver-{self.port}-conn-{connection_id}",
                daemon=True,
            )
            self._threads.append(thread)
            self._cond.notify_all()
        thread.start()

    def _handshake(self, sock: socket.socket) -> socket.socket:
        """TLS with the client, in the connection's own thread (a slow client waits alone)."""
        assert self.tls is not None
        secure = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        with self._cond:
            self._sockets.discard(sock)  # wrap_socket took over its file descriptor
            self._sockets.add(secure)
        deadline = time.monotonic() + _SEND_DEADLINE
        while not self._stopping.is_set() and time.monotonic() < deadline:
            try:
                secure.do_handshake()
            except TimeoutError:
                continue
            except (ssl.SSLError, OSError):
                break  # e.g. the client refused our certificate
            return secure
        with self._cond:
            self._sockets.discard(secure)
            secure.close()
        raise _Disconnect

    def _serve(self, sock: socket.socket, connection_id: int) -> None:
        try:
            if self.tls is not None:
                sock = self._handshake(sock)
            _Connection(self, sock, connection_id).run()
        except (_Disconnect, ConnectionError):
            pass
        except OSError as exc:
            if not self._stopping.is_set():
                self._record_error(exc)
        except Exception as exc:
            self._record_error(exc)
        finally:
            with self._cond:
                self._sockets.discard(sock)
                sock.close()
                self._open -= 1
                self._cond.notify_all()

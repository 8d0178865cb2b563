"""HTTP/1.1 with h11: one I/O thread for every connection, a bounded pool of workers.

Theory of operation
-------------------
The I/O thread waits (``selectors``) on the listening socket, on one end of a
socket pair (``_wake``) and on every connection that is waiting for bytes.
It reads whatever arrives into that connection's ``h11.Connection`` and, once
h11 has produced a complete request (head and body), hands the connection to a
worker. Slow or idle clients therefore never hold a thread: a connection only
costs a worker while its request is being answered.

Deadlines bound what a client can hold: a keep-alive connection idle for
``idle_timeout`` seconds is closed; a request whose head and body have not
arrived ``request_timeout`` seconds after its first byte gets a 408 and is
closed; a worker's writes time out after ``request_timeout`` too. At most
``max_connections`` are open at once (a new one beyond that gets a 503 and is
closed) and at most ``workers`` threads answer requests; event streams
(Server-Sent Events) get their own threads, at most ``max_streams``.

When the server ends a connection after an error answer (408, 413, 503, a
malformed request) while the client may still be sending, it closes the
sending side only and keeps reading (and discarding) for up to ``LINGER``
seconds: closing a socket with unread bytes makes the kernel send a reset,
which can destroy the answer before the client reads it ("lingering close").

A worker asks the ``responder`` for a reply, writes it, and gives a kept-alive
connection back to the I/O thread through ``_returned`` plus a byte on the wake
socket; bytes of a pipelined next request already buffered in h11 are served
from there without waiting for the socket. ``close()`` stops the I/O thread,
shuts every connection's socket down (which wakes any thread blocked on it)
and joins every thread with a deadline. No step sleeps.
"""

from __future__ import annotations

import contextlib
import http
import logging
import queue
import secrets
import selectors
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from email.utils import formatdate
from typing import cast
from urllib.parse import parse_qsl

import h11

from ._http import Reply, StreamReply, error_reply
from ._models import RecordedRequest

__all__ = ["HTTPServer", "Responder"]

MAX_BODY_BYTES = 32 * 1024 * 1024
LINGER = 2.0
_RECV_SIZE = 65536
_log = logging.getLogger("poststack.testing")

Responder = Callable[[RecordedRequest], "Reply | StreamReply | None"]


def new_request_id() -> str:
    return f"req_{secrets.token_hex(12)}"


def _reason(status: int) -> bytes:
    try:
        return http.HTTPStatus(status).phrase.encode()
    except ValueError:
        return b""


def _plain_error(status: int, message: str) -> bytes:
    """A whole HTTP/1.1 error response, for the I/O thread to send without h11."""
    body = error_reply(
        status, "invalid_request" if status < 500 else "internal_error", message
    ).body
    head = (
        f"HTTP/1.1 {status} {_reason(status).decode()}\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n"
        "server: poststack-sandbox\r\n\r\n"
    )
    return head.encode("latin-1") + body


class _Connection:
    """One client connection and the request being read on it."""

    __slots__ = ("chunks", "conn", "deadline", "in_request", "lingering", "request", "size", "sock")

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock = sock
        self.conn = h11.Connection(h11.SERVER, max_incomplete_event_size=64 * 1024)
        self.deadline = deadline
        self.in_request = False
        self.lingering = False
        self.request: h11.Request | None = None
        self.chunks: list[bytes] = []
        self.size = 0


class _Workers:
    """At most ``limit`` daemon threads running submitted callables, started as needed."""

    def __init__(self, limit: int, name: str) -> None:
        self._limit = limit
        self._name = name
        self._queue: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._idle = 0  # threads waiting for work that no submitted task has claimed

    def submit(self, task: Callable[[], None]) -> None:
        with self._lock:
            self._queue.put(task)
            if self._idle:
                self._idle -= 1  # an idle thread takes it
            elif len(self._threads) < self._limit:
                thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._threads.append(thread)
                thread.start()
            # else: it waits for the first thread to finish its task.

    def _run(self) -> None:
        while True:
            task = self._queue.get()
            if task is None:
                return
            try:
                task()
            except Exception:  # pragma: no cover - a bug in the sandbox, not in a test
                _log.exception("sandbox worker failed")
            with self._lock:
                self._idle += 1

    def close(self, deadline: float) -> None:
        with self._lock:
            threads = list(self._threads)
        for _ in threads:
            self._queue.put(None)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))


class HTTPServer:
    """A small HTTP/1.1 server bound to one address, with bounded threads and deadlines."""

    def __init__(
        self,
        host: str,
        port: int,
        responder: Responder,
        *,
        workers: int = 32,
        max_connections: int = 512,
        max_streams: int = 32,
        idle_timeout: float = 60.0,
        request_timeout: float = 30.0,
    ) -> None:
        if workers < 1 or max_connections < 1 or max_streams < 0:
            raise ValueError("workers and max_connections must be at least 1")
        self._responder = responder
        self._idle_timeout = idle_timeout
        self._request_timeout = request_timeout
        self._max_connections = max_connections
        self._max_streams = max_streams
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._open: set[_Connection] = set()  # every connection, idle or busy
        self._returned: deque[_Connection] = deque()
        self._streams: set[threading.Thread] = set()
        self._workers = _Workers(workers, "poststack-sandbox-worker")
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._listener = socket.create_server((host, port), family=family, backlog=128)
        self._listener.setblocking(False)
        self.port: int = self._listener.getsockname()[1]
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_reader.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._io_thread = threading.Thread(
            target=self._io_loop, name="poststack-sandbox-io", daemon=True
        )

    def start(self) -> None:
        self._io_thread.start()

    def close(self, timeout: float = 5.0) -> None:
        """Stop accepting, abort every connection, join all threads (bounded by ``timeout``)."""
        deadline = time.monotonic() + timeout
        self._stopping.set()
        self._wake()
        if self._io_thread.is_alive():
            self._io_thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            for connection in self._open:
                with contextlib.suppress(OSError):
                    connection.sock.shutdown(socket.SHUT_RDWR)
            streams = list(self._streams)
        self._workers.close(deadline)
        for thread in streams:
            thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            for connection in self._open:
                connection.sock.close()
            self._open.clear()
        self._wake_reader.close()
        self._wake_writer.close()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_writer.send(b"\0")

    # -- the I/O thread --

    def _io_loop(self) -> None:
        selector = self._selector
        selector.register(self._listener, selectors.EVENT_READ, "accept")
        selector.register(self._wake_reader, selectors.EVENT_READ, "wake")
        try:
            while not self._stopping.is_set():
                for key, _ in selector.select(self._next_timeout()):
                    if key.data == "accept":
                        self._accept()
                    elif key.data == "wake":
                        self._drain_wake()
                    else:
                        self._readable(cast(_Connection, key.data))
                self._take_returned()
                self._expire()
        finally:
            selector.close()
            self._listener.close()

    def _next_timeout(self) -> float | None:
        with self._lock:
            waiting = [c.deadline for c in self._open if c.deadline > 0]
        if not waiting:
            return None
        return max(0.0, min(waiting) - time.monotonic())

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:  # BlockingIOError once the backlog is empty
                return
            sock.setblocking(False)
            with self._lock:
                active = sum(1 for c in self._open if not c.lingering)
                lingering = len(self._open) - active
            if active >= self._max_connections:
                if lingering >= self._max_connections:
                    sock.close()  # flooded: not even a polite refusal
                    continue
                connection = _Connection(sock, 0.0)
                with self._lock:
                    self._open.add(connection)
                with contextlib.suppress(OSError):
                    sock.send(_plain_error(503, "Too many connections"))
                self._start_lingering(connection)
                continue
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connection = _Connection(sock, time.monotonic() + self._idle_timeout)
            with self._lock:
                self._open.add(connection)
            self._selector.register(sock, selectors.EVENT_READ, connection)

    def _drain_wake(self) -> None:
        with contextlib.suppress(OSError):
            while self._wake_reader.recv(4096):
                pass

    def _take_returned(self) -> None:
        while True:
            with self._lock:
                if not self._returned:
                    return
                connection = self._returned.popleft()
            connection.sock.setblocking(False)
            if connection.lingering:
                self._start_lingering(connection)
                continue
            connection.deadline = time.monotonic() + self._idle_timeout
            connection.in_request = False
            # A pipelined request may be buffered already: serve it without waiting.
            if self._process(connection):
                self._selector.register(connection.sock, selectors.EVENT_READ, connection)

    def _expire(self) -> None:
        now = time.monotonic()
        with self._lock:
            expired = [c for c in self._open if 0 < c.deadline <= now]
        for connection in expired:
            self._unregister(connection)
            if connection.in_request and not connection.lingering:
                with contextlib.suppress(OSError):
                    connection.sock.send(_plain_error(408, "Request not received in time"))
                self._start_lingering(connection)
            else:
                self._discard(connection)

    def _start_lingering(self, connection: _Connection) -> None:
        """Close our side after an error answer; drain theirs until EOF or ``LINGER`` passes."""
        connection.lingering = True
        connection.deadline = time.monotonic() + LINGER
        try:
            connection.sock.shutdown(socket.SHUT_WR)
            self._selector.register(connection.sock, selectors.EVENT_READ, connection)
        except (OSError, ValueError, KeyError):
            self._discard(connection)

    def _readable(self, connection: _Connection) -> None:
        try:
            data = connection.sock.recv(_RECV_SIZE)
        except BlockingIOError:
            return
        except OSError:
            self._unregister(connection)
            self._discard(connection)
            return
        if connection.lingering:
            if not data:
                self._unregister(connection)
                self._discard(connection)
            return
        if not connection.in_request and data:
            connection.in_request = True
            connection.deadline = time.monotonic() + self._request_timeout
        with contextlib.suppress(h11.RemoteProtocolError):  # next_event reports it
            connection.conn.receive_data(data)
        if not self._process(connection):
            self._unregister(connection)

    def _process(self, connection: _Connection) -> bool:
        """Feed h11's events; True to keep waiting for bytes, False once handed off or closed."""
        while True:
            try:
                event = connection.conn.next_event()
            except h11.RemoteProtocolError as exc:
                self._hand_off(connection, None, (exc.error_status_hint, "Malformed HTTP request"))
                return False
            if event is h11.NEED_DATA:
                if connection.conn.they_are_waiting_for_100_continue:
                    with contextlib.suppress(OSError, h11.LocalProtocolError):
                        connection.sock.send(
                            connection.conn.send(
                                h11.InformationalResponse(status_code=100, headers=[])
                            )
                        )
                if connection.conn.trailing_data[0] and not connection.in_request:
                    connection.in_request = True
                    connection.deadline = time.monotonic() + self._request_timeout
                return True
            if event is h11.PAUSED:
                return True  # cannot happen between requests; wait for the next cycle
            if isinstance(event, h11.Request):
                connection.request = event
                connection.chunks = []
                connection.size = 0
                if not connection.in_request:
                    connection.in_request = True
                    connection.deadline = time.monotonic() + self._request_timeout
            elif isinstance(event, h11.Data):
                connection.size += len(event.data)
                if connection.size > MAX_BODY_BYTES:
                    self._hand_off(connection, None, (413, "Request body too large"))
                    return False
                connection.chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                self._hand_off(connection, self._recorded(connection), None)
                return False
            else:  # ConnectionClosed: the client went away
                self._discard(connection)
                return False

    def _recorded(self, connection: _Connection) -> RecordedRequest:
        event = connection.request
        assert event is not None
        target = event.target.decode("latin-1")
        path, _, query = target.partition("?")
        headers: dict[str, str] = {}
        for raw_name, raw_value in event.headers:
            name = raw_name.decode("latin-1").lower()
            value = raw_value.decode("latin-1")
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        body = b"".join(connection.chunks)
        connection.chunks = []
        return RecordedRequest(
            method=event.method.decode("ascii", "replace").upper(),
            path=path,
            query=tuple(parse_qsl(query, keep_blank_values=True)),
            headers=headers,
            body=body,
            request_id=new_request_id(),
        )

    def _hand_off(
        self,
        connection: _Connection,
        request: RecordedRequest | None,
        error: tuple[int, str] | None,
    ) -> None:
        connection.deadline = 0.0  # a worker owns it now; its writes have their own timeout
        self._workers.submit(lambda: self._serve(connection, request, error))

    def _unregister(self, connection: _Connection) -> None:
        with contextlib.suppress(KeyError, ValueError, OSError):
            self._selector.unregister(connection.sock)

    def _discard(self, connection: _Connection, *, reset: bool = False) -> None:
        with self._lock:
            self._open.discard(connection)
        if reset:
            # SO_LINGER on, timeout 0: close() sends RST instead of FIN.
            with contextlib.suppress(OSError):
                connection.sock.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
        connection.sock.close()

    # -- workers --

    def _serve(
        self,
        connection: _Connection,
        request: RecordedRequest | None,
        error: tuple[int, str] | None,
    ) -> None:
        sock = connection.sock
        if self._stopping.is_set():
            self._discard(connection)  # queued before close(): never answered
            return
        try:
            sock.settimeout(self._request_timeout)
            if request is None:
                assert error is not None
                self._send_final_error(connection, *error)
                self._return(connection, linger=True)
                return
            try:
                reply = self._responder(request)
            except Exception:
                _log.exception("sandbox failed to answer %s %s", request.method, request.path)
                reply = error_reply(500, "internal_error", "The sandbox failed; see its log")
            if reply is None:
                self._discard(connection, reset=True)
                return
            if isinstance(reply, StreamReply):
                self._start_stream(connection, request, reply)
                return
            self._send(connection, request.method, request.request_id, reply)
            conn = connection.conn
            if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
                conn.start_next_cycle()
                self._return(connection, linger=False)
                return
            # We answered before reading all of the request (or must close): linger.
            still_sending = conn.their_state not in (h11.DONE, h11.MUST_CLOSE, h11.CLOSED)
            self._return(connection, linger=still_sending)
        except (OSError, h11.ProtocolError):
            self._discard(connection)

    def _return(self, connection: _Connection, *, linger: bool) -> None:
        """Give a connection back to the I/O thread: to wait for its next request, or to linger."""
        if self._stopping.is_set():
            self._discard(connection)
            return
        if not linger and connection.conn.our_state is not h11.IDLE:
            self._discard(connection)  # a "Connection: close" exchange: done
            return
        connection.lingering = linger
        with self._lock:
            self._returned.append(connection)
        self._wake()

    def _head(self, request_id: str, reply: Reply | StreamReply) -> list[tuple[str, str]]:
        return [
            ("content-type", reply.content_type),
            ("x-request-id", request_id),
            ("date", formatdate(usegmt=True)),
            ("server", "poststack-sandbox"),
            *reply.headers,
        ]

    def _send(
        self,
        connection: _Connection,
        method: str,
        request_id: str,
        reply: Reply,
        *,
        close: bool = False,
    ) -> None:
        headers = self._head(request_id, reply)
        headers.insert(1, ("content-length", str(len(reply.body))))
        if close:
            headers.append(("connection", "close"))
        conn = connection.conn
        out = conn.send(
            h11.Response(status_code=reply.status, headers=headers, reason=_reason(reply.status))
        )
        if method != "HEAD" and reply.body:
            out += conn.send(h11.Data(data=reply.body))
        out += conn.send(h11.EndOfMessage())
        connection.sock.sendall(out)

    def _send_final_error(self, connection: _Connection, status: int, message: str) -> None:
        if connection.conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return
        code = "invalid_request" if status < 500 else "internal_error"
        with contextlib.suppress(OSError, h11.ProtocolError):
            self._send(
                connection, "POST", new_request_id(), error_reply(status, code, message), close=True
            )

    # -- event streams --

    def _start_stream(
        self, connection: _Connection, request: RecordedRequest, reply: StreamReply
    ) -> None:
        thread = threading.Thread(
            target=self._stream,
            args=(connection, request, reply),
            name="poststack-sandbox-stream",
            daemon=True,
        )
        with self._lock:
            room = len(self._streams) < self._max_streams and not self._stopping.is_set()
            if room:
                self._streams.add(thread)
        if not room:
            refusal = error_reply(503, "internal_error", "Too many open event streams")
            with contextlib.suppress(OSError, h11.ProtocolError):
                self._send(connection, request.method, request.request_id, refusal, close=True)
            self._discard(connection)
            return
        thread.start()

    def _stream(
        self, connection: _Connection, request: RecordedRequest, reply: StreamReply
    ) -> None:
        conn = connection.conn
        sock = connection.sock
        try:
            headers = [*self._head(request.request_id, reply), ("connection", "close")]
            # The head goes out with the first chunk: what run() sets up before it
            # writes is in place before the client can see the response.
            unsent = [conn.send(h11.Response(status_code=200, headers=headers, reason=b"OK"))]

            def write(chunk: bytes) -> None:
                if self._stopping.is_set():
                    raise ConnectionAbortedError("the sandbox is stopping")
                sock.sendall(b"".join([*unsent, conn.send(h11.Data(data=chunk))]))
                unsent.clear()

            reply.run(write)
            with contextlib.suppress(OSError, h11.ProtocolError):
                sock.sendall(b"".join([*unsent, conn.send(h11.EndOfMessage())]))
        except (OSError, h11.ProtocolError):
            pass
        finally:
            self._discard(connection)
            with self._lock:
                self._streams.discard(threading.current_thread())

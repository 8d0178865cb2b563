"""HTTP/1.1 over plain sockets with h11: one listener thread, one thread per connection.

Theory of operation
-------------------
The listener thread waits (``selectors``) on the listening socket and on one end
of a socket pair; ``close()`` writes a byte to the other end, so the wait ends at
once without polling. Each accepted connection gets a daemon thread that runs an
``h11.Connection`` in a loop: read one complete request, ask the ``responder``
for a :class:`Reply` (or ``None``, meaning "abort the connection with a TCP
RST"), write the reply, and start the next keep-alive cycle.

Every live connection socket sits in ``_connections`` (under ``_lock``).
``close()`` shuts them all down, which wakes any thread blocked in ``recv``;
each thread then closes its own socket and exits, and ``close()`` joins them
with a deadline. No step sleeps: all waiting is on sockets, events and joins.
"""

from __future__ import annotations

import contextlib
import http
import secrets
import selectors
import socket
import struct
import threading
import time
from collections.abc import Callable
from email.utils import formatdate
from typing import cast
from urllib.parse import parse_qsl

import h11

from ._app import Reply, error_reply
from ._models import RecordedRequest

__all__ = ["HTTPServer", "Responder"]

MAX_BODY_BYTES = 32 * 1024 * 1024
_RECV_SIZE = 65536

Responder = Callable[[RecordedRequest], "Reply | None"]


class _BodyTooLarge(Exception):
    pass


def new_request_id() -> str:
    return f"req_{secrets.token_hex(12)}"


def _reason(status: int) -> bytes:
    try:
        return http.HTTPStatus(status).phrase.encode()
    except ValueError:
        return b""


class HTTPServer:
    """A small threaded HTTP/1.1 server bound to one loopback address."""

    def __init__(self, host: str, port: int, responder: Responder) -> None:
        self._responder = responder
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._threads: set[threading.Thread] = set()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._listener = socket.create_server((host, port), family=family, backlog=128)
        self._listener.setblocking(False)
        self.port: int = self._listener.getsockname()[1]
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name="poststack-sandbox-accept", daemon=True
        )

    def start(self) -> None:
        self._accept_thread.start()

    def close(self, timeout: float = 5.0) -> None:
        """Stop accepting, abort every connection, join all threads (bounded by timeout)."""
        deadline = time.monotonic() + timeout
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._wake_writer.send(b"\0")
        if self._accept_thread.is_alive():
            self._accept_thread.join(max(0.0, deadline - time.monotonic()))
        self._listener.close()
        self._wake_reader.close()
        self._wake_writer.close()
        with self._lock:
            connections = list(self._connections)
            threads = list(self._threads)
            for sock in connections:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            # Only sockets whose thread did not finish in time are left here.
            for sock in self._connections:
                sock.close()
            self._connections.clear()

    # -- accepting --

    def _accept_loop(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ, "accept")
            selector.register(self._wake_reader, selectors.EVENT_READ, "wake")
            while not self._stopping.is_set():
                for key, _ in selector.select():
                    if key.data == "wake":
                        return
                    try:
                        sock, _ = self._listener.accept()
                    except OSError:  # BlockingIOError after a spurious wakeup, or aborted
                        continue
                    self._spawn(sock)

    def _spawn(self, sock: socket.socket) -> None:
        sock.setblocking(True)
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        thread = threading.Thread(
            target=self._serve, args=(sock,), name="poststack-sandbox-conn", daemon=True
        )
        with self._lock:
            if self._stopping.is_set():
                sock.close()
                return
            self._connections.add(sock)
            self._threads.add(thread)
        thread.start()

    # -- one connection --

    def _serve(self, sock: socket.socket) -> None:
        conn = h11.Connection(h11.SERVER)
        reset = False
        try:
            while not self._stopping.is_set():
                try:
                    request = self._read_request(conn, sock)
                except h11.RemoteProtocolError as exc:
                    self._send_final_error(
                        conn, sock, exc.error_status_hint, "Malformed HTTP request"
                    )
                    return
                except _BodyTooLarge:
                    self._send_final_error(conn, sock, 413, "Request body too large")
                    return
                if request is None:
                    return
                reply = self._responder(request)
                if reply is None:
                    reset = True
                    return
                self._send_reply(conn, sock, request.method, request.request_id, reply)
                if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                    return
                conn.start_next_cycle()
        except (OSError, h11.ProtocolError):
            return
        finally:
            self._finish(sock, reset=reset)

    def _finish(self, sock: socket.socket, *, reset: bool) -> None:
        with self._lock:
            self._connections.discard(sock)
            self._threads.discard(threading.current_thread())
            if reset:
                # SO_LINGER on, timeout 0: close() sends RST instead of FIN.
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()

    def _next_event(self, conn: h11.Connection, sock: socket.socket) -> h11.Event | None:
        """The next event of the current request; ``None`` for PAUSED."""
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                if conn.they_are_waiting_for_100_continue:
                    sock.sendall(conn.send(h11.InformationalResponse(status_code=100, headers=[])))
                conn.receive_data(sock.recv(_RECV_SIZE))
            elif event is h11.PAUSED:
                return None
            else:
                return cast(h11.Event, event)

    def _read_request(self, conn: h11.Connection, sock: socket.socket) -> RecordedRequest | None:
        event = self._next_event(conn, sock)
        if not isinstance(event, h11.Request):
            return None  # ConnectionClosed (or PAUSED, which cannot happen here)
        chunks: list[bytes] = []
        size = 0
        while True:
            part = self._next_event(conn, sock)
            if isinstance(part, h11.Data):
                size += len(part.data)
                if size > MAX_BODY_BYTES:
                    raise _BodyTooLarge
                chunks.append(bytes(part.data))
            elif isinstance(part, h11.EndOfMessage):
                break
            else:
                return None  # the peer went away mid-request
        target = event.target.decode("latin-1")
        path, _, query = target.partition("?")
        headers: dict[str, str] = {}
        for raw_name, raw_value in event.headers:
            name = raw_name.decode("latin-1").lower()
            value = raw_value.decode("latin-1")
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        return RecordedRequest(
            method=event.method.decode("ascii", "replace").upper(),
            path=path,
            query=tuple(parse_qsl(query, keep_blank_values=True)),
            headers=headers,
            body=b"".join(chunks),
            request_id=new_request_id(),
        )

    def _send_reply(
        self,
        conn: h11.Connection,
        sock: socket.socket,
        method: str,
        request_id: str,
        reply: Reply,
        *,
        close: bool = False,
    ) -> None:
        headers: list[tuple[str, str]] = [
            ("content-type", reply.content_type),
            ("content-length", str(len(reply.body))),
            ("x-request-id", request_id),
            ("date", formatdate(usegmt=True)),
            ("server", "poststack-sandbox"),
            *reply.headers,
        ]
        if close:
            headers.append(("connection", "close"))
        out = conn.send(
            h11.Response(status_code=reply.status, headers=headers, reason=_reason(reply.status))
        )
        if method != "HEAD" and reply.body:
            out += conn.send(h11.Data(data=reply.body))
        out += conn.send(h11.EndOfMessage())
        sock.sendall(out)

    def _send_final_error(
        self, conn: h11.Connection, sock: socket.socket, status: int, message: str
    ) -> None:
        if conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return
        code = "invalid_request" if status < 500 else "internal_error"
        with contextlib.suppress(OSError, h11.ProtocolError):
            self._send_reply(
                conn, sock, "POST", new_request_id(), error_reply(status, code, message), close=True
            )

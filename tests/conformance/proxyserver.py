"""An HTTP proxy on loopback for tests: it forwards ``http://`` requests and tunnels CONNECT.

The proxy records the head of everything it is asked (:attr:`ProxyServer.asked`)
and passes it on to the server named in the request, which must be on
loopback: a plain request is forwarded in origin form (its ``Proxy-*``
headers dropped) and the answer relayed back, keep-alive included; a CONNECT
gets ``200`` and then the bytes flow both ways until either side closes.
``credentials`` makes the proxy demand that ``Proxy-Authorization`` value
(``407`` otherwise); ``refuse_tunnels`` answers every CONNECT with ``403``.

Threads as in the fault server: one accepts, one serves each client
connection, one more pumps each direction of a tunnel. Every socket
operation has a timeout, and :meth:`stop` shuts every socket down.
"""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import threading
from types import TracebackType

import h11

_TIMEOUT = 30.0
_LOOPBACK = {"127.0.0.1", "localhost", "[::1]"}


@dataclasses.dataclass(frozen=True)
class Asked:
    """The head of one request the proxy received."""

    method: str
    target: str
    headers: dict[str, str]
    """Lower-case names."""


class ProxyServer:
    def __init__(self, *, credentials: str | None = None, refuse_tunnels: bool = False) -> None:
        self.credentials = credentials
        self.refuse_tunnels = refuse_tunnels
        self.asked: list[Asked] = []
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ProxyServer:
        self._spawn(self._accept)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        if self.errors and exc_type is None:
            raise RuntimeError(f"the proxy failed: {self.errors!r}") from self.errors[0]

    def stop(self) -> None:
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with self._lock:
            sockets, threads = list(self._sockets), list(self._threads)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(10)
        for sock in sockets:
            sock.close()

    # -- plumbing

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=self._guarded, args=(target, *args), daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _guarded(self, target: object, *args: object) -> None:
        try:
            target(*args)  # type: ignore[operator]
        except (OSError, h11.ProtocolError):
            pass  # a peer that went away, or the proxy stopping
        except Exception as exc:
            self.errors.append(exc)

    def _track(self, sock: socket.socket) -> socket.socket:
        sock.settimeout(_TIMEOUT)
        with self._lock:
            self._sockets.add(sock)
        return sock

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self._spawn(self._serve, self._track(client))

    # -- one client connection

    def _serve(self, client: socket.socket) -> None:
        conn = h11.Connection(h11.SERVER)
        upstreams: dict[tuple[str, int], tuple[socket.socket, h11.Connection]] = {}
        try:
            while True:
                request, body = _read_request(client, conn)
                if request is None:
                    return
                headers = {k.decode().lower(): v.decode() for k, v in request.headers}
                target = request.target.decode()
                with self._lock:
                    self.asked.append(Asked(request.method.decode(), target, headers))
                if self.credentials is not None and (
                    headers.get("proxy-authorization") != self.credentials
                ):
                    _answer(client, conn, 407, [("Proxy-Authenticate", 'Basic realm="test"')])
                elif request.method == b"CONNECT":
                    if self.refuse_tunnels:
                        _answer(client, conn, 403, [])
                    else:
                        self._tunnel(client, conn, target)
                        return
                else:
                    self._forward(client, conn, request, body, upstreams)
                if conn.our_state is h11.MUST_CLOSE:
                    return
                conn.start_next_cycle()
        finally:
            for upstream, _ in upstreams.values():
                upstream.close()

    def _tunnel(self, client: socket.socket, conn: h11.Connection, authority: str) -> None:
        host, _, port = authority.rpartition(":")
        assert host in _LOOPBACK, f"the test proxy only reaches loopback, not {host}"
        upstream = self._track(socket.create_connection((host.strip("[]"), int(port)), 10))
        client.sendall(conn.send(h11.Response(status_code=200, headers=[])) or b"")
        leftover, _ = conn.trailing_data
        if leftover:
            upstream.sendall(leftover)
        self._spawn(_pump, upstream, client)
        _pump(client, upstream)

    def _forward(
        self,
        client: socket.socket,
        conn: h11.Connection,
        request: h11.Request,
        body: bytes,
        upstreams: dict[tuple[str, int], tuple[socket.socket, h11.Connection]],
    ) -> None:
        url = request.target.decode()
        assert url.startswith("http://"), f"a forwarded request names its URL, got {url!r}"
        authority, _, path = url[len("http://") :].partition("/")
        host, _, port = authority.rpartition(":")
        assert host in _LOOPBACK, f"the test proxy only reaches loopback, not {host}"
        key = (host.strip("[]"), int(port))
        if key not in upstreams:
            upstream = self._track(socket.create_connection(key, 10))
            upstreams[key] = (upstream, h11.Connection(h11.CLIENT))
        upstream, client_side = upstreams[key]
        headers = [(k, v) for k, v in request.headers if not k.lower().startswith(b"proxy-")]
        out = client_side.send(
            h11.Request(method=request.method, target="/" + path, headers=headers)
        )
        out = (out or b"") + (client_side.send(h11.Data(data=body)) or b"") if body else out or b""
        upstream.sendall(out + (client_side.send(h11.EndOfMessage()) or b""))
        # Relay the answer event by event, re-framed by our own h11 (keep-alive intact).
        while True:
            event = client_side.next_event()
            if event is h11.NEED_DATA:
                client_side.receive_data(upstream.recv(65536))
                continue
            if isinstance(event, h11.InformationalResponse | h11.Response | h11.Data):
                client.sendall(conn.send(event) or b"")
            elif isinstance(event, h11.EndOfMessage):
                client.sendall(conn.send(event) or b"")
                break
            else:
                raise ConnectionError(f"the server sent {event!r}")
        if client_side.our_state is h11.DONE and client_side.their_state is h11.DONE:
            client_side.start_next_cycle()
        else:
            upstream.close()
            del upstreams[key]


def _read_request(sock: socket.socket, conn: h11.Connection) -> tuple[h11.Request | None, bytes]:
    request: h11.Request | None = None
    body = bytearray()
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(sock.recv(65536))
        elif isinstance(event, h11.Request):
            request = event
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage):
            return request, bytes(body)
        else:  # ConnectionClosed
            return None, b""


def _answer(
    sock: socket.socket, conn: h11.Connection, status: int, headers: list[tuple[str, str]]
) -> None:
    head = h11.Response(status_code=status, headers=[*headers, ("Content-Length", "0")])
    sock.sendall((conn.send(head) or b"") + (conn.send(h11.EndOfMessage()) or b""))


def _pump(source: socket.socket, sink: socket.socket) -> None:
    """Copy from ``source`` to ``sink`` until ``source`` closes; then end ``sink``'s writing."""
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    finally:
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

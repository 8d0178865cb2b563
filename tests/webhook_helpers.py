"""Helpers for webhook tests: a loopback receiver, a sandbox webhook, a signed delivery.

Every receiver listens on 127.0.0.1 on a port the OS picks. Waiting is on a
condition variable notified by the server thread: no test sleeps.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from poststack import PostStack
from poststack.testing import Sandbox
from poststack_core import sign


@dataclass(frozen=True)
class Received:
    """One request a receiver got: its headers (lower-case names) and raw body."""

    headers: dict[str, str]
    body: bytes

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """A plain HTTP server that records every POST and answers ``answer(received)``."""

    def __init__(self, answer: Callable[[Received], int] = lambda _: 200) -> None:
        self.received: list[Received] = []
        self._answer = answer
        self._changed = threading.Condition()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                got = Received(
                    {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length)
                )
                status = outer._answer(got)
                # Recorded before the answer: the sender sends the next delivery only
                # after this one is answered, so the list keeps their order.
                with outer._changed:
                    outer.received.append(got)
                    outer._changed.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def wait_for(self, n: int, timeout: float = 10.0) -> list[Received]:
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.received) >= n, timeout):
                raise TimeoutError(f"expected {n} deliveries, got {len(self.received)}")
            return list(self.received)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _ThreadingWSGIServer(WSGIServer):
    daemon_threads = True

    def process_request(self, request: Any, client_address: Any) -> None:
        # One thread per connection, as production servers do: a slow handler must
        # not hold up a second delivery of the same event (the de-duplication tests).
        thread = threading.Thread(target=self._serve, args=(request, client_address), daemon=True)
        thread.start()

    def _serve(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)


@contextmanager
def serve_wsgi(app: Any) -> Iterator[str]:
    """Serve a WSGI app (Django's, Flask's) on a free loopback port; yield its base URL."""
    server = make_server(
        "127.0.0.1", 0, app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def client_for(sb: Sandbox) -> PostStack:
    return PostStack(api_key=sb.api_key, base_url=sb.base_url, max_retries=0)


def register(sb: Sandbox, url: str, events: Sequence[str]) -> tuple[int, str]:
    """Register a webhook on the sandbox; its id and signing secret."""
    with client_for(sb) as ps:
        created = ps.webhooks.create({"url": url, "events": list(events)})
    return created["webhook"]["id"], created["signingSecret"]


def signed_request(payload: dict[str, Any], secret: str) -> tuple[bytes, dict[str, str]]:
    """A delivery as PostStack makes it: the body bytes and its signature header."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    return body, {"X-PostStack-Signature": sign(body, secret), "Content-Type": "application/json"}


EMAIL_EVENTS = [
    "email.queued",
    "email.sent",
    "email.delivered",
    "email.deferred",
    "email.bounced",
    "email.soft_bounced",
    "email.opened",
    "email.clicked",
    "email.complained",
    "email.unsubscribed",
    "email.failed",
]

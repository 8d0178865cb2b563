"""``Sandbox``: the public face of the in-process PostStack server."""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Callable, Iterable
from dataclasses import replace
from http import HTTPStatus
from types import TracebackType
from typing import Any, TypeVar

from ._app import App, Reply, error_reply
from ._faults import Fault, FaultPlan
from ._models import RecordedRequest, SandboxEmail, WebhookDelivery
from ._server import HTTPServer
from ._store import Store
from ._webhook_delivery import WebhookDispatcher

__all__ = ["Sandbox"]

_T = TypeVar("_T")


def _loopback_host(host: str) -> str:
    if host.lower() == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        raise ValueError(f"Sandbox binds loopback addresses only, not {host!r}") from None
    if not address.is_loopback:
        raise ValueError(f"Sandbox binds loopback addresses only, not {host!r}")
    return str(address)


class Sandbox:
    """An in-process, PostStack-compatible API server on a loopback port.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`::

        with Sandbox() as sb:
            client = PostStack(api_key=sb.api_key, base_url=sb.base_url)
            client.emails.send({"from": "hello@yourdomain.com", "to": ["a@b.c"],
                                "subject": "Hi", "text": "Hello"})
            assert sb.outbox[0].subject == "Hi"

    The server runs in daemon threads (one listener, one per connection, one
    for webhook delivery), so it serves sync and async clients alike.

    Arguments:

    - ``api_key``: the only bearer key the server accepts; anything else is a
      401 ``unauthorized``. A ``sk_test_`` key marks emails ``testMode: true``.
    - ``port``: 0 (the default) lets the OS pick a free port.
    - ``host``: a loopback address (``127.0.0.1``, ``::1``, ``localhost``);
      anything else raises ``ValueError``.
    - ``require_verified_domain``: ``False`` by default, so any ``from``
      address works out of the box (``hello@yourdomain.com`` included). When
      ``True``, a send whose from-address domain (or a parent of it) is not a
      verified domain is a 422 ``unprocessable_entity`` ("Domain not
      verified"), as the real API does; verify a domain with
      ``POST /domains`` + ``POST /domains/{id}/verify`` or list it in
      ``verified_domains``.
    - ``verified_domains``: domains that exist, already verified, from the
      start (default ``("example.com",)``); they appear in ``GET /domains``.
    - ``webhook_timeout`` / ``webhook_attempts``: per-attempt timeout and
      number of tries for each webhook delivery.

    Behaviour worth knowing: an email without ``scheduled_at`` (or with one in
    the past) is delivered at once (status ``delivered``, events ``queued``,
    ``sent``, ``delivered``) and fires ``email.sent`` and ``email.delivered``
    webhooks; a future ``scheduled_at`` keeps it ``scheduled`` until it is
    cancelled, rescheduled or released with :meth:`release_scheduled` (the
    sandbox has no clock-driven sending). Idempotency keys (the header on any
    POST, and ``idempotency_key`` in a ``POST /emails`` body) remember only
    successful responses: a replay with the same body gets the same status
    and body (plus ``idempotent-replayed: true``); the same key with a different
    body is a 409 ``conflict``.
    """

    def __init__(
        self,
        api_key: str = "sk_test_sandbox",
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        require_verified_domain: bool = False,
        verified_domains: Iterable[str] = ("example.com",),
        webhook_timeout: float = 2.0,
        webhook_attempts: int = 3,
    ) -> None:
        if not api_key:
            raise ValueError("api_key must not be empty")
        self.api_key = api_key
        self.host: str = _loopback_host(host)
        self._requested_port = port
        self._verified_domains = tuple(verified_domains)
        self.faults: FaultPlan = FaultPlan()
        self._stop_event = threading.Event()
        self._store = Store()
        self._dispatcher = WebhookDispatcher(
            self._store,
            self._stop_event,
            timeout=webhook_timeout,
            max_attempts=webhook_attempts,
        )
        self._app = App(
            self._store,
            api_key,
            require_verified_domain=require_verified_domain,
            on_email_accepted=self._dispatcher.email_accepted,
        )
        for name in self._verified_domains:
            self._app.add_domain(name.lower(), verified=True)
        self._server: HTTPServer | None = None
        self._state = "new"
        self._state_lock = threading.Lock()

    # -- lifecycle --

    def start(self) -> Sandbox:
        """Bind the port and start serving; returns ``self``."""
        with self._state_lock:
            if self._state != "new":
                raise RuntimeError(f"Sandbox cannot start: it is {self._state}")
            server = HTTPServer(self.host, self._requested_port, self._respond)
            self._server = server
            self._dispatcher.start()
            server.start()
            self._state = "running"
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving: close the listener and every connection, join the threads.

        Requests in a fault ``delay`` are cut short; undelivered webhook events
        are dropped. Calling ``stop`` again (or before ``start``) does nothing.
        """
        with self._state_lock:
            if self._state != "running":
                self._state = "stopped"
                return
            self._state = "stopped"
        self._stop_event.set()
        if self._server is not None:
            self._server.close(timeout)
        self._dispatcher.close(timeout)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.base_url if self._server is not None else "not started"
        return f"<Sandbox {where} ({self._state})>"

    @property
    def port(self) -> int:
        """The bound port (only once started)."""
        if self._server is None:
            raise RuntimeError("Sandbox is not started")
        return self._server.port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (only once started)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    # -- inspection --

    @property
    def outbox(self) -> list[SandboxEmail]:
        """Snapshots of every accepted email, oldest first."""
        with self._store.lock:
            return [record.snapshot() for record in self._store.emails]

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request the server read (faulted ones included), oldest first."""
        with self._store.lock:
            return list(self._store.requests)

    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        """Every finished webhook delivery (successful or failed), in order."""
        with self._store.lock:
            return list(self._store.deliveries)

    def clear(self) -> None:
        """Forget emails, recorded requests, webhook deliveries, idempotency
        records and armed faults. Domains and webhooks stay registered."""
        self.faults.clear()
        self._store.clear_traffic()

    def wait_for_emails(self, n: int, timeout: float = 5.0) -> list[SandboxEmail]:
        """Block until at least ``n`` emails were accepted; return the outbox.

        Raises ``TimeoutError`` if that does not happen within ``timeout`` seconds.
        """
        return self._wait(n, timeout, "emails", lambda: self._store.emails, lambda: self.outbox)

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until at least ``n`` requests were recorded; return them."""
        return self._wait(
            n, timeout, "requests", lambda: self._store.requests, lambda: self.requests
        )

    def wait_for_deliveries(self, n: int, timeout: float = 5.0) -> list[WebhookDelivery]:
        """Block until at least ``n`` webhook deliveries finished; return them."""
        return self._wait(
            n,
            timeout,
            "webhook deliveries",
            lambda: self._store.deliveries,
            lambda: self.webhook_deliveries,
        )

    def _wait(
        self,
        n: int,
        timeout: float,
        what: str,
        items: Callable[[], list[Any]],
        result: Callable[[], list[_T]],
    ) -> list[_T]:
        if not self._store.wait_until(lambda: len(items()) >= n, timeout):
            raise TimeoutError(f"expected {n} {what} within {timeout} s, got {len(items())}")
        return result()

    # -- setup helpers --

    def add_domain(self, name: str, *, verified: bool = True) -> dict[str, Any]:
        """Register a domain (verified by default) and return its API object."""
        with self._store.lock:
            return self._app.add_domain(name.lower(), verified=verified).to_json()

    def release_scheduled(self) -> int:
        """Deliver every ``scheduled`` email now; return how many were released."""
        return self._app.release_scheduled()

    # -- the request pipeline (called from connection threads) --

    def _respond(self, request: RecordedRequest) -> Reply | None:
        fault = self.faults.take(request.method, request.path)
        if fault is not None:
            request = replace(request, fault=fault)
        self._store.add_request(request)
        if fault is None:
            return self._app.handle(request)
        if fault.delay > 0 and self._stop_event.wait(fault.delay):
            return None  # stopping: drop the connection
        answers_normally = fault.status is None and not fault.reset
        reply = self._app.handle(request) if fault.process or answers_normally else None
        if fault.reset:
            return None
        if fault.status is not None:
            return _fault_reply(fault)
        return reply


def _fault_reply(fault: Fault) -> Reply:
    status = fault.status
    assert status is not None
    headers = tuple(fault.response_headers())
    if fault.body is not None:
        return Reply(status, fault.body, headers, fault.content_type)
    try:
        message = fault.error or HTTPStatus(status).phrase
    except ValueError:
        message = "Error"
    return error_reply(status, fault.effective_code, message, headers)

"""``Sandbox``: the public face of the local PostStack server."""

from __future__ import annotations

import ipaddress
import os
import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from http import HTTPStatus
from types import TracebackType
from typing import Any, Literal, TypeVar

from ._api import domains, inbound_emails, route_tables
from ._backend import Backend, Settings
from ._clock import SandboxClock
from ._faults import Fault, FaultPlan
from ._gate import HostGate, parse_names
from ._http import Reply, StreamReply, error_reply
from ._inbox import EventBroker, InboxApp, InboxControls
from ._lifecycle import Timings
from ._limits import RateLimiter
from ._models import RecordedRequest, SandboxEmail, WebhookDelivery
from ._persistence import Database
from ._routing import Api, Router
from ._server import HTTPServer
from ._store import Store
from ._validation import ApiError, isoformat, parse_timestamp
from ._webhook_delivery import WebhookDispatcher

__all__ = ["OutboxWatch", "Sandbox"]

_T = TypeVar("_T")
_CLOCK_META = "clock"


def _bind_address(host: str, remote: bool) -> str:
    """The address to bind: loopback only, unless remote names were given."""
    if host.lower() == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        raise ValueError(
            f"Sandbox binds loopback addresses only, not {host!r} (give an IP address)"
        ) from None
    if not address.is_loopback and not remote:
        raise ValueError(
            f"Sandbox binds loopback addresses only, not {host!r}: to listen on other "
            "interfaces, also name the host names clients use (allow_remote=[...], "
            "--allow-remote NAME)"
        )
    return str(address)


class Sandbox:
    """A local, PostStack-compatible API server with a web inbox, on a loopback port.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`::

        with Sandbox() as sb:
            client = PostStack(api_key=sb.api_key, base_url=sb.base_url)
            client.emails.send({"from": "hello@yourdomain.com", "to": ["a@b.c"],
                                "subject": "Hi", "text": "Hello"})
            assert sb.outbox[0].subject == "Hi"

    It answers every method of the API statefully (contacts, domains,
    templates, broadcasts, webhooks, ...: see ``docs/sandbox.md``), serves the
    web inbox at ``/`` and its JSON API under ``/_sandbox/``, and runs each
    email through its lifecycle (``queued`` → ``sent`` → ``delivered``, or a
    bounce, complaint or deferral for the test recipients) on a sandbox clock,
    firing signed webhooks to loopback receivers at each step.

    Arguments:

    - ``api_key``: the sandbox's own key (keys minted with ``api_keys.create``
      work too); anything else is a 401. A ``sk_test_`` key marks emails
      ``testMode: true``.
    - ``port``: 0 (the default) lets the OS pick a free port.
    - ``host``: a loopback address (``127.0.0.1``, ``::1``, ``localhost``).
      Any other address (``0.0.0.0`` in a container) needs ``allow_remote``.
    - ``allow_remote``: the host names clients use to reach the sandbox from
      elsewhere (``["sandbox"]`` for a compose service, ``"name:port"`` for a
      mapped port). Requests whose ``Host`` is neither loopback nor one of
      these are refused (a DNS-rebinding guard), whatever ``host`` is.
    - ``db``: a SQLite file that keeps every resource, email, event and
      delivery across restarts (in memory when ``None``). One sandbox at a time
      may hold a file.
    - ``clock``: ``"frozen"`` (the default: time moves only with
      :meth:`advance`) or ``"real"`` (wall-clock time, plus what was advanced).
      ``start_time`` sets where it starts (timezone-aware).
    - ``timings``: sandbox seconds between lifecycle steps (:class:`Timings`);
      by default an email is delivered at once and a deferral retries after 60.
    - ``rate_limit``: requests per second per key; beyond it, 429 with
      ``Retry-After`` and ``x-ratelimit-*``. ``monthly_quota``: accepted
      emails per calendar month; beyond it, the API's quota 429.
    - ``require_verified_domain``: ``False`` by default, so any ``from``
      address works out of the box. When ``True``, a send whose from-address
      domain (or a parent of it) is not a verified domain is a 422, as the
      real API does. ``verified_domains`` exist, verified, from the start
      (default ``("example.com",)``).
    - ``webhook_timeout`` / ``webhook_attempts``: per-attempt timeout and the
      number of tries of each webhook delivery (retried with backoff).
    - ``workers``, ``max_connections``, ``idle_timeout``, ``request_timeout``:
      the server's bounds (threads answering requests, open connections,
      seconds an idle keep-alive connection is kept, seconds a request may
      take to arrive).
    - ``request_log``: how many API requests :attr:`requests` keeps (the
      newest); ``None``, the default, keeps them all (a long-running
      ``poststack sandbox`` keeps none).

    Idempotency keys (the header on any POST, and ``idempotency_key`` in a
    ``POST /emails`` body) remember only successful responses: a replay with
    the same body gets the same status and body (plus ``idempotent-replayed:
    true``); the same key with a different body is a 409 ``conflict``.
    """

    def __init__(
        self,
        api_key: str = "sk_test_sandbox",
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        allow_remote: Iterable[str] = (),
        db: str | os.PathLike[str] | None = None,
        clock: Literal["frozen", "real"] = "frozen",
        start_time: datetime | None = None,
        timings: Timings | None = None,
        rate_limit: int | None = None,
        monthly_quota: int | None = None,
        require_verified_domain: bool = False,
        verified_domains: Iterable[str] = ("example.com",),
        webhook_timeout: float = 2.0,
        webhook_attempts: int = 3,
        workers: int = 32,
        max_connections: int = 512,
        idle_timeout: float = 60.0,
        request_timeout: float = 30.0,
        stream_keepalive: float = 15.0,
        request_log: int | None = None,
    ) -> None:
        if not isinstance(api_key, str) or not api_key:
            raise ValueError("api_key must be a non-empty string")
        if not api_key.isascii() or not api_key.isprintable() or " " in api_key:
            raise ValueError("api_key must be printable ASCII without spaces")
        if clock not in ("frozen", "real"):
            raise ValueError(f"clock must be 'frozen' or 'real', got {clock!r}")
        self.api_key = api_key
        if isinstance(allow_remote, str):
            allow_remote = [allow_remote]
        self._remote_names = parse_names(allow_remote)
        self.host: str = _bind_address(host, bool(self._remote_names))
        self._requested_port = port
        self.faults: FaultPlan = FaultPlan()
        self._stop_event = threading.Event()
        self._server_options: dict[str, Any] = {
            "workers": workers,
            "max_connections": max_connections,
            "idle_timeout": idle_timeout,
            "request_timeout": request_timeout,
        }
        self.clock: SandboxClock = SandboxClock(frozen=clock == "frozen", start=start_time)
        self._limiter = RateLimiter(rate_limit) if rate_limit is not None else None
        self._database = Database(db) if db is not None else None
        try:
            self._store = Store(self._database, request_log=request_log)
            self._webhooks = WebhookDispatcher(
                self._store,
                self.clock,
                self._stop_event,
                timeout=webhook_timeout,
                max_attempts=webhook_attempts,
            )
            if self._database is not None:
                self._load(self._database)
            settings = Settings(
                api_key=api_key,
                require_verified_domain=require_verified_domain,
                timings=timings or Timings(),
                monthly_quota=monthly_quota,
            )
            self._backend = Backend(self._store, self.clock, settings, self._webhooks)
            for name in verified_domains:
                self.add_domain(name)
            self._broker = EventBroker(keepalive=stream_keepalive)
            self._store.email_listeners.append(self._broker.on_email)
            self._api = Api(self._backend, Router(route_tables()), self._limiter)
            self._inbox = InboxApp(
                InboxControls(
                    backend=self._backend,
                    faults=self.faults,
                    clear=self.clear_inbox,
                    advance=self.advance,
                    receive_inbound=lambda fields: inbound_emails.receive(self._backend, fields),
                ),
                self._broker,
            )
            self._backend.lifecycle.resume()
            self._store.commit()
        except BaseException:
            if self._database is not None:
                self._database.close()
            raise
        self._gate: HostGate | None = None
        self._server: HTTPServer | None = None
        self._scheduler: threading.Thread | None = None
        self._state = "new"
        self._state_lock = threading.Lock()

    def _load(self, database: Database) -> None:
        meta = database.meta()
        self._store.load(
            database.entities(),
            database.emails(),
            database.deliveries(),
            database.idempotency(),
            meta,
        )
        saved = parse_timestamp(meta.get(_CLOCK_META, ""))
        if saved is not None:
            self.clock.restore(saved)

    # -- lifecycle --

    def start(self) -> Sandbox:
        """Bind the port and start serving; returns ``self``."""
        with self._state_lock:
            if self._state != "new":
                raise RuntimeError(f"Sandbox cannot start: it is {self._state}")
            server = HTTPServer(
                self.host, self._requested_port, self._respond, **self._server_options
            )
            self._gate = HostGate(server.port, self._remote_names)
            self._server = server
            self._webhooks.start()
            self._scheduler = threading.Thread(
                target=self._backend.lifecycle.run,
                args=(self._stop_event,),
                name="poststack-sandbox-clock",
                daemon=True,
            )
            self._scheduler.start()
            server.start()
            self._state = "running"
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving: close the listener and every connection, join the threads.

        Requests in a fault ``delay`` are cut short; webhook deliveries not yet
        made stay pending (with ``db=``, they go out after the next start).
        Calling ``stop`` again (or before ``start``) does nothing.
        """
        with self._state_lock:
            was_running = self._state == "running"
            if self._state == "stopped":
                return
            self._state = "stopped"
        if was_running:
            self._stop_event.set()
            self._broker.close()
            if self._server is not None:
                self._server.close(timeout)
            self._backend.lifecycle.wake()
            if self._scheduler is not None:
                self._scheduler.join(timeout)
            self._webhooks.close(timeout)
        with self._store.lock:
            self._store.set_meta(_CLOCK_META, isoformat(self.clock.now()))
            self._store.commit()
        if self._database is not None:
            self._database.close()

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
        """``http://127.0.0.1:PORT`` (only once started): what clients on this machine use."""
        host = self.host
        if host == "0.0.0.0":
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    # -- inspection --

    @property
    def outbox(self) -> list[SandboxEmail]:
        """Every accepted email as it is now, oldest first."""
        with self._store.lock:
            return list(self._store.emails.values())

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every API request the server read (faulted ones included), oldest first.

        Requests to the inbox (``/`` and ``/_sandbox/...``) are not recorded.
        """
        with self._store.lock:
            return list(self._store.requests)

    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        """Every finished webhook delivery (successful or failed), in the order they finished."""
        with self._store.lock:
            return [self._store.deliveries[i] for i in self._store.finished_deliveries]

    def email(self, email_id: str) -> SandboxEmail:
        """One accepted email as it is now (``KeyError`` if there is none with that id)."""
        with self._store.lock:
            return self._store.emails[email_id]

    def clear_inbox(self) -> None:
        """Forget emails, their events and webhook deliveries, idempotency records and the
        request log (what ``DELETE /_sandbox/messages`` does). Resources stay."""
        with self._store.lock:
            self._store.clear_traffic()
            self._store.commit()

    def clear(self) -> None:
        """:meth:`clear_inbox`, and disarm every fault. Domains, webhooks and the other
        resources stay registered."""
        self.faults.clear()
        self.clear_inbox()

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
            lambda: self._store.finished_deliveries,
            lambda: self.webhook_deliveries,
        )

    def wait_for_status(self, email_id: str, status: str, timeout: float = 5.0) -> SandboxEmail:
        """Block until the email has ``status`` (a running clock moves it on its own)."""

        def reached() -> bool:
            email = self._store.emails.get(email_id)
            return email is not None and email.status == status

        if not self._store.wait_until(reached, timeout):
            current = self._store.emails.get(email_id)
            got = current.status if current is not None else "no such email"
            raise TimeoutError(f"expected {email_id} to be {status} within {timeout} s, got {got}")
        return self.email(email_id)

    def watch(self, timeout: float | None = None) -> OutboxWatch:
        """Follow the outbox as it changes, from now on (see :class:`OutboxWatch`)."""
        return OutboxWatch(self._store, timeout)

    def _wait(
        self,
        n: int,
        timeout: float,
        what: str,
        items: Callable[[], Any],
        result: Callable[[], list[_T]],
    ) -> list[_T]:
        if not self._store.wait_until(lambda: len(items()) >= n, timeout):
            raise TimeoutError(f"expected {n} {what} within {timeout} s, got {len(items())}")
        return result()

    # -- time and the lifecycle --

    def advance(self, seconds: float) -> datetime:
        """Move the sandbox clock forward and run every lifecycle step now due; the new time."""
        with self._store.lock:
            now = self.clock.advance(seconds)
            self._backend.lifecycle.catch_up()
            self._store.set_meta(_CLOCK_META, isoformat(now))
            self._store.commit()
        self._backend.lifecycle.wake()
        return now

    def release_scheduled(self) -> int:
        """Queue every ``scheduled`` email now (it then runs its course); how many there were."""
        with self._store.lock:
            scheduled = [e for e in self._store.emails.values() if e.status == "scheduled"]
            for email in scheduled:
                self._backend.lifecycle.release(email)
            self._store.commit()
            return len(scheduled)

    def bounce(self, email_id: str, *, soft: bool = False) -> SandboxEmail:
        """Make an email bounce (hard unless ``soft``), as the inbox's button does."""
        return self._feedback(email_id, "soft_bounced" if soft else "bounced")

    def complain(self, email_id: str) -> SandboxEmail:
        """Make an email's recipient complain (mark it as spam), as the inbox's button does."""
        return self._feedback(email_id, "complained")

    def _feedback(self, email_id: str, kind: str) -> SandboxEmail:
        with self._store.lock:
            email = self.email(email_id)
            recipient = email.to[0] if email.to else None
            detail: dict[str, Any] = {"recipient": recipient, "source": "sandbox"}
            if kind != "complained":
                detail["bounceType"] = "soft" if kind == "soft_bounced" else "hard"
            try:
                email = self._backend.lifecycle.feedback(email, kind, detail)
            except ApiError as exc:
                raise ValueError(exc.message) from None
            finally:
                self._store.commit()
            return email

    # -- setup helpers --

    def add_domain(self, name: str, *, verified: bool = True) -> dict[str, Any]:
        """Register a domain (verified by default) and return its API object."""
        name = name.strip().lower().rstrip(".")
        store = self._store
        with store.lock:
            existing = store.get(domains.DOMAIN.name, f"name:{name}")
            if existing is not None:
                if verified and existing.data["status"] != "verified":
                    now = self._backend.now_iso()
                    existing = domains.DOMAIN.update(
                        store,
                        existing,
                        {
                            "status": "verified",
                            "verifiedAt": now,
                            "dnsRecords": domains.dns_records(name, True),
                        },
                        now=now,
                    )
                store.commit()
                return dict(existing.data)
            domain = domains.add_domain(store, name, verified=verified, now=self._backend.now_iso())
            store.commit()
            return dict(domain.data)

    def receive(self, **fields: Any) -> dict[str, Any]:
        """Deliver an inbound email to the sandbox (``inbound_emails``); its API object.

        Takes the keys of ``POST /_sandbox/inbound``: ``from``/``from_``, ``to``,
        ``subject``, ``text``, ``html``, ``cc``, ``headers``, ``attachments``.
        """
        from ._validation import Fields

        if "from_" in fields:
            fields["from"] = fields.pop("from_")
        with self._store.lock:
            try:
                return inbound_emails.receive(self._backend, Fields(fields))
            except ApiError as exc:
                raise ValueError(exc.message) from None

    # -- the request pipeline (called from the server's workers) --

    def _respond(self, request: RecordedRequest) -> Reply | StreamReply | None:
        gate = self._gate
        assert gate is not None
        host = request.headers.get("host")
        if not gate.allows_host(host):
            return error_reply(403, "forbidden", gate.refusal(host))
        own_origin = gate.allows_origin(request.headers.get("origin"))
        if InboxApp.owns(request.path):
            return self._inbox.handle(request, own_origin)
        if not own_origin:
            self._store.add_request(request)
            return error_reply(403, "forbidden", "Cross-origin requests to the API are refused")
        fault = self.faults.take(request.method, request.path)
        if fault is not None:
            request = replace(request, fault=fault)
        self._store.add_request(request)
        if fault is None:
            return self._api.handle(request)
        if fault.delay > 0 and self._stop_event.wait(fault.delay):
            return None  # stopping: drop the connection
        answers_normally = fault.status is None and not fault.reset
        reply = self._api.handle(request) if fault.process or answers_normally else None
        if fault.reset:
            return None
        if fault.status is not None:
            return _fault_reply(fault)
        return reply


class OutboxWatch:
    """The outbox's changes, in order, from the moment :meth:`Sandbox.watch` was called.

    Iterating yields ``("message", email)`` when an email arrives,
    ``("update", email)`` when its status, events or deliveries change and
    ``("clear", None)`` when the inbox is cleared. It blocks until the next
    change; with a ``timeout`` it ends after that many seconds without one.
    Use it in a ``with`` block, or :meth:`close` it, to stop watching.
    """

    def __init__(self, store: Store, timeout: float | None) -> None:
        self._store = store
        self._timeout = timeout
        self._changes: queue.SimpleQueue[tuple[str, SandboxEmail | None]] = queue.SimpleQueue()
        with store.lock:
            store.email_listeners.append(self._listen)

    def _listen(self, change: str, email: SandboxEmail | None) -> None:
        self._changes.put((change, email))  # under the store lock: never blocks

    def __iter__(self) -> OutboxWatch:
        return self

    def __next__(self) -> tuple[str, SandboxEmail | None]:
        try:
            return self._changes.get(timeout=self._timeout)
        except queue.Empty:
            self.close()
            raise StopIteration from None

    def close(self) -> None:
        """Stop watching (calling it again does nothing)."""
        with self._store.lock:
            if self._listen in self._store.email_listeners:
                self._store.email_listeners.remove(self._listen)

    def __enter__(self) -> OutboxWatch:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


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

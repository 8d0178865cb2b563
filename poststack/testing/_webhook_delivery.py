"""Signed webhook delivery from a background thread, to loopback receivers only.

When the sandbox accepts an email that goes out at once, it queues one
``email.sent`` and one ``email.delivered`` event for every active webhook
subscribed to that event type. A single daemon thread POSTs the events in
queue order with :mod:`http.client`, signing each body with the webhook's
secret (API §5): ``X-PostStack-Signature: sha256=<hex HMAC-SHA256(body)>``.

A receiver that does not answer 2xx is retried a couple of times with a short
backoff (waiting on the stop event, so ``stop()`` is never held up; an attempt
in progress when the sandbox stops is aborted by shutting its socket down). URLs whose
host is not a loopback address are never contacted: the delivery is recorded as
failed with ``attempts == 0``. Every delivery, successful or not, ends up in
``Sandbox.webhook_deliveries`` once it is finished.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import ipaddress
import json
import queue
import socket
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

from ._models import WebhookDelivery
from ._store import EmailRecord, Store, WebhookRecord, isoformat, utcnow

__all__ = ["WebhookDispatcher", "webhook_signature"]

EMAIL_EVENTS_ON_SEND = ("email.sent", "email.delivered")


def webhook_signature(body: bytes, secret: str) -> str:
    """The ``X-PostStack-Signature`` value for ``body`` signed with ``secret``."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def is_loopback_host(host: str | None) -> bool:
    """Whether ``host`` (from a URL) names this machine's loopback interface."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class _Job:
    delivery_id: int
    webhook_id: int
    url: str
    event_type: str
    email_id: str
    body: bytes
    signature: str


class WebhookDispatcher:
    """Queues signed events and delivers them from one daemon thread."""

    def __init__(
        self,
        store: Store,
        stop: threading.Event,
        *,
        timeout: float = 2.0,
        max_attempts: int = 3,
        backoff: float = 0.05,
    ) -> None:
        self._store = store
        self._stop = stop
        self._timeout = timeout
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._in_flight: http.client.HTTPConnection | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name="poststack-sandbox-webhooks", daemon=True
        )
        self._thread.start()

    def close(self, timeout: float) -> None:
        """Abort the attempt in progress and end the thread (the stop event is already set)."""
        self._queue.put(None)
        with self._lock:
            sock = self._in_flight.sock if self._in_flight is not None else None
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout)

    def email_accepted(self, email: EmailRecord, webhooks: list[WebhookRecord]) -> None:
        """Queue the events of an email that just went out (called under the store lock)."""
        for event_type in EMAIL_EVENTS_ON_SEND:
            for webhook in webhooks:
                if not webhook.active or event_type not in webhook.events:
                    continue
                payload: dict[str, Any] = {
                    "type": event_type,
                    "created_at": isoformat(utcnow()),
                    "data": {
                        "id": email.public_id,
                        "email_id": email.public_id,
                        "from": email.from_,
                        "to": list(email.to),
                        "subject": email.subject,
                        "tags": list(email.tags),
                        "status": event_type.removeprefix("email."),
                    },
                }
                body = json.dumps(payload, separators=(",", ":")).encode()
                self._queue.put(
                    _Job(
                        delivery_id=self._store.next_id("delivery"),
                        webhook_id=webhook.id,
                        url=webhook.url,
                        event_type=event_type,
                        email_id=email.public_id,
                        body=body,
                        signature=webhook_signature(body, webhook.secret),
                    )
                )

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None or self._stop.is_set():
                return
            self._store.add_delivery(self._deliver(job))

    def _deliver(self, job: _Job) -> WebhookDelivery:
        parts = urlsplit(job.url)
        attempts = 0
        status: int | None = None
        error: str | None = None
        if parts.scheme != "http":
            error = f"refused: the sandbox only delivers over plain http, not {parts.scheme}"
        elif not is_loopback_host(parts.hostname):
            error = f"refused: {parts.hostname!r} is not a loopback host"
        else:
            while attempts < self._max_attempts and not self._stop.is_set():
                if attempts and self._stop.wait(self._backoff * 2 ** (attempts - 1)):
                    break
                attempts += 1
                status, error = self._attempt(job, parts)
                if status is not None and 200 <= status < 300:
                    break
        return WebhookDelivery(
            id=job.delivery_id,
            webhook_id=job.webhook_id,
            url=job.url,
            event_type=job.event_type,
            email_id=job.email_id,
            body=job.body,
            signature=job.signature,
            attempts=attempts,
            status_code=status,
            error=error,
        )

    def _attempt(self, job: _Job, parts: SplitResult) -> tuple[int | None, str | None]:
        """One POST; the receiver's status (or ``None``) and an error description."""
        target = parts.path or "/"
        if parts.query:
            target = f"{target}?{parts.query}"
        connection = http.client.HTTPConnection(
            parts.hostname or "", parts.port, timeout=self._timeout
        )
        with self._lock:
            self._in_flight = connection
        try:
            connection.request(
                "POST",
                target,
                body=job.body,
                headers={
                    "Content-Type": "application/json",
                    "User-Agent": "PostStack-Sandbox-Webhooks",
                    "X-PostStack-Signature": job.signature,
                    "X-PostStack-Event": job.event_type,
                    "X-PostStack-Delivery": str(job.delivery_id),
                },
            )
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException) as exc:
            return None, f"{type(exc).__name__}: {exc}"
        finally:
            with self._lock:
                self._in_flight = None
                connection.close()
        if 200 <= response.status < 300:
            return response.status, None
        return response.status, f"receiver answered {response.status}"

"""Signed webhook delivery from a background thread, to loopback receivers only.

Theory of operation
-------------------
:meth:`WebhookDispatcher.emit` (called under the store lock, so it never
blocks) records one pending :class:`~._models.WebhookDelivery` for every
active webhook subscribed to the event type, signs its body with the
webhook's secret(s) (API §5, through :func:`poststack_core.sign`; while a
rotated secret's grace window is open the header carries both signatures), and
queues its id. One daemon thread POSTs the queued deliveries in order with
:mod:`http.client`.

A receiver that does not answer 2xx is retried up to ``max_attempts`` times
with exponential backoff (``backoff``, twice that, ...) in real time, waiting
on the stop event so ``stop()`` is never held up; an attempt in progress when
the sandbox stops is aborted by shutting its socket down. After every attempt
the delivery's record is updated (attempts, status, ``nextRetryAt``), so
``webhooks.get_deliveries`` and the inbox show it as it goes. URLs that are
not plain ``http`` to a loopback host are never contacted: the delivery is
recorded as refused, with ``attempts == 0``.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import queue
import secrets
import socket
import threading
from dataclasses import replace
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from poststack_core import is_loopback_host, sign

from ._clock import SandboxClock
from ._models import WebhookDelivery
from ._store import Entity, Store
from ._validation import isoformat

__all__ = ["WEBHOOK", "WebhookDispatcher", "webhook_signature"]

WEBHOOK = "webhook"  # the store kind of registered webhooks
_RESPONSE_BODY_LIMIT = 2048


def webhook_signature(body: bytes, secret: str) -> str:
    """The ``X-PostStack-Signature`` value for ``body`` signed with ``secret``."""
    return sign(body, secret)


def signature_header(body: bytes, webhook: Entity, now_iso: str) -> str:
    """One ``sha256=`` element per secret valid now (two during a rotation's grace window)."""
    header = sign(body, webhook.private["secret"])
    previous = webhook.private.get("previous_secret")
    expires = webhook.data.get("previousSecretExpiresAt")
    if previous and expires and expires > now_iso:
        header = f"{header},{sign(body, previous)}"
    return header


class WebhookDispatcher:
    """Records, signs and delivers webhook events from one daemon thread."""

    def __init__(
        self,
        store: Store,
        clock: SandboxClock,
        stop: threading.Event,
        *,
        timeout: float = 2.0,
        max_attempts: int = 3,
        backoff: float = 0.05,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("webhook_attempts must be at least 1")
        if not timeout > 0:
            raise ValueError("webhook_timeout must be a number of seconds > 0")
        self._store = store
        self._clock = clock
        self._stop = stop
        self._timeout = timeout
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._queue: queue.SimpleQueue[int | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._in_flight: http.client.HTTPConnection | None = None

    def start(self) -> None:
        # Deliveries a previous run (db=) left unfinished go out first.
        with self._store.lock:
            for delivery in self._store.deliveries.values():
                if not delivery.finished:
                    self._queue.put(delivery.id)
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

    # -- queueing (under the store lock) --

    def emit(self, event_type: str, data: dict[str, Any], *, email_id: str | None = None) -> int:
        """Queue ``event_type`` for every active webhook subscribed to it; how many were queued."""
        queued = 0
        for webhook in self._store.all(WEBHOOK):
            if webhook.data["active"] and event_type in webhook.data["events"]:
                self.deliver(webhook, event_type, data, email_id=email_id)
                queued += 1
        return queued

    def deliver(
        self,
        webhook: Entity,
        event_type: str,
        data: dict[str, Any],
        *,
        email_id: str | None = None,
    ) -> WebhookDelivery:
        """Record and queue one delivery of an event to one webhook."""
        now = isoformat(self._clock.now())
        event = {
            "id": f"evt_{secrets.token_hex(12)}",
            "type": event_type,
            "created_at": now,
            "data": data,
        }
        body = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
        return self._queue_delivery(webhook, event_type, body, email_id, now)

    def replay(self, webhook: Entity, original: WebhookDelivery) -> WebhookDelivery:
        """Deliver a past event again: the same body, signed with today's secret(s)."""
        now = isoformat(self._clock.now())
        return self._queue_delivery(
            webhook, original.event_type, original.body, original.email_id, now
        )

    def _queue_delivery(
        self, webhook: Entity, event_type: str, body: bytes, email_id: str | None, now: str
    ) -> WebhookDelivery:
        delivery = WebhookDelivery(
            id=self._store.next_id("delivery"),
            webhook_id=int(webhook.key),
            url=webhook.data["url"],
            event_type=event_type,
            email_id=email_id,
            body=body,
            signature=signature_header(body, webhook, now),
            attempts=0,
            status_code=None,
            error=None,
            created_at=now,
            next_retry_at=now,
        )
        self._store.put_delivery(delivery)
        self._queue.put(delivery.id)
        return delivery

    # -- delivering (the thread) --

    def _run(self) -> None:
        while True:
            delivery_id = self._queue.get()
            if delivery_id is None or self._stop.is_set():
                return
            with self._store.lock:
                delivery = self._store.deliveries.get(delivery_id)
            if delivery is not None and not delivery.finished:
                self._deliver(delivery)

    def _record(self, delivery: WebhookDelivery) -> None:
        with self._store.lock:
            if delivery.id not in self._store.deliveries:
                return  # the inbox was cleared meanwhile
            self._store.put_delivery(delivery)
            if delivery.finished:
                self._note_on_webhook(delivery)
                if delivery.email_id is not None:
                    self._store.touch_email(delivery.email_id)
            self._store.commit()

    def _note_on_webhook(self, delivery: WebhookDelivery) -> None:
        webhook = self._store.get(WEBHOOK, str(delivery.webhook_id))
        if webhook is None:
            return
        data = dict(webhook.data)
        data["lastDeliveryAt"] = delivery.delivered_at or isoformat(self._clock.now())
        data["lastDeliveryStatus"] = delivery.status_code
        data["consecutiveFailures"] = 0 if delivery.ok else data.get("consecutiveFailures", 0) + 1
        self._store.put(replace(webhook, data=data))

    def _deliver(self, delivery: WebhookDelivery) -> None:
        parts = urlsplit(delivery.url)
        refusal = None
        if parts.scheme != "http":
            refusal = f"refused: the sandbox only delivers over plain http, not {parts.scheme}"
        elif not parts.hostname or not is_loopback_host(parts.hostname):
            refusal = f"refused: {parts.hostname!r} is not a loopback host"
        if refusal is not None:
            self._record(replace(delivery, error=refusal, finished=True, next_retry_at=None))
            return
        while delivery.attempts < self._max_attempts and not self._stop.is_set():
            if delivery.attempts and self._stop.wait(self._backoff * 2 ** (delivery.attempts - 1)):
                return
            status, error, response = self._attempt(delivery, parts.hostname or "", parts.port)
            attempts = delivery.attempts + 1
            ok = status is not None and 200 <= status < 300
            finished = ok or attempts >= self._max_attempts
            now = self._clock.now()
            wait = self._backoff * 2 ** (attempts - 1)
            delivery = replace(
                delivery,
                attempts=attempts,
                status_code=status,
                error=error,
                response_body=response,
                finished=finished,
                delivered_at=isoformat(now) if ok else None,
                next_retry_at=None if finished else isoformat(now + timedelta(seconds=wait)),
            )
            self._record(delivery)
            if finished:
                return

    def _attempt(
        self, delivery: WebhookDelivery, host: str, port: int | None
    ) -> tuple[int | None, str | None, str | None]:
        """One POST: the receiver's status (or ``None``), an error in words, its answer."""
        parts = urlsplit(delivery.url)
        target = parts.path or "/"
        if parts.query:
            target = f"{target}?{parts.query}"
        connection = http.client.HTTPConnection(host, port, timeout=self._timeout)
        with self._lock:
            self._in_flight = connection
        try:
            connection.request(
                "POST",
                target,
                body=delivery.body,
                headers={
                    "Content-Type": "application/json",
                    "User-Agent": "PostStack-Sandbox-Webhooks",
                    "X-PostStack-Signature": delivery.signature,
                    "X-PostStack-Event": delivery.event_type,
                    "X-PostStack-Delivery": str(delivery.id),
                },
            )
            response = connection.getresponse()
            answer = response.read(_RESPONSE_BODY_LIMIT).decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as exc:
            return None, f"{type(exc).__name__}: {exc}", None
        finally:
            with self._lock:
                self._in_flight = None
                connection.close()
        if 200 <= response.status < 300:
            return response.status, None, answer
        return response.status, f"receiver answered {response.status}", answer

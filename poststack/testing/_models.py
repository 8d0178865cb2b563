"""The values a test inspects: recorded requests, emails with their events, webhook deliveries.

All of them are frozen. The sandbox never changes a value it has handed out:
when an email moves on (``queued`` → ``sent`` → ``delivered``) the store
replaces its :class:`SandboxEmail` with a new one (``dataclasses.replace``), so
an email a test holds is a snapshot that stays as it was, and ``sb.outbox``
always returns the current values.

:class:`SandboxEmail` is the one record of an email: the API handlers build it
from the payload, the store keeps it (and persists it), the inbox API and
``sb.outbox`` show it. There is no second list of its fields anywhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._faults import Fault

__all__ = ["EmailEvent", "RecordedRequest", "SandboxEmail", "WebhookDelivery"]


@dataclass(frozen=True, slots=True, repr=False)
class RecordedRequest:
    """One HTTP request exactly as the sandbox read it off the socket.

    ``path`` is the raw (still percent-encoded) path, without the query string;
    ``query`` holds the decoded query pairs in wire order; ``headers`` maps
    lower-case names to values (repeated headers joined with ``", "``).
    ``json`` is the parsed body, or ``None`` when the body is empty or not JSON.
    ``fault`` is the injected fault that answered this request, if any.
    """

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    headers: dict[str, str]
    body: bytes
    request_id: str
    fault: Fault | None = None

    def __repr__(self) -> str:
        # The bearer key stays out of reprs (test logs, assertion messages).
        headers = {k: "<redacted>" if k == "authorization" else v for k, v in self.headers.items()}
        return (
            f"RecordedRequest(method={self.method!r}, path={self.path!r}, query={self.query!r}, "
            f"headers={headers!r}, body=<{len(self.body)} bytes>, "
            f"request_id={self.request_id!r}, fault={self.fault!r})"
        )

    @property
    def target(self) -> str:
        """The request target as sent: path plus ``?query`` (re-encoded)."""
        if not self.query:
            return self.path
        from urllib.parse import urlencode

        return f"{self.path}?{urlencode(self.query)}"

    @property
    def params(self) -> dict[str, str]:
        """The query as a dict (the last value wins for repeated names)."""
        return dict(self.query)

    @property
    def json(self) -> Any:
        """The body parsed as JSON, or ``None`` if it is empty or not JSON."""
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def idempotency_key(self) -> str | None:
        """The ``Idempotency-Key`` header, if one was sent."""
        return self.headers.get("idempotency-key")


@dataclass(frozen=True, slots=True)
class EmailEvent:
    """One step of an email's life: ``queued``, ``sent``, ``delivered``, ``bounced``, ...

    ``at`` is the sandbox clock's time of the step (ISO 8601, UTC, ``Z``);
    ``detail`` says more where there is more to say (the bounce type, the
    recipient that complained, why an email failed).
    """

    type: str
    at: str
    detail: dict[str, Any] = field(default_factory=dict[str, Any])

    def to_api(self) -> dict[str, Any]:
        """The event as ``emails.get_events`` shows it (API §8: ``{type, timestamp}``)."""
        return {"type": self.type, "timestamp": self.at}


@dataclass(frozen=True, slots=True)
class SandboxEmail:
    """One email the sandbox accepted (``POST /emails``, one item of a batch, a broadcast's).

    ``id`` is the public id (``em_…``) the API returned; ``from_`` is the
    ``from`` field as sent (``"Name <addr>"`` or ``"addr"``), split into
    ``from_address`` and ``from_name``. ``to``, ``cc`` and ``bcc`` are always
    tuples, whether the payload had a string or a list. With a template, the
    subject and bodies are the rendered ones. ``status`` and ``events`` are
    those at the time the value was taken; ``payload`` is the JSON object that
    was sent for this email, unchanged. Times are ISO 8601 strings on the
    sandbox clock.
    """

    id: str
    numeric_id: int
    from_: str
    from_address: str
    from_name: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    bcc: tuple[str, ...]
    reply_to: str | None
    subject: str | None
    html: str | None
    text: str | None
    tags: tuple[str, ...]
    headers: dict[str, str]
    attachments: tuple[dict[str, Any], ...]
    scheduled_at: str | None
    status: str
    created_at: str
    template_id: str | None = None
    variables: dict[str, Any] = field(default_factory=dict[str, Any])
    idempotency_key: str | None = None
    payload: dict[str, Any] = field(default_factory=dict[str, Any])
    events: tuple[EmailEvent, ...] = ()
    sent_at: str | None = None
    test_mode: bool = False
    domain_id: int | None = None
    request_id: str | None = None
    """The ``x-request-id`` of the request that created it (see the inbox API)."""
    broadcast_id: str | None = None
    """The ``bc_…`` id when a broadcast sent it."""

    @property
    def recipients(self) -> tuple[str, ...]:
        """Every address it goes to: ``to``, then ``cc``, then ``bcc``."""
        return self.to + self.cc + self.bcc

    def to_api(self) -> dict[str, Any]:
        """The Email object of API §8, with the API's camelCase keys."""
        return {
            "id": self.numeric_id,
            "publicId": self.id,
            "fromAddress": self.from_address,
            "fromName": self.from_name,
            "toAddresses": list(self.to),
            "ccAddresses": list(self.cc),
            "bccAddresses": list(self.bcc),
            "replyTo": self.reply_to,
            "subject": self.subject,
            "status": self.status,
            "tags": list(self.tags),
            "domainId": self.domain_id,
            "testMode": self.test_mode,
            "scheduledAt": self.scheduled_at,
            "createdAt": self.created_at,
            "sentAt": self.sent_at,
            "events": [event.to_api() for event in self.events],
        }


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One signed webhook event the sandbox delivers (or tried to) to a registered URL.

    ``body`` holds the exact bytes that were POSTed (and signed); ``signature``
    the ``X-PostStack-Signature`` header value. ``attempts`` counts HTTP tries
    (0 when delivery was refused, e.g. for a non-loopback URL). ``status_code``
    is the receiver's last HTTP status, ``error`` the last failure in words;
    ``ok`` is true when the receiver answered 2xx. ``finished`` is false while
    attempts remain (``next_retry_at`` says when the next one is due).
    """

    id: int
    webhook_id: int
    url: str
    event_type: str
    email_id: str | None
    body: bytes
    signature: str
    attempts: int
    status_code: int | None
    error: str | None
    created_at: str = ""
    finished: bool = False
    delivered_at: str | None = None
    next_retry_at: str | None = None
    response_body: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the receiver acknowledged the event with a 2xx status."""
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def payload(self) -> Any:
        """The delivered event, parsed from ``body``."""
        return json.loads(self.body)

    def to_api(self) -> dict[str, Any]:
        """The delivery log entry of API §8 (``webhooks.get_deliveries``)."""
        return {
            "id": self.id,
            "webhookId": self.webhook_id,
            "eventType": self.event_type,
            "payload": self.payload,
            "statusCode": self.status_code,
            "responseBody": self.response_body,
            "attempts": self.attempts,
            "nextRetryAt": self.next_retry_at,
            "deliveredAt": self.delivered_at,
            "createdAt": self.created_at,
        }

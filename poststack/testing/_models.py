"""The values a test inspects: recorded requests, accepted emails, webhook deliveries.

All of them are frozen snapshots. The sandbox keeps its own mutable state and
hands out fresh snapshots from ``sb.outbox``, ``sb.requests`` and
``sb.webhook_deliveries``, so a value a test holds never changes under it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._faults import Fault

__all__ = ["RecordedRequest", "SandboxEmail", "WebhookDelivery"]


@dataclass(frozen=True, slots=True)
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
class SandboxEmail:
    """One email the sandbox accepted (``POST /emails`` or one item of a batch).

    ``id`` is the public id (``em_…``) the API returned; ``from_`` is the
    ``from`` field as sent (``"Name <addr>"`` or ``"addr"``), split into
    ``from_address`` and ``from_name``. ``to``, ``cc`` and ``bcc`` are always
    tuples, whether the payload had a string or a list. ``status`` is the
    status at the time the snapshot was taken: ``delivered`` for an immediate
    send, ``scheduled`` or ``cancelled`` for a scheduled one. ``payload`` is
    the JSON object that was sent for this email, unchanged.
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


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One signed webhook event the sandbox tried to deliver.

    ``body`` holds the exact bytes that were POSTed (and signed); ``signature``
    the ``X-PostStack-Signature`` header value. ``attempts`` counts HTTP tries
    (0 when delivery was refused, e.g. for a non-loopback URL). ``status_code``
    is the receiver's last HTTP status, ``error`` the last failure in words;
    ``ok`` is true when the receiver answered 2xx.
    """

    id: int
    webhook_id: int
    url: str
    event_type: str
    email_id: str
    body: bytes
    signature: str
    attempts: int
    status_code: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        """Whether the receiver acknowledged the event with a 2xx status."""
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def payload(self) -> Any:
        """The delivered event, parsed from ``body``."""
        return json.loads(self.body)

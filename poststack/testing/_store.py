"""In-memory state of one sandbox: emails, domains, webhooks, idempotency records.

Every read and write happens under ``Store.lock``; ``Store.changed`` (a
Condition on that lock) is notified whenever the outbox, the request log or the
webhook delivery log grows, which is what the ``wait_for_*`` helpers wait on.
Records are mutable and private; the public snapshots live in ``_models``.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ._models import RecordedRequest, SandboxEmail, WebhookDelivery

__all__ = ["DomainRecord", "EmailRecord", "IdempotencyRecord", "Store", "WebhookRecord"]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def isoformat(moment: datetime) -> str:
    """``2030-01-02T03:04:05.678Z``: UTC, milliseconds, a ``Z`` suffix."""
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


_FRACTION = re.compile(r"(T\d{2}:\d{2}:\d{2})[.,](\d+)", re.IGNORECASE)
_COMPACT_OFFSET = re.compile(r"(T[\d:.,]+[+-]\d{2})(\d{2})$", re.IGNORECASE)


def parse_timestamp(value: str) -> datetime | None:
    """Parse an ISO 8601 date or date-time; naive values are taken as UTC.

    Normalises what Python 3.10's ``fromisoformat`` rejects: a ``Z`` suffix,
    fractions of other than 3 or 6 digits, and ``+hhmm`` offsets.
    """
    text = value.strip()
    if not text or len(text) > 64:
        return None
    if text[-1] in "zZ":
        text = text[:-1] + "+00:00"
    text = _FRACTION.sub(lambda m: f"{m[1]}.{(m[2] + '000000')[:6]}", text)
    text = _COMPACT_OFFSET.sub(r"\1:\2", text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment


def new_public_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


@dataclass(slots=True)
class EmailEvent:
    type: str
    at: datetime

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "timestamp": isoformat(self.at)}


@dataclass(slots=True)
class EmailRecord:
    numeric_id: int
    public_id: str
    from_: str
    from_address: str
    from_name: str | None
    domain_id: int | None
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
    template_id: str | None
    variables: dict[str, Any]
    idempotency_key: str | None
    payload: dict[str, Any]
    test_mode: bool
    created_at: datetime
    status: str = "queued"
    scheduled_at: datetime | None = None
    sent_at: datetime | None = None
    events: list[EmailEvent] = field(default_factory=list[EmailEvent])

    def to_json(self) -> dict[str, Any]:
        """The Email object of API §8 (camelCase keys)."""
        return {
            "id": self.numeric_id,
            "publicId": self.public_id,
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
            "scheduledAt": isoformat(self.scheduled_at) if self.scheduled_at else None,
            "createdAt": isoformat(self.created_at),
            "sentAt": isoformat(self.sent_at) if self.sent_at else None,
            "events": [event.to_json() for event in self.events],
        }

    def snapshot(self) -> SandboxEmail:
        return SandboxEmail(
            id=self.public_id,
            numeric_id=self.numeric_id,
            from_=self.from_,
            from_address=self.from_address,
            from_name=self.from_name,
            to=self.to,
            cc=self.cc,
            bcc=self.bcc,
            reply_to=self.reply_to,
            subject=self.subject,
            html=self.html,
            text=self.text,
            tags=self.tags,
            headers=dict(self.headers),
            attachments=self.attachments,
            scheduled_at=isoformat(self.scheduled_at) if self.scheduled_at else None,
            status=self.status,
            created_at=isoformat(self.created_at),
            template_id=self.template_id,
            variables=dict(self.variables),
            idempotency_key=self.idempotency_key,
            payload=self.payload,
        )


@dataclass(slots=True)
class DomainRecord:
    id: int
    name: str
    region: str
    status: str
    open_tracking: bool
    click_tracking: bool
    tls_mode: str
    created_at: datetime
    verified_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """The Domain object of API §8."""
        verified = self.status == "verified"
        records: list[dict[str, Any]] = [
            {
                "type": "TXT",
                "name": self.name,
                "value": "v=spf1 include:spf.poststack.dev ~all",
                "purpose": "spf",
                "verified": verified,
            },
            {
                "type": "TXT",
                "name": f"ps._domainkey.{self.name}",
                "value": "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAsandbox",
                "purpose": "dkim",
                "verified": verified,
            },
            {
                "type": "TXT",
                "name": f"_dmarc.{self.name}",
                "value": "v=DMARC1; p=none;",
                "purpose": "dmarc",
                "verified": verified,
            },
            {
                "type": "CNAME",
                "name": f"bounces.{self.name}",
                "value": "return.poststack.dev",
                "purpose": "return_path",
                "verified": verified,
            },
        ]
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "region": self.region,
            "dnsRecords": records,
            "openTracking": self.open_tracking,
            "clickTracking": self.click_tracking,
            "catchAll": False,
            "tlsMode": self.tls_mode,
            "verifiedAt": isoformat(self.verified_at) if self.verified_at else None,
            "createdAt": isoformat(self.created_at),
        }


@dataclass(slots=True)
class WebhookRecord:
    id: int
    url: str
    events: tuple[str, ...]
    secret: str
    created_at: datetime
    active: bool = True

    def to_json(self) -> dict[str, Any]:
        """The Webhook object of API §8 (the secret is never part of it)."""
        return {
            "id": self.id,
            "url": self.url,
            "events": list(self.events),
            "active": self.active,
            "createdAt": isoformat(self.created_at),
            "secretRotatedAt": None,
            "previousSecretExpiresAt": None,
        }


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """A remembered successful response, replayed for a repeated key."""

    fingerprint: str
    status: int
    body: bytes


class Store:
    """All mutable state of one sandbox, guarded by one lock."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.emails: list[EmailRecord] = []
        self.emails_by_id: dict[str, EmailRecord] = {}
        self.domains: dict[int, DomainRecord] = {}
        self.webhooks: dict[int, WebhookRecord] = {}
        self.idempotency: dict[tuple[str, str, str], IdempotencyRecord] = {}
        self.requests: list[RecordedRequest] = []
        self.deliveries: list[WebhookDelivery] = []
        self._counters: dict[str, int] = {}

    def next_id(self, kind: str) -> int:
        with self.lock:
            value = self._counters.get(kind, 0) + 1
            self._counters[kind] = value
            return value

    def add_email(self, record: EmailRecord) -> None:
        with self.lock:
            self.emails.append(record)
            self.emails_by_id[record.public_id] = record
            self.changed.notify_all()

    def add_request(self, request: RecordedRequest) -> None:
        with self.lock:
            self.requests.append(request)
            self.changed.notify_all()

    def add_delivery(self, delivery: WebhookDelivery) -> None:
        with self.lock:
            self.deliveries.append(delivery)
            self.changed.notify_all()

    def domain_by_name(self, name: str) -> DomainRecord | None:
        name = name.lower()
        for domain in self.domains.values():
            if domain.name == name:
                return domain
        return None

    def clear_traffic(self) -> None:
        """Forget emails, requests, deliveries and idempotency records."""
        with self.lock:
            self.emails.clear()
            self.emails_by_id.clear()
            self.idempotency.clear()
            self.requests.clear()
            self.deliveries.clear()
            self.changed.notify_all()

    def wait_until(self, predicate: Callable[[], bool], timeout: float | None) -> bool:
        """Block until ``predicate()`` holds (checked under the lock) or time runs out."""
        with self.changed:
            return self.changed.wait_for(predicate, timeout)

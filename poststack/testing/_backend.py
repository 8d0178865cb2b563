"""What the API handlers reach: the store, the clock, the email lifecycle, events, settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from ._clock import SandboxClock
from ._lifecycle import Lifecycle, Timings
from ._limits import MonthlyQuota
from ._models import EmailEvent, SandboxEmail
from ._store import Store
from ._validation import isoformat
from ._webhook_delivery import WebhookDispatcher

__all__ = ["Backend", "Settings"]


@dataclass(frozen=True, slots=True)
class Settings:
    """The sandbox's configuration, as the handlers need it."""

    api_key: str = field(repr=False)
    require_verified_domain: bool = False
    timings: Timings = field(default_factory=Timings)
    monthly_quota: int | None = None


class Backend:
    """Everything an API handler can touch, in one place."""

    def __init__(
        self,
        store: Store,
        clock: SandboxClock,
        settings: Settings,
        webhooks: WebhookDispatcher,
    ) -> None:
        from ._api import notification_channels, suppressions

        self.store = store
        self.clock = clock
        self.settings = settings
        self.webhooks = webhooks
        self._suppressions = suppressions
        self._channels = notification_channels
        self.lifecycle = Lifecycle(
            store,
            clock,
            settings.timings,
            on_event=self._email_event,
            suppressed=lambda email: suppressions.suppressed_among(store, email.recipients),
        )
        self.quota = (
            MonthlyQuota(settings.monthly_quota, store)
            if settings.monthly_quota is not None
            else None
        )

    def now(self) -> datetime:
        return self.clock.now()

    def now_iso(self) -> str:
        return isoformat(self.clock.now())

    def emit(self, event_type: str, data: dict[str, Any], *, email_id: str | None = None) -> None:
        """An account event (``contact.created``, ``email.bounced``, ...): webhooks and alerts."""
        self.webhooks.emit(event_type, data, email_id=email_id)
        self._channels.notify(self, event_type, data)

    def _email_event(self, email: SandboxEmail, event: EmailEvent) -> None:
        """The lifecycle's hook: every step of every email lands here (under the store lock)."""
        recipient = event.detail.get("recipient")
        if event.type == "bounced":
            for address in [recipient] if recipient else email.to[:1]:
                self._suppressions.suppress(self, address, "hard_bounce")
        elif event.type == "complained":
            for address in [recipient] if recipient else email.to[:1]:
                self._suppressions.suppress(self, address, "complaint")
        data: dict[str, Any] = {
            "id": email.id,
            "email_id": email.id,
            "from": email.from_,
            "to": list(email.to),
            "subject": email.subject,
            "tags": list(email.tags),
            "status": email.status,
            "domain_id": email.domain_id,
            "event": event.type,
            "timestamp": event.at,
            **event.detail,
        }
        if email.broadcast_id is not None:
            data["broadcast_id"] = email.broadcast_id
        metadata: object = email.payload.get("metadata")
        if isinstance(metadata, dict) and metadata:
            data["metadata"] = dict(cast("dict[str, Any]", metadata))  # sent, so sent back
        self.emit(f"email.{event.type}", data, email_id=email.id)

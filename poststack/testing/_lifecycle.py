"""The email lifecycle: queued → sent → delivered (or bounced, deferred, ...) on the sandbox clock.

Theory of operation
-------------------
Each accepted email follows a *script*: the events it will go through, chosen
once from its recipients (see :data:`TEST_RECIPIENTS`)::

    anyone@...          queued, sent, delivered
    delayed@...         queued, sent, deferred, delivered
    bounced@...         queued, sent, bounced              (hard bounce: suppressed)
    soft-bounced@...    queued, sent, soft_bounced
    complained@...      queued, sent, delivered, complained (suppressed)
    opened@...          queued, sent, delivered, opened
    clicked@...         queued, sent, delivered, opened, clicked
    failed@...          queued, failed
    a suppressed address  queued, failed

An email with a future ``scheduled_at`` starts with ``scheduled`` and is
queued when the clock reaches that time. Each step is due a number of sandbox
seconds after the previous one (:class:`Timings`); with the default timings
every step but a deferral's retry is due at once, so a send answers with the
email already delivered. :func:`next_step` is a pure function of the email and
the timings: nothing about the future is stored, so a sandbox restarted from
its database simply carries on.

Manual steps (``cancel``, a bounce or complaint from the inbox) append their
event and end the script. Every step appended, scripted or manual, goes to the
``on_event`` hook, which fires webhooks, adds suppressions and tells the inbox.

Due steps run when the clock passes them: in :meth:`Lifecycle.catch_up`, which
every API request, ``advance`` and the scheduler thread (for a running clock)
call, always under the store lock.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from ._clock import SandboxClock
from ._models import EmailEvent, SandboxEmail
from ._store import Store
from ._validation import conflict, isoformat, parse_timestamp

__all__ = ["TEST_RECIPIENTS", "Lifecycle", "Timings", "next_step", "status_after"]


@dataclass(frozen=True, slots=True)
class Timings:
    """Sandbox seconds between the steps of an email's life.

    - ``send``: accepted (``queued``) → ``sent`` (or ``failed``);
    - ``deliver``: ``sent`` → ``delivered``, ``bounced``, ``soft_bounced`` or ``deferred``;
    - ``retry``: ``deferred`` → ``delivered``;
    - ``feedback``: ``delivered`` → ``complained`` / ``opened``, ``opened`` → ``clicked``.
    """

    send: float = 0.0
    deliver: float = 0.0
    retry: float = 60.0
    feedback: float = 0.0

    def __post_init__(self) -> None:
        for name in ("send", "deliver", "retry", "feedback"):
            value = getattr(self, name)
            if not 0 <= value < float("inf"):
                raise ValueError(f"Timings.{name} must be a finite number >= 0, got {value!r}")


# Local part (before any "+tag") -> outcome. Documented in docs/sandbox.md.
TEST_RECIPIENTS: dict[str, str] = {
    "delayed": "deferred",
    "bounced": "bounced",
    "soft-bounced": "soft_bounced",
    "complained": "complained",
    "opened": "opened",
    "clicked": "clicked",
    "failed": "failed",
}
# When several recipients are test addresses, the strongest outcome wins.
_PRIORITY = ("failed", "bounced", "soft_bounced", "deferred", "complained", "clicked", "opened")

_SCRIPTS: dict[str, tuple[str, ...]] = {
    "delivered": ("queued", "sent", "delivered"),
    "deferred": ("queued", "sent", "deferred", "delivered"),
    "bounced": ("queued", "sent", "bounced"),
    "soft_bounced": ("queued", "sent", "soft_bounced"),
    "complained": ("queued", "sent", "delivered", "complained"),
    "opened": ("queued", "sent", "delivered", "opened"),
    "clicked": ("queued", "sent", "delivered", "opened", "clicked"),
    "failed": ("queued", "failed"),
}

# The status an email has after each event; opened/clicked leave it delivered.
_STATUS = {
    "scheduled": "scheduled",
    "queued": "queued",
    "sent": "sent",
    "deferred": "deferred",
    "delivered": "delivered",
    "bounced": "bounced",
    "soft_bounced": "bounced",
    "complained": "complained",
    "failed": "failed",
    "cancelled": "cancelled",
}
FINAL = frozenset({"bounced", "complained", "failed", "cancelled"})

_DETAILS: dict[str, dict[str, Any]] = {
    "deferred": {"reason": "421 4.7.0 Try again later (sandbox test recipient)"},
    "bounced": {
        "bounceType": "hard",
        "diagnosticCode": "smtp; 550 5.1.1 The email account does not exist (sandbox)",
    },
    "soft_bounced": {
        "bounceType": "soft",
        "diagnosticCode": "smtp; 452 4.2.2 Mailbox full (sandbox)",
    },
    "complained": {"feedbackType": "abuse"},
    "failed": {"reason": "Rejected by the sandbox test recipient"},
}


def status_after(email: SandboxEmail, event_type: str) -> str:
    return _STATUS.get(event_type, email.status)


def _outcome(email: SandboxEmail) -> tuple[str, str | None]:
    """The script's outcome and the recipient that decides it."""
    found: dict[str, str] = {}
    for address in email.recipients:
        local = address.rsplit("@", 1)[0].split("+", 1)[0].lower()
        outcome = TEST_RECIPIENTS.get(local)
        if outcome is not None:
            found.setdefault(outcome, address)
    for outcome in _PRIORITY:
        if outcome in found:
            return outcome, found[outcome]
    return "delivered", None


def _script(email: SandboxEmail) -> tuple[str, ...]:
    queued = next((e for e in email.events if e.type == "queued"), None)
    if queued is not None and queued.detail.get("suppressed"):
        return ("queued", "failed")
    script = _SCRIPTS[_outcome(email)[0]]
    return (
        ("scheduled", *script) if email.events and email.events[0].type == "scheduled" else script
    )


def _delay(previous: str, step: str, timings: Timings) -> float:
    if step in ("sent",) or (step == "failed" and previous == "queued"):
        return timings.send
    if previous == "sent":
        return timings.deliver
    if previous == "deferred":
        return timings.retry
    return timings.feedback


def next_step(email: SandboxEmail, timings: Timings) -> tuple[datetime, str] | None:
    """When the email's next scripted event is due, and which it is; ``None`` if none is."""
    if email.status in FINAL or not email.events:
        return None
    script = _script(email)
    done = tuple(event.type for event in email.events)
    if done != script[: len(done)] or len(done) >= len(script):
        return None  # finished, or a manual step took it off its script
    step = script[len(done)]
    last = email.events[-1]
    if step == "queued":  # leaving "scheduled"
        scheduled = parse_timestamp(email.scheduled_at or last.at)
        assert scheduled is not None
        return scheduled, step
    at = parse_timestamp(last.at)
    assert at is not None
    return at + timedelta(seconds=_delay(last.type, step, timings)), step


def _detail(email: SandboxEmail, step: str) -> dict[str, Any]:
    detail = dict(_DETAILS.get(step, {}))
    outcome, recipient = _outcome(email)
    if recipient is not None and step in (outcome, "deferred", "opened", "clicked"):
        detail["recipient"] = recipient
    if step == "clicked":
        detail["link"] = _first_link(email.html) or "https://example.com/"
    return detail


def _first_link(html: str | None) -> str | None:
    if not html:
        return None
    start = html.find('href="http')
    if start < 0:
        return None
    start += len('href="')
    end = html.find('"', start)
    return html[start:end] if end > start else None


EventHook = Callable[[SandboxEmail, EmailEvent], None]
SuppressionCheck = Callable[[SandboxEmail], list[str]]


class Lifecycle:
    """Moves emails along their scripts as the sandbox clock passes each step."""

    def __init__(
        self,
        store: Store,
        clock: SandboxClock,
        timings: Timings,
        *,
        on_event: EventHook,
        suppressed: SuppressionCheck,
    ) -> None:
        self._store = store
        self._clock = clock
        self._timings = timings
        self._on_event = on_event
        self._suppressed = suppressed
        self._due: list[tuple[datetime, int, str]] = []
        self._order = itertools.count()
        self._wake = threading.Condition(store.lock)

    # -- steps --

    def _append(self, email: SandboxEmail, event: EmailEvent) -> SandboxEmail:
        """Store the email's successor with one more event and tell the hook."""
        changes: dict[str, Any] = {"events": (*email.events, event)}
        changes["status"] = status_after(email, event.type)
        if event.type == "sent":
            changes["sent_at"] = event.at
        successor = replace(email, **changes)
        self._store.replace_email(successor)
        self._on_event(successor, event)
        return successor

    def _queued_event(self, email: SandboxEmail, at: str) -> EmailEvent:
        suppressed = self._suppressed(email)
        return EmailEvent("queued", at, {"suppressed": suppressed} if suppressed else {})

    def _advance(self, email: SandboxEmail, now: datetime) -> SandboxEmail:
        """Apply every scripted step of one email due by ``now``; remember the next one."""
        while (step := next_step(email, self._timings)) is not None:
            due, kind = step
            if due > now:
                heapq.heappush(self._due, (due, next(self._order), email.id))
                self._wake.notify_all()
                break
            at = isoformat(max(due, parse_timestamp(email.events[-1].at) or due))
            if kind == "queued":
                event = self._queued_event(email, at)
            else:
                event = EmailEvent(kind, at, _detail(email, kind))
            email = self._append(email, event)
        return email

    # -- entry points (all under the store lock) --

    def accept(self, email: SandboxEmail) -> SandboxEmail:
        """Store a new email with its first event and run what is due at once."""
        with self._store.lock:
            now = self._clock.now()
            scheduled = parse_timestamp(email.scheduled_at) if email.scheduled_at else None
            at = isoformat(now)
            if scheduled is not None and scheduled > now:
                first = EmailEvent("scheduled", at, {"scheduledAt": email.scheduled_at})
            else:
                first = self._queued_event(email, at)
            email = replace(email, events=(first,), status=_STATUS[first.type])
            self._store.add_email(email)
            self._on_event(email, first)
            return self._advance(email, now)

    def catch_up(self) -> None:
        """Apply every step that is due by now, across all emails."""
        with self._store.lock:
            now = self._clock.now()
            while self._due and self._due[0][0] <= now:
                _, _, email_id = heapq.heappop(self._due)
                email = self._store.emails.get(email_id)
                if email is not None:
                    self._advance(email, now)

    def resume(self) -> None:
        """After loading a database: plan the next step of every email still in progress."""
        with self._store.lock:
            now = self._clock.now()
            for email in list(self._store.emails.values()):
                self._advance(email, now)

    def seconds_to_next(self) -> float | None:
        """Real seconds until the next due step; ``None`` when nothing will come due on its own."""
        with self._store.lock:
            if not self._due:
                return None
            return self._clock.seconds_until(self._due[0][0])

    def run(self, stop: threading.Event) -> None:
        """The scheduler thread's loop: wake at each due step (running clock) or when told."""
        with self._store.lock:
            while not stop.is_set():
                self.catch_up()
                self._store.commit()
                self._wake.wait(self.seconds_to_next())

    def wake(self) -> None:
        with self._store.lock:
            self._wake.notify_all()

    # -- manual steps --

    def cancel(self, email: SandboxEmail) -> SandboxEmail:
        if email.status != "scheduled":
            raise conflict(f"Only scheduled emails can be cancelled (status: {email.status})")
        return self._append(email, EmailEvent("cancelled", isoformat(self._clock.now())))

    def reschedule(self, email: SandboxEmail, moment: datetime) -> SandboxEmail:
        if email.status != "scheduled":
            raise conflict(f"Only scheduled emails can be rescheduled (status: {email.status})")
        successor = replace(email, scheduled_at=isoformat(moment))
        self._store.replace_email(successor)
        return self._advance(successor, self._clock.now())

    def release(self, email: SandboxEmail) -> SandboxEmail:
        """Queue a scheduled email now, as if its time had come."""
        now = self._clock.now()
        queued = self._append(email, self._queued_event(email, isoformat(now)))
        return self._advance(queued, now)

    def feedback(self, email: SandboxEmail, kind: str, detail: dict[str, Any]) -> SandboxEmail:
        """A bounce or complaint from the inbox: the steps up to it, then it; the script ends."""
        if email.status in ("scheduled", "cancelled") or email.status in FINAL:
            raise conflict(f"A {email.status} email cannot get a {kind} event")
        at = isoformat(self._clock.now())
        needed = ("sent",) if kind in ("bounced", "soft_bounced") else ("sent", "delivered")
        for step in needed:
            if step not in (event.type for event in email.events):
                email = self._append(email, EmailEvent(step, at))
        return self._append(email, EmailEvent(kind, at, detail))

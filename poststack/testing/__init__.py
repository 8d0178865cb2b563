"""A local PostStack for tests and development: ``poststack.testing.Sandbox``.

::

    from poststack.testing import Sandbox

    with Sandbox() as sb:
        ...  # point a client at sb.base_url with sb.api_key
        sb.wait_for_emails(1)
        assert sb.outbox[0].to == ("someone@example.org",)

It answers every method of the API statefully over real HTTP/1.1 on a loopback
port, runs each email through its lifecycle on a sandbox clock (``sb.advance``),
delivers signed webhooks to loopback receivers, injects faults (``sb.faults``),
keeps its state in SQLite when asked (``db=``) and serves a web inbox at ``/``
with a JSON API under ``/_sandbox/`` (:class:`SandboxInbox` wraps it). See
``docs/sandbox.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._clock import SandboxClock
    from ._faults import Fault, FaultPlan
    from ._inbox import InboxMessage, InboxSummary
    from ._inbox_client import InboxError, SandboxInbox
    from ._lifecycle import TEST_RECIPIENTS, Timings
    from ._models import EmailEvent, RecordedRequest, SandboxEmail, WebhookDelivery
    from ._persistence import DatabaseInUseError
    from ._sandbox import OutboxWatch, Sandbox
    from ._webhook_delivery import webhook_signature

__all__ = [
    "TEST_RECIPIENTS",
    "DatabaseInUseError",
    "EmailEvent",
    "Fault",
    "FaultPlan",
    "InboxError",
    "InboxMessage",
    "InboxSummary",
    "OutboxWatch",
    "RecordedRequest",
    "Sandbox",
    "SandboxClock",
    "SandboxEmail",
    "SandboxInbox",
    "Timings",
    "WebhookDelivery",
    "webhook_signature",
]

# Loaded on first use: the pytest plugin imports this package in every test run of a
# project that has poststack installed, and most of those runs never start a sandbox.
_HOMES = {
    "TEST_RECIPIENTS": "_lifecycle",
    "DatabaseInUseError": "_persistence",
    "EmailEvent": "_models",
    "Fault": "_faults",
    "FaultPlan": "_faults",
    "InboxError": "_inbox_client",
    "InboxMessage": "_inbox",
    "InboxSummary": "_inbox",
    "OutboxWatch": "_sandbox",
    "RecordedRequest": "_models",
    "Sandbox": "_sandbox",
    "SandboxClock": "_clock",
    "SandboxInbox": "_inbox_client",
    "SandboxEmail": "_models",
    "Timings": "_lifecycle",
    "WebhookDelivery": "_models",
    "webhook_signature": "_webhook_delivery",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value

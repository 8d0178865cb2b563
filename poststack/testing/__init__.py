"""An in-process PostStack API server for tests: ``poststack.testing.Sandbox``.

::

    from poststack.testing import Sandbox

    with Sandbox() as sb:
        ...  # point a client at sb.base_url with sb.api_key
        sb.wait_for_emails(1)
        assert sb.outbox[0].to == ("someone@example.org",)

It serves ``emails``, ``domains`` and ``webhooks`` over real HTTP/1.1 (h11, one
thread per connection) on a loopback port, records every request, keeps an
outbox, injects faults (``sb.faults``) and delivers signed webhooks to loopback
receivers. See :class:`Sandbox` and :class:`FaultPlan` for the details.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._clock import SandboxClock
    from ._faults import Fault, FaultPlan
    from ._lifecycle import TEST_RECIPIENTS, Timings
    from ._models import EmailEvent, RecordedRequest, SandboxEmail, WebhookDelivery
    from ._persistence import DatabaseInUseError
    from ._sandbox import Sandbox
    from ._webhook_delivery import webhook_signature

__all__ = [
    "TEST_RECIPIENTS",
    "DatabaseInUseError",
    "EmailEvent",
    "Fault",
    "FaultPlan",
    "RecordedRequest",
    "Sandbox",
    "SandboxClock",
    "SandboxEmail",
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
    "RecordedRequest": "_models",
    "Sandbox": "_sandbox",
    "SandboxClock": "_clock",
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

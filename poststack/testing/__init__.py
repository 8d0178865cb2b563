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

from ._faults import Fault, FaultPlan
from ._models import RecordedRequest, SandboxEmail, WebhookDelivery
from ._sandbox import Sandbox
from ._webhook_delivery import webhook_signature

__all__ = [
    "Fault",
    "FaultPlan",
    "RecordedRequest",
    "Sandbox",
    "SandboxEmail",
    "WebhookDelivery",
    "webhook_signature",
]

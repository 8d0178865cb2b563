"""Verifying PostStack's webhook deliveries.

PostStack signs each delivery with HMAC-SHA256 over the raw request body and
sends it as ``X-PostStack-Signature: sha256=<hex>`` (two comma-separated
signatures while a rotated secret's grace window is open). Verify the body
bytes exactly as received, before parsing them::

    from poststack.webhooks import WebhookVerificationError, construct_event

    try:
        event = construct_event(request.body, request.headers, secret)
    except WebhookVerificationError:  # bad signature, or (WebhookPayloadError) not JSON
        return 400
    if event["type"] == "email.delivered": ...

``verify(payload, signature_header, secret)`` is the boolean check (also
``ps.webhooks.verify`` on either client, and ``poststack.resources.Webhooks.verify``
on the class); ``sign`` computes the header value PostStack would send, for
tests. All of it is pure, in the core.
"""

from __future__ import annotations

from poststack_core import (
    SIGNATURE_HEADER,
    WebhookPayloadError,
    WebhookVerificationError,
    construct_event,
    sign,
    verify,
)

__all__ = [
    "SIGNATURE_HEADER",
    "WebhookPayloadError",
    "WebhookVerificationError",
    "construct_event",
    "sign",
    "verify",
]

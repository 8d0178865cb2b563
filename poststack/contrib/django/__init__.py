"""Django: an email backend with every PostStack option, and webhook events as signals.

Sending (``EMAIL_BACKEND = "poststack.contrib.django.EmailBackend"``): everything
Django mails (``send_mail``, ``mail_admins``, ``EmailMessage``, …) goes out
through PostStack. Any message may carry PostStack's options as attributes
(``message.tags``, ``metadata``, ``scheduled_at``, ``template_id``,
``variables``, ``idempotency_key``, ``unsubscribe``; see :class:`PostStackMessage`),
with defaults from ``POSTSTACK_SEND_DEFAULTS``. After a send,
``message.poststack_id`` and ``message.poststack_status`` say what happened;
``pre_send`` may change or cancel a message, ``post_send`` hears of each.

Receiving (``path("webhooks/poststack/", include("poststack.contrib.django.urls"))``
and ``POSTSTACK_WEBHOOK_SECRET``): each verified delivery, once, as the
``tracking`` or ``inbound`` signal, with a typed event.

Settings (all optional; the key and base URL fall back to the environment):
``POSTSTACK_API_KEY``, ``POSTSTACK_BASE_URL``, ``POSTSTACK_TIMEOUT``,
``POSTSTACK_MAX_RETRIES``, ``POSTSTACK_ALLOW_INSECURE_HTTP`` (``True`` lets a test
key use plain ``http://`` to another host, such as a sandbox container),
``POSTSTACK_SEND_DEFAULTS``, ``POSTSTACK_WEBHOOK_SECRET``, ``POSTSTACK_WEBHOOK_STORE``.
See docs/django.md.
"""

from __future__ import annotations

from ._backend import POSTSTACK_ID_ATTR, CancelSend, EmailBackend, RejectedEmails, poststack_id
from ._message import PostStackMessage, PostStackMessageMixin
from ._payload import (
    IDEMPOTENCY_HEADER,
    OPTIONS,
    TAGS_HEADER,
    UnsupportedFeature,
    message_to_params,
    punycode_address,
)
from ._status import POSTSTACK_STATUS_ATTR, PostStackStatus, RecipientStatus, SendStatus
from ._store import CacheEventStore
from ._views import WebhookView
from .signals import inbound, post_send, pre_send, tracking

__all__ = [
    "IDEMPOTENCY_HEADER",
    "OPTIONS",
    "POSTSTACK_ID_ATTR",
    "POSTSTACK_STATUS_ATTR",
    "TAGS_HEADER",
    "CacheEventStore",
    "CancelSend",
    "EmailBackend",
    "PostStackMessage",
    "PostStackMessageMixin",
    "PostStackStatus",
    "RecipientStatus",
    "RejectedEmails",
    "SendStatus",
    "UnsupportedFeature",
    "WebhookView",
    "inbound",
    "message_to_params",
    "post_send",
    "poststack_id",
    "pre_send",
    "punycode_address",
    "tracking",
]


def _show_public_module() -> None:
    # Classes show where callers import them from (poststack.contrib.django.EmailBackend),
    # not the private module that defines them, in reprs, tracebacks and pickles.
    for name in __all__:
        public = globals()[name]
        if isinstance(public, type) and public.__module__.startswith(f"{__name__}._"):
            public.__module__ = __name__


_show_public_module()
del _show_public_module

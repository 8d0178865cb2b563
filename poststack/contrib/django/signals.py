"""The Django signals of poststack: before and after each send, and for each webhook event.

Connect receivers as with any Django signal (``@receiver(tracking)``):

- ``pre_send(sender, message)``: before a message is converted and sent. A
  receiver may change the message, or raise
  :class:`~poststack.contrib.django.CancelSend` to skip it (it is not sent, not
  counted, and its ``poststack_status.status`` is ``"cancelled"``).
- ``post_send(sender, message, status)``: once per message the backend tried to
  send, with its :class:`~poststack.contrib.django.PostStackStatus`, before any
  error is raised. A receiver's exception stops the other receivers of that
  message and is raised by ``send_messages`` once every message has its status.
- ``tracking(sender, event)``: a verified webhook event about an email
  (``email.delivered``, ``email.bounced``, …), or an ``UnknownEvent`` for
  event types without a type of their own (contact or domain events).
- ``inbound(sender, event, message)``: mail received on one of your domains;
  ``message`` is the parsed :class:`~poststack.inbound.InboundMessage`.

An exception in a ``tracking`` or ``inbound`` receiver makes the webhook view
answer 500, so PostStack delivers the event again later.
"""

from __future__ import annotations

from django.dispatch import Signal

__all__ = ["inbound", "post_send", "pre_send", "tracking"]

pre_send: Signal = Signal()
post_send: Signal = Signal()
tracking: Signal = Signal()
inbound: Signal = Signal()


# django-stubs types a receiver as returning Unknown, which strict pyright reports at
# every use: this wrapper is the one place that touches it.


def send(signal: Signal, sender: type, **named: object) -> None:
    """``signal.send(...)``: a receiver's exception propagates to the caller."""
    signal.send(sender=sender, **named)  # pyright: ignore[reportUnknownMemberType]

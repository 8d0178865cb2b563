"""``message.poststack_status``: what became of a message the backend tried to send."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from types import MappingProxyType
from typing import Any, Literal

__all__ = ["POSTSTACK_STATUS_ATTR", "PostStackStatus", "RecipientStatus", "SendStatus"]

POSTSTACK_STATUS_ATTR = "poststack_status"

SendStatus = Literal["queued", "scheduled", "rejected", "failed", "not_sent", "cancelled"]
"""- ``queued``: the API accepted it (202); webhook events follow.
- ``scheduled``: accepted, to be sent at its ``scheduled_at``.
- ``rejected``: the API refused this message of a batch (``error`` says why).
- ``failed``: the request failed (an API error or no answer; ``error`` says which).
- ``not_sent``: the sending stopped before it (a quota, a revoked key), so it was never sent.
- ``cancelled``: a ``pre_send`` receiver cancelled it."""


@dataclass(frozen=True, slots=True)
class RecipientStatus:
    """One recipient's part: the email id (one per message in PostStack) and its status."""

    id: str | None
    status: SendStatus


@dataclass(frozen=True, slots=True)
class PostStackStatus:
    """The outcome of sending one message, set as ``message.poststack_status``.

    ``id`` is the ``em_…`` id (``None`` unless accepted); ``recipients`` maps
    each ``to``/``cc``/``bcc`` address (without display name) to its
    :class:`RecipientStatus`; ``replayed`` is True when the idempotency key
    matched an earlier send, so no second email was created; ``response`` is
    the API's answer for this message.
    """

    status: SendStatus
    id: str | None = None
    recipients: Mapping[str, RecipientStatus] = field(default_factory=lambda: MappingProxyType({}))
    error: str | None = None
    replayed: bool = False
    response: Mapping[str, Any] | None = field(default=None, repr=False)

    @classmethod
    def for_message(
        cls,
        addresses: list[str],
        status: SendStatus,
        *,
        id: str | None = None,
        error: str | None = None,
        response: Mapping[str, Any] | None = None,
    ) -> PostStackStatus:
        """The same status for every recipient of a message (PostStack sends one email)."""
        recipient = RecipientStatus(id, status)
        recipients = {(parseaddr(a)[1] or a): recipient for a in addresses}
        return cls(
            status=status,
            id=id,
            recipients=MappingProxyType(recipients),
            error=error,
            replayed=bool(response and response.get("replayed") is True),
            response=response,
        )

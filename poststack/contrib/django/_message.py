"""``PostStackMessage``: an ``EmailMultiAlternatives`` that takes PostStack's options as arguments.

Any ``EmailMessage`` may carry the options as attributes (``message.tags = [...]``);
this class only spells them out for type checkers and editors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from django.core.mail import EmailMessage, EmailMultiAlternatives

from ._status import PostStackStatus

__all__ = ["PostStackMessage", "PostStackMessageMixin"]


class PostStackMessageMixin(EmailMessage):
    """Adds PostStack's options to a Django message class: keyword arguments and attributes.

    ``tags``, ``metadata``, ``scheduled_at``, ``template_id``, ``variables``,
    ``idempotency_key`` and ``unsubscribe`` go into the ``emails.send`` payload
    under those names (``None`` leaves one out). After a send,
    ``poststack_id`` and ``poststack_status`` say what happened.
    """

    tags: Sequence[str] | None
    metadata: Mapping[str, str] | None
    scheduled_at: datetime | date | str | None
    template_id: str | None
    variables: Mapping[str, str] | None
    idempotency_key: str | None
    unsubscribe: bool | None
    poststack_id: str | None
    poststack_status: PostStackStatus | None

    def __init__(
        self,
        *args: Any,
        tags: Sequence[str] | None = None,
        metadata: Mapping[str, str] | None = None,
        scheduled_at: datetime | date | str | None = None,
        template_id: str | None = None,
        variables: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        unsubscribe: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.tags = tags
        self.metadata = metadata
        self.scheduled_at = scheduled_at
        self.template_id = template_id
        self.variables = variables
        self.idempotency_key = idempotency_key
        self.unsubscribe = unsubscribe
        self.poststack_id = None
        self.poststack_status = None


class PostStackMessage(PostStackMessageMixin, EmailMultiAlternatives):
    """``EmailMultiAlternatives`` with PostStack's options (see :class:`PostStackMessageMixin`)."""

"""The Django email backend: ``EMAIL_BACKEND = "poststack.contrib.django.EmailBackend"``.

For each message of ``send_messages``: ``pre_send`` (which may change or cancel
it), the conversion to the API's payload (``_payload``; a message the API
cannot express raises before anything is sent), then one ``emails.send`` for
a single message or ``emails.send_many`` (batches of 100) for several. Every
message tried gets ``message.poststack_status`` (and, if accepted,
``message.poststack_id``), then ``post_send``, before any error is raised.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

from poststack import PostStack, PostStackError
from poststack.types import SendEmailParams
from poststack_core import SPLIT_STATUSES

from .._config import ClientOptions, client_options
from . import signals
from ._payload import check_send_defaults, message_to_params
from ._status import POSTSTACK_STATUS_ATTR, PostStackStatus, SendStatus
from .signals import post_send, pre_send

__all__ = ["POSTSTACK_ID_ATTR", "CancelSend", "EmailBackend", "RejectedEmails", "poststack_id"]

logger: logging.Logger = logging.getLogger("poststack.contrib.django")

POSTSTACK_ID_ATTR = "poststack_id"


def poststack_id(message: EmailMessage) -> str | None:
    """The PostStack email id (``em_…``) of a message this backend sent, else ``None``."""
    value = getattr(message, POSTSTACK_ID_ATTR, None)
    return value if isinstance(value, str) else None


class CancelSend(Exception):
    """Raise it in a ``pre_send`` receiver to skip a message: no error, not sent, not counted."""


class RejectedEmails(Exception):
    """The API took a batch but rejected some of its emails, each for a reason of its own.

    ``rejected`` pairs each rejected message with the API's reason; the other
    messages were sent and carry their ``poststack_id``. No HTTP request
    failed, so this is no :class:`~poststack.PostStackError`.
    """

    def __init__(self, rejected: Sequence[tuple[EmailMessage, str]]) -> None:
        self.rejected: list[tuple[EmailMessage, str]] = list(rejected)
        summary = "; ".join(f"{message.subject!r}: {reason}" for message, reason in rejected)
        super().__init__(f"PostStack rejected {len(self.rejected)} email(s): {summary}")


def _setting(name: str) -> object:
    return getattr(settings, name, None)


def _batch_key(keys: Sequence[str | None]) -> str | None:
    """A batch's Idempotency-Key when every message in it has a key of its own."""
    if not keys or any(key is None for key in keys):
        return None
    digest = hashlib.sha256("\n".join(cast(Sequence[str], keys)).encode()).hexdigest()
    return f"django-batch-{digest[:48]}"


@dataclass(slots=True)
class _Outgoing:
    """A message past ``pre_send``, with its payload and idempotency key."""

    message: EmailMessage
    params: SendEmailParams
    key: str | None

    @property
    def addresses(self) -> list[str]:
        return [*self.params["to"], *self.params.get("cc", ()), *self.params.get("bcc", ())]

    def accepted(self, result: Mapping[str, Any], now: datetime) -> PostStackStatus:
        email_id = result.get("id")
        scheduled = self.params.get("scheduled_at")
        status: SendStatus = "queued"
        # The payload's send time is the backend's own UTC format (…T09:00:00.000Z).
        if scheduled is not None and datetime.fromisoformat(scheduled[:-1] + "+00:00") > now:
            status = "scheduled"
        return PostStackStatus.for_message(
            self.addresses, status, id=str(email_id), response=result
        )

    def refused(
        self, status: SendStatus, error: str, response: Mapping[str, Any] | None = None
    ) -> PostStackStatus:
        return PostStackStatus.for_message(self.addresses, status, error=error, response=response)


class EmailBackend(BaseEmailBackend):
    """Sends Django email through the PostStack API.

    Keyword arguments (``get_connection("poststack.contrib.django.EmailBackend",
    api_key=...)``) override the settings: ``api_key``, ``base_url``,
    ``timeout``, ``max_retries``, ``send_defaults`` (replacing, option by
    option, those of ``POSTSTACK_SEND_DEFAULTS``); ``client`` uses a
    :class:`~poststack.PostStack` you created (it is never closed by the backend).

    Like Django's SMTP backend, ``send_messages`` opens a client for the call
    and closes it after, unless the backend is already open: reuse one client
    (and its connections) for many sends with ``with get_connection() as c:``.
    ``fail_silently=True`` turns API and network errors into a log line on the
    ``poststack.contrib.django`` logger and a lower return count; a message
    that cannot be expressed in the API and a missing API key raise regardless.
    """

    def __init__(
        self,
        fail_silently: bool = False,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        client: PostStack | None = None,
        send_defaults: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(fail_silently=fail_silently, **kwargs)
        options = client_options(_setting, "Django settings")
        if api_key is not None:
            options["api_key"] = api_key
        if base_url is not None:
            options["base_url"] = base_url
        if timeout is not None:
            options["timeout"] = timeout
        if max_retries is not None:
            options["max_retries"] = max_retries
        try:
            defaults = check_send_defaults(
                _setting("POSTSTACK_SEND_DEFAULTS"), "POSTSTACK_SEND_DEFAULTS"
            )
        except (TypeError, ValueError) as exc:
            raise ImproperlyConfigured(str(exc)) from exc
        defaults.update(check_send_defaults(send_defaults, "send_defaults"))
        self.send_defaults: Mapping[str, Any] = defaults
        self._options: ClientOptions = options
        self._client = client
        self._owns_client = False

    def open(self) -> bool:
        """Create the client if there is none; ``True`` if this call created it."""
        if self._client is not None:
            return False
        try:
            self._client = PostStack(**self._options)
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"{exc} (or set POSTSTACK_API_KEY in your Django settings)"
            ) from exc
        self._owns_client = True
        return True

    def close(self) -> None:
        """Close the client if this backend created it (one passed in stays open)."""
        if not self._owns_client:
            return
        client, self._client, self._owns_client = self._client, None, False
        if client is not None:
            client.close()

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        """Send the messages; return how many the API accepted."""
        outgoing = self._prepare(email_messages)
        if not outgoing:
            return 0
        created = self.open()
        try:
            assert self._client is not None
            if len(outgoing) == 1:
                return self._send_one(self._client, outgoing[0])
            return self._send_many(self._client, outgoing)
        finally:
            if created:
                self.close()

    def _prepare(self, email_messages: Sequence[EmailMessage]) -> list[_Outgoing]:
        """``pre_send`` and the conversion of every message, before anything is sent."""
        outgoing: list[_Outgoing] = []
        for message in email_messages:
            setattr(message, POSTSTACK_ID_ATTR, None)
            setattr(message, POSTSTACK_STATUS_ATTR, None)
            try:
                signals.send(pre_send, type(self), message=message)
            except CancelSend:
                cancelled = PostStackStatus.for_message(list(message.recipients()), "cancelled")
                setattr(message, POSTSTACK_STATUS_ATTR, cancelled)
                continue
            if not message.recipients():
                continue
            params, key = message_to_params(message, self.send_defaults)
            outgoing.append(_Outgoing(message, params, key))
        return outgoing

    def _finish(self, item: _Outgoing, status: PostStackStatus) -> list[Exception]:
        """Record a message's outcome and tell ``post_send``; a receiver's error, if any.

        Not ``send_robust``: it logs a receiver's error to ``django.dispatch``, which
        mails the ADMINS in production, through this backend, whose ``post_send``
        fails again: a loop. The error goes to our caller instead (raised once every
        message has its status).
        """
        setattr(item.message, POSTSTACK_STATUS_ATTR, status)
        if status.id is not None:
            setattr(item.message, POSTSTACK_ID_ATTR, status.id)
        try:
            signals.send(post_send, type(self), message=item.message, status=status)
        except Exception as exc:
            return [exc]
        return []

    def _send_one(self, client: PostStack, item: _Outgoing) -> int:
        try:
            result = client.emails.send(item.params, idempotency_key=item.key)
        except PostStackError as exc:
            self._finish(item, item.refused("failed", str(exc)))
            if not self.fail_silently:
                raise
            logger.exception("PostStack did not accept the email %r", item.params.get("subject"))
            return 0
        errors = self._finish(item, item.accepted(result, datetime.now(timezone.utc)))
        if errors:
            raise errors[0]
        return 1

    def _send_many(self, client: PostStack, outgoing: Sequence[_Outgoing]) -> int:
        # The core's bulk engine sends 100 per batch, one batch after the other, and keeps
        # going past a batch that fails; a batch refused as a whole for one email's sake is
        # split down to that email. The run id comes from the messages' own keys.
        result = client.emails.send_many(
            [item.params for item in outgoing],
            run_id=_batch_key([item.key for item in outgoing]),
            concurrency=1,
            detect_changes=False,
        )
        now = datetime.now(timezone.utc)
        failure: PostStackError | None = None
        rejected: list[tuple[EmailMessage, str]] = []
        errors: list[Exception] = []
        for item, outcome in zip(outgoing, result, strict=True):
            if outcome.id is not None:
                errors += self._finish(item, item.accepted({"id": outcome.id}, now))
            elif outcome.error is not None and outcome.error.status_code in SPLIT_STATUSES:
                # The API refused this one email for a reason of its own.
                reason = outcome.error.error
                errors += self._finish(item, item.refused("rejected", reason))
                rejected.append((item.message, reason))
            else:
                # Its batch failed (a 5xx, a 429, no response), or the run stopped first.
                status: SendStatus = "failed" if outcome.status == "failed" else "not_sent"
                reason = str(outcome.error) if outcome.error is not None else "not sent"
                errors += self._finish(item, item.refused(status, reason))
                failure = failure or outcome.error
        if failure is not None:
            if not self.fail_silently:
                raise failure
            logger.error(
                "PostStack did not accept a batch: %d of %d emails sent",
                result.sent,
                len(outgoing),
                exc_info=failure,
            )
        if rejected:
            refused = RejectedEmails(rejected)
            if not self.fail_silently:
                raise refused
            logger.error("%s", refused)
        if errors:
            raise errors[0]
        return result.sent

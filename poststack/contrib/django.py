"""Django email backend: ``EMAIL_BACKEND = "poststack.contrib.django.EmailBackend"``.

Everything Django sends through its mail API (``send_mail``, ``send_mass_mail``,
``mail_admins``, ``EmailMessage``, ``EmailMultiAlternatives``, the admin error
mails of ``AdminEmailHandler``) then goes out through PostStack.

Settings (all optional; the key and base URL fall back to the environment):

- ``POSTSTACK_API_KEY``: else ``$POSTSTACK_API_KEY``
- ``POSTSTACK_BASE_URL``: else ``$POSTSTACK_BASE_URL``, then ``https://api.poststack.dev``
- ``POSTSTACK_TIMEOUT``: seconds per attempt (default 30)
- ``POSTSTACK_MAX_RETRIES``: retries of 408, 429, 5xx and failed connections (default 3)
- ``POSTSTACK_ALLOW_INSECURE_HTTP``: ``True`` lets a test key use plain ``http://`` to
  another host, such as a sandbox container (else ``$POSTSTACK_ALLOW_INSECURE_HTTP``)

How a message maps onto the API (spec section 7):

- ``from_email``, ``to``, ``cc``, ``bcc``, ``subject`` as they are; a ``From`` or
  ``Reply-To`` entry in ``headers`` overrides ``from_email`` / ``reply_to``, as
  it does in Django's own SMTP backend.
- ``reply_to``: one address is sent as a string; several as a list.
- ``body`` is the text part (the HTML part when ``content_subtype == "html"``);
  a ``text/html`` alternative is the HTML part. Other alternatives are refused.
- attachments (``attach``, ``attach_file`` or MIME parts) are sent base64
  encoded with their filename and content type.
- other ``headers`` are sent as custom headers, except two the backend reads:
  ``X-PostStack-Idempotency-Key`` (the idempotency key of the send: a retried
  send with the same key is never delivered twice) and ``X-PostStack-Tags``
  (comma-separated tags).

After a successful send each message carries the PostStack email id in
``message.poststack_id`` (read it with :func:`poststack_id`), so webhook events
can be matched to it. ``send_messages`` with more than one message uses the
batch endpoint, 100 messages per request (``emails.send_many``). A batch that
fails (a 5xx, no response) does not stop the others: its error is raised after
them (with ``fail_silently`` it is logged and the count says how many went
out). Messages the API rejects one by one raise :class:`RejectedEmails` (or are
logged with ``fail_silently``); the others are sent.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import mimetypes
from collections.abc import Iterable, Sequence
from email.message import Message
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import BadHeaderError, EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

from poststack import PostStack, PostStackError
from poststack.types import Attachment, SendEmailParams
from poststack_core import SPLIT_STATUSES

from ._config import ClientOptions, client_options

__all__ = [
    "IDEMPOTENCY_HEADER",
    "POSTSTACK_ID_ATTR",
    "TAGS_HEADER",
    "EmailBackend",
    "RejectedEmails",
    "message_to_params",
    "poststack_id",
]

logger: logging.Logger = logging.getLogger("poststack.contrib.django")

POSTSTACK_ID_ATTR = "poststack_id"
IDEMPOTENCY_HEADER = "X-PostStack-Idempotency-Key"
TAGS_HEADER = "X-PostStack-Tags"
_DEFAULT_ATTACHMENT_TYPE = "application/octet-stream"


def poststack_id(message: EmailMessage) -> str | None:
    """The PostStack email id (``em_…``) of a message this backend sent, else ``None``."""
    value = getattr(message, POSTSTACK_ID_ATTR, None)
    return value if isinstance(value, str) else None


def _text(value: object) -> str:
    # Subjects and bodies may be lazy translation strings.
    return str(value)


def _header(value: object, name: str) -> str:
    """A header value; newlines are refused, as Django's own backends refuse them."""
    text = _text(value)
    if "\n" in text or "\r" in text:
        raise BadHeaderError(
            f"Header values can't contain newlines (got {text!r} for header {name!r})"
        )
    return text


def _addresses(values: Iterable[object], name: str) -> list[str]:
    return [_header(value, name) for value in values if value]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _mime_attachment(part: Message[str, str], index: int) -> Attachment:
    content_type = part.get_content_type()
    if part.is_multipart():
        # message/rfc822 (an attached email) and other containers: send them whole.
        inner = part.get_payload()
        if content_type == "message/rfc822" and isinstance(inner, list) and inner:
            data = cast("Message[str, str]", inner[0]).as_bytes()
        else:
            data = part.as_bytes()
    else:
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
    filename = part.get_filename() or _default_filename(index, content_type)
    return Attachment(filename=filename, content=_b64(data), content_type=content_type)


def _default_filename(index: int, content_type: str) -> str:
    extension = mimetypes.guess_extension(content_type) or ""
    if content_type == "message/rfc822":
        extension = ".eml"
    return f"attachment-{index + 1}{extension}"


def _tuple_attachment(item: Sequence[Any], index: int, encoding: str) -> Attachment:
    filename, content, mimetype = (*item, None, None)[:3]
    content_type = (
        mimetype
        or (mimetypes.guess_type(filename)[0] if filename else None)
        or _DEFAULT_ATTACHMENT_TYPE
    )
    if isinstance(content, EmailMessage):
        data = content.message().as_bytes()
    elif isinstance(content, Message):
        data = content.as_bytes()
    elif isinstance(content, str):
        data = content.encode(encoding)
    elif isinstance(content, (bytes, bytearray)):
        data = bytes(content)
    else:
        raise TypeError(
            f"attachment {filename!r}: content must be str or bytes, got {type(content).__name__}"
        )
    return Attachment(
        filename=str(filename) if filename else _default_filename(index, str(content_type)),
        content=_b64(data),
        content_type=str(content_type),
    )


def _bodies(message: EmailMessage) -> tuple[str | None, str | None]:
    """The (text, html) parts of a message."""
    text: str | None = None
    html: str | None = None
    body = _text(message.body) if message.body else None
    if message.content_subtype == "html":
        html = body
    else:
        text = body
    alternatives: Iterable[Sequence[Any]] = getattr(message, "alternatives", None) or ()
    for content, mimetype in alternatives:
        if mimetype != "text/html":
            raise ValueError(
                f"PostStack sends one text and one HTML part; the {mimetype!r} "
                "alternative cannot be sent (attach it as a file instead)"
            )
        if html is not None:
            raise ValueError("PostStack sends one HTML part; this message has two")
        html = content.decode() if isinstance(content, bytes) else _text(content)
    return text, html


def message_to_params(message: EmailMessage) -> tuple[SendEmailParams, str | None]:
    """The ``emails.send`` payload for a Django message, and its idempotency key.

    The key comes from the message's ``X-PostStack-Idempotency-Key`` header, if
    it has one; it is also put in the payload (``idempotency_key``), which is how
    an email inside a batch is de-duplicated.
    """
    headers: dict[str, str] = {}
    sender = _header(message.from_email, "From")
    reply_to = _addresses(message.reply_to, "Reply-To")
    key: str | None = None
    tags: list[str] = []
    for raw_name, raw_value in (message.extra_headers or {}).items():
        name = _text(raw_name)
        value = _header(raw_value, name)
        lowered = name.lower()
        if lowered == "from":
            sender = value
        elif lowered == "reply-to":
            reply_to = [value]
        elif lowered == IDEMPOTENCY_HEADER.lower():
            key = value.strip() or None
        elif lowered == TAGS_HEADER.lower():
            tags.extend(tag.strip() for tag in value.split(",") if tag.strip())
        else:
            headers[name] = value
    params = SendEmailParams({"from": sender, "to": _addresses(message.to, "To")})
    if message.cc:
        params["cc"] = _addresses(message.cc, "Cc")
    if message.bcc:
        params["bcc"] = _addresses(message.bcc, "Bcc")
    if len(reply_to) == 1:
        params["reply_to"] = reply_to[0]
    elif reply_to:
        # Several Reply-To addresses go as a list, the way `to` and `cc` do.
        params["reply_to"] = cast(str, reply_to)
    params["subject"] = _header(message.subject, "Subject")
    text, html = _bodies(message)
    if text is not None:
        params["text"] = text
    if html is not None:
        params["html"] = html
    if headers:
        params["headers"] = headers
    if tags:
        params["tags"] = tags
    encoding = _text(message.encoding or settings.DEFAULT_CHARSET)
    attachments: list[Attachment] = []
    for index, item in enumerate(message.attachments):
        if isinstance(item, Message):
            attachments.append(_mime_attachment(cast("Message[str, str]", item), index))
        else:
            attachments.append(_tuple_attachment(cast(Sequence[Any], item), index, encoding))
    if attachments:
        params["attachments"] = attachments
    if key is not None:
        params["idempotency_key"] = key
    return params, key


def _batch_key(keys: Sequence[str | None]) -> str | None:
    """A batch's Idempotency-Key when every message in it has a key of its own."""
    if not keys or any(key is None for key in keys):
        return None
    digest = hashlib.sha256("\n".join(cast(Sequence[str], keys)).encode()).hexdigest()
    return f"django-batch-{digest[:48]}"


def _setting(name: str) -> object:
    return getattr(settings, name, None)


class EmailBackend(BaseEmailBackend):
    """Sends Django email through the PostStack API.

    Keyword arguments (``get_connection("poststack.contrib.django.EmailBackend",
    api_key=...)``) override the settings: ``api_key``, ``base_url``,
    ``timeout``, ``max_retries``; ``client`` uses a :class:`~poststack.PostStack`
    you created (it is never closed by the backend).

    Like Django's SMTP backend, ``send_messages`` opens a client for the call
    and closes it after, unless the backend is already open: reuse one client
    (and its connections) for many sends with ``with get_connection() as c:``.
    ``fail_silently=True`` turns API and network errors into a log line on the
    ``poststack.contrib.django`` logger and a lower return count; a message
    that cannot be expressed in the API (an unsupported alternative) and a
    missing API key raise regardless.
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
        messages = [m for m in email_messages if m.recipients()]
        if not messages:
            return 0
        created = self.open()
        try:
            assert self._client is not None
            if len(messages) == 1:
                return self._send_one(self._client, messages[0])
            return self._send_many(self._client, messages)
        finally:
            if created:
                self.close()

    def _send_one(self, client: PostStack, message: EmailMessage) -> int:
        params, key = message_to_params(message)
        try:
            result = client.emails.send(params, idempotency_key=key)
        except PostStackError:
            if not self.fail_silently:
                raise
            logger.exception("PostStack did not accept the email %r", params.get("subject"))
            return 0
        setattr(message, POSTSTACK_ID_ATTR, result["id"])
        return 1

    def _send_many(self, client: PostStack, messages: Sequence[EmailMessage]) -> int:
        # The core's bulk engine sends 100 per batch, one batch after the other, and keeps
        # going past a batch that fails; a batch refused as a whole for one email's sake is
        # split down to that email. The run id comes from the messages' own keys.
        converted = [message_to_params(message) for message in messages]
        result = client.emails.send_many(
            [params for params, _ in converted],
            run_id=_batch_key([key for _, key in converted]),
            concurrency=1,
            detect_changes=False,
        )
        failure: PostStackError | None = None
        rejected: list[tuple[EmailMessage, str]] = []
        for message, outcome in zip(messages, result, strict=True):
            if outcome.id is not None:
                setattr(message, POSTSTACK_ID_ATTR, outcome.id)
            elif outcome.error is not None and outcome.error.status_code in _REJECTED_STATUSES:
                # The API refused this one email for a reason of its own.
                rejected.append((message, outcome.error.error))
            elif failure is None:
                failure = outcome.error
        if failure is not None:
            if not self.fail_silently:
                raise failure
            logger.error(
                "PostStack did not accept a batch: %d of %d emails sent",
                result.sent,
                len(messages),
                exc_info=failure,
            )
        if rejected:
            refused = RejectedEmails(rejected)
            if not self.fail_silently:
                raise refused
            logger.error("%s", refused)
        return result.sent


# A failed email with one of these statuses was refused for its own content (the others
# of its batch went out); anything else is a request that failed (5xx, 429, no response).
_REJECTED_STATUSES = SPLIT_STATUSES


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

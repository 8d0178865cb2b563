"""From a Django ``EmailMessage`` to the ``emails.send`` payload (API spec section 7).

Every field the API has is reachable from a message:

- Django's own: ``from_email``, ``to``, ``cc``, ``bcc``, ``reply_to``, ``subject``,
  ``body`` (text, or HTML when ``content_subtype == "html"``), a ``text/html``
  alternative, ``attachments`` and ``extra_headers``;
- PostStack's, as attributes on any message (or arguments of
  :class:`~poststack.contrib.django.PostStackMessage`): :data:`OPTIONS`.

Settings-level defaults (``POSTSTACK_SEND_DEFAULTS``, or ``send_defaults=`` of
the backend) fill in what a message leaves unset: tags are added before the
message's own, ``metadata`` and ``variables`` are merged (the message wins),
the others apply when the message has none.

What the API cannot express is refused with :class:`UnsupportedFeature`
before anything is sent, never dropped: a second HTML part, other
alternatives, inline (``Content-ID``) parts, and django-anymail's attributes
that have no PostStack equivalent (each error names what to do instead).
International domains are converted to punycode, as Django's SMTP backend
converts them.
"""

from __future__ import annotations

import base64
import mimetypes
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from email.message import Message
from typing import Any, cast

from django.conf import settings
from django.core.mail import BadHeaderError, EmailMessage
from django.utils import timezone as django_timezone
from django.utils.functional import Promise

from poststack.types import Attachment, SendEmailParams

__all__ = [
    "DEFAULTABLE",
    "IDEMPOTENCY_HEADER",
    "OPTIONS",
    "TAGS_HEADER",
    "UnsupportedFeature",
    "check_send_defaults",
    "message_to_params",
    "punycode_address",
]

IDEMPOTENCY_HEADER = "X-PostStack-Idempotency-Key"
TAGS_HEADER = "X-PostStack-Tags"
_DEFAULT_ATTACHMENT_TYPE = "application/octet-stream"

OPTIONS = (
    "tags",
    "metadata",
    "scheduled_at",
    "template_id",
    "variables",
    "idempotency_key",
    "unsubscribe",
)
"""The message attributes the backend reads, named as the API names them."""

DEFAULTABLE = ("tags", "metadata", "template_id", "variables", "unsubscribe")
"""The options ``POSTSTACK_SEND_DEFAULTS`` may set (a send time or an idempotency key
shared by every message would be a bug, not a default)."""

# django-anymail's message attributes. Those PostStack has are read under the same
# name (tags, metadata, template_id); these it has not, or names otherwise.
_ANYMAIL_ONLY = {
    "send_at": "set message.scheduled_at (a datetime) instead",
    "merge_global_data": "set message.variables (a dict of str) instead",
    "merge_data": "PostStack has no per-recipient data: send one message per recipient",
    "merge_metadata": "PostStack has no per-recipient metadata: send one message per recipient",
    "merge_headers": "PostStack has no per-recipient headers: send one message per recipient",
    "track_clicks": "click tracking is a domain's setting (domains.update: click_tracking)",
    "track_opens": "open tracking is a domain's setting (domains.update: open_tracking)",
    "envelope_sender": "the return path is a domain setting (custom_return_path)",
    "esp_extra": f"every PostStack option is a message attribute: {', '.join(OPTIONS)}",
}


class UnsupportedFeature(ValueError):
    """A message asks for something the PostStack API cannot express; nothing was sent."""


def _is_unset(value: object) -> bool:
    # None, or django-anymail's UNSET sentinel (a class of that name) on an
    # AnymailMessage that never set the attribute.
    return value is None or (isinstance(value, type) and value.__name__ == "UNSET")


def _text(value: object) -> str:
    # Subjects, bodies and options may be lazy translation strings.
    return str(value)


def _header(value: object, name: str) -> str:
    """A header value; newlines are refused, as Django's own backends refuse them."""
    text = _text(value)
    if "\n" in text or "\r" in text:
        raise BadHeaderError(
            f"Header values can't contain newlines (got {text!r} for header {name!r})"
        )
    return text


def punycode_address(address: str) -> str:
    """``address`` with an international domain in punycode (``bücher.example`` → ``xn--…``).

    Only the domain changes, and only when it is not ASCII: the display name
    and the local part are sent as written (JSON carries them as they are).
    Like Django's SMTP backend, this uses IDNA 2003 (Python's ``idna`` codec).
    """
    at = address.rfind("@")
    if at < 0:
        return address
    end = address.find(">", at)
    end = len(address) if end < 0 else end
    domain = address[at + 1 : end]
    if domain.isascii():
        return address
    try:
        ascii_domain = domain.strip().encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError(f"cannot convert the domain of {address!r} to punycode: {exc}") from None
    return f"{address[: at + 1]}{ascii_domain}{address[end:]}"


def _address(value: object, name: str) -> str:
    return punycode_address(_header(value, name))


def _addresses(values: Iterable[object], name: str) -> list[str]:
    return [_address(value, name) for value in values if value]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _default_filename(index: int, content_type: str) -> str:
    extension = mimetypes.guess_extension(content_type) or ""
    if content_type == "message/rfc822":
        extension = ".eml"
    return f"attachment-{index + 1}{extension}"


def _mime_attachment(part: Message[str, str], index: int) -> Attachment:
    content_type = part.get_content_type()
    if part.get("Content-ID") is not None:
        raise UnsupportedFeature(
            f"attachment {index + 1} ({part.get_filename() or content_type}) is an inline part "
            "with a Content-ID: the API sends attachments only, so a cid: reference to it "
            "would break. Attach it without a Content-ID, or link the image by URL"
        )
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


def _attachments(message: EmailMessage) -> list[Attachment]:
    encoding = _text(message.encoding or settings.DEFAULT_CHARSET)
    found: list[Attachment] = []
    for index, item in enumerate(message.attachments):
        if isinstance(item, Message):
            found.append(_mime_attachment(cast("Message[str, str]", item), index))
        else:
            found.append(_tuple_attachment(cast(Sequence[Any], item), index, encoding))
    return found


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
            raise UnsupportedFeature(
                f"PostStack sends one text and one HTML part; the {mimetype!r} "
                "alternative cannot be sent (attach it as a file instead)"
            )
        if html is not None:
            raise UnsupportedFeature("PostStack sends one HTML part; this message has two")
        html = content.decode() if isinstance(content, bytes) else _text(content)
    return text, html


# -- PostStack's options: checked, then combined with the defaults --


def _string(value: object, where: str) -> str:
    if not isinstance(value, (str, Promise)):
        raise TypeError(f"{where} must be a str, got {type(value).__name__} {value!r}")
    text = _text(value)
    if not text.strip():
        raise ValueError(f"{where} must not be empty")
    return text


def _string_list(value: object, where: str) -> list[str]:
    if isinstance(value, (str, bytes, Promise)) or not isinstance(value, (list, tuple)):
        raise TypeError(f"{where} must be a list of str, got {type(value).__name__} {value!r}")
    items = cast("Sequence[object]", value)
    return [_string(item, f"{where}[{index}]") for index, item in enumerate(items)]


def _string_map(value: object, where: str) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise TypeError(f"{where} must be a dict of str to str, got {type(value).__name__}")
    found: dict[str, str] = {}
    for key, item in cast("Mapping[object, object]", value).items():
        name = _string(key, f"a key of {where}")
        if not isinstance(item, (str, Promise)):
            raise TypeError(
                f"{where}[{name!r}] must be a str (the API keeps text), got "
                f"{type(item).__name__} {item!r}: pass str({item!r}) if you mean it"
            )
        found[name] = _text(item)
    return found


def _flag(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{where} must be True or False, got {type(value).__name__} {value!r}")
    return value


def _scheduled_at(value: object, where: str) -> str:
    """A send time as the API takes it: ISO 8601 in UTC, ``2026-03-25T09:00:00.000Z``.

    A datetime, a date (midnight) or an ISO 8601 string; a naive one is in
    Django's current time zone, as Django reads naive times everywhere.
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, (str, Promise)):
        text = _text(value).strip()
        try:
            moment = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "Zz" else text)
        except ValueError:
            raise ValueError(
                f"{where} must be an ISO 8601 date and time (2026-03-25T09:00:00Z), got {text!r}"
            ) from None
    else:
        raise TypeError(
            f"{where} must be a datetime, a date or an ISO 8601 str, got {type(value).__name__}"
        )
    if django_timezone.is_naive(moment):
        moment = django_timezone.make_aware(moment, django_timezone.get_current_timezone())
    utc = moment.astimezone(timezone.utc)
    return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")


_CHECKS: dict[str, Callable[[object, str], Any]] = {
    "tags": _string_list,
    "metadata": _string_map,
    "scheduled_at": _scheduled_at,
    "template_id": _string,
    "variables": _string_map,
    "idempotency_key": _string,
    "unsubscribe": _flag,
}


def check_send_defaults(defaults: object, where: str) -> dict[str, Any]:
    """Validate ``POSTSTACK_SEND_DEFAULTS`` (or ``send_defaults=``): the checked options."""
    if defaults is None:
        return {}
    if not isinstance(defaults, Mapping):
        raise TypeError(f"{where} must be a dict, got {type(defaults).__name__}")
    checked: dict[str, Any] = {}
    for name, value in cast("Mapping[object, object]", defaults).items():
        if name not in DEFAULTABLE:
            why = " (it is per message)" if name in OPTIONS else ""
            raise ValueError(
                f"{where} cannot set {name!r}{why}; it may set {', '.join(DEFAULTABLE)}"
            )
        if not _is_unset(value):
            checked[str(name)] = _CHECKS[str(name)](value, f"{where}[{name!r}]")
    return checked


def _options(message: EmailMessage, defaults: Mapping[str, Any]) -> dict[str, Any]:
    """The message's PostStack options, checked, with the defaults applied."""
    for name, instead in _ANYMAIL_ONLY.items():
        if not _is_unset(getattr(message, name, None)):
            raise UnsupportedFeature(f"message.{name} has no PostStack equivalent: {instead}")
    options = dict(defaults)
    for name in OPTIONS:
        value = getattr(message, name, None)
        if _is_unset(value):
            continue
        checked = _CHECKS[name](value, f"message.{name}")
        if name == "tags":
            checked = list(dict.fromkeys([*options.get("tags", ()), *checked]))
        elif name in ("metadata", "variables"):
            checked = {**options.get(name, {}), **checked}
        options[name] = checked
    return options


@dataclass(slots=True)
class _Headers:
    """What a message's ``extra_headers`` say: overrides, PostStack's two, the rest."""

    sender: str
    reply_to: list[str]
    key: str | None = None
    tags: list[str] = field(default_factory=list[str])
    custom: dict[str, str] = field(default_factory=dict[str, str])


def _read_headers(message: EmailMessage) -> _Headers:
    found = _Headers(_address(message.from_email, "From"), _addresses(message.reply_to, "Reply-To"))
    for raw_name, raw_value in (message.extra_headers or {}).items():
        name = _text(raw_name)
        value = _header(raw_value, name)
        lowered = name.lower()
        if lowered == "from":  # as in Django's SMTP backend, the header wins
            found.sender = punycode_address(value)
        elif lowered == "reply-to":
            found.reply_to = [punycode_address(value)]
        elif lowered == IDEMPOTENCY_HEADER.lower():
            found.key = value.strip() or None
        elif lowered == TAGS_HEADER.lower():
            found.tags.extend(tag.strip() for tag in value.split(",") if tag.strip())
        else:
            found.custom[name] = value
    return found


def message_to_params(
    message: EmailMessage, defaults: Mapping[str, Any] | None = None
) -> tuple[SendEmailParams, str | None]:
    """The ``emails.send`` payload for a Django message, and its idempotency key.

    ``defaults`` are checked send defaults (see :func:`check_send_defaults`).
    The key is ``message.idempotency_key`` or the message's
    ``X-PostStack-Idempotency-Key`` header; it is also put in the payload
    (``idempotency_key``), which is how an email inside a batch is de-duplicated.
    Raises :class:`UnsupportedFeature` (a ValueError) for what the API cannot
    express, TypeError / ValueError for a badly typed option, and
    ``BadHeaderError`` for a newline in a header.
    """
    options = _options(message, defaults or {})
    headers = _read_headers(message)
    key: str | None = options.get("idempotency_key")
    if key is not None and headers.key is not None and key != headers.key:
        raise ValueError(
            f"message.idempotency_key {key!r} and the {IDEMPOTENCY_HEADER} header "
            f"{headers.key!r} disagree: set one of them"
        )
    key = key or headers.key
    template_id: str | None = options.get("template_id")

    params = SendEmailParams({"from": headers.sender, "to": _addresses(message.to, "To")})
    if message.cc:
        params["cc"] = _addresses(message.cc, "Cc")
    if message.bcc:
        params["bcc"] = _addresses(message.bcc, "Bcc")
    if len(headers.reply_to) == 1:
        params["reply_to"] = headers.reply_to[0]
    elif headers.reply_to:
        # Several Reply-To addresses go as a list, the way `to` and `cc` do.
        params["reply_to"] = cast(str, headers.reply_to)
    subject = _header(message.subject, "Subject")
    if subject or template_id is None:  # a template brings its own subject
        params["subject"] = subject
    text, html = _bodies(message)
    tags = list(dict.fromkeys([*options.get("tags", ()), *headers.tags]))
    optional: dict[str, object] = {
        "text": text,
        "html": html,
        "headers": headers.custom or None,
        "tags": tags or None,
        "metadata": options.get("metadata"),
        "attachments": _attachments(message) or None,
        "template_id": template_id,
        "variables": options.get("variables"),
        "scheduled_at": options.get("scheduled_at"),
        "unsubscribe": options.get("unsubscribe"),
        "idempotency_key": key,
    }
    fields = cast("dict[str, object]", params)
    fields.update((name, value) for name, value in optional.items() if value is not None)
    return params, key

"""Inbound email as one parsed message, whether it came as MIME, from the API or in a webhook.

:class:`InboundMessage` has the same fields whichever way the mail reached you:

- ``InboundMessage.from_event(event)``: the ``inbound.received`` webhook event;
- ``InboundMessage.from_api(ps.inbound_emails.get(id))``: the API's inbound email
  (add ``ps.inbound_emails.list_attachments(id)`` to know its attachments);
- ``InboundMessage.from_mime(raw)``: an RFC 5322 message (bytes or str), parsed by
  the standard library's :mod:`email` package, attachments' bytes included.

``message.raw`` keeps what it was built from, unchanged. Nothing here makes a
request: an attachment known only from the API has ``content is None``; fetch
its bytes with ``ps.inbound_emails.download_attachment(message.id, attachment.id)``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from email.parser import BytesParser
from typing import Any, cast

from poststack_core import InboundEvent

__all__ = ["EmailAddress", "Headers", "InboundAttachment", "InboundMessage"]


@dataclass(frozen=True, slots=True)
class EmailAddress:
    """One mailbox: ``address`` (``user@example.com``) and its display ``name``, if any."""

    address: str
    name: str | None = None

    def __str__(self) -> str:
        if not self.name:
            return self.address
        username, _, domain = self.address.rpartition("@")
        return str(Address(display_name=self.name, username=username, domain=domain))


class Headers(Mapping[str, str]):
    """A message's headers, in order; names match case-insensitively.

    ``headers["Subject"]`` is the first value of a name; :meth:`get_all` gives
    every value of one (``Received`` appears once per hop); ``pairs`` keeps
    them all as ``(name, value)`` in their original order and spelling.
    """

    __slots__ = ("_first", "pairs")

    def __init__(self, pairs: Sequence[tuple[str, str]] = ()) -> None:
        self.pairs: tuple[tuple[str, str], ...] = tuple((str(n), str(v)) for n, v in pairs)
        first: dict[str, tuple[str, str]] = {}
        for name, value in self.pairs:
            first.setdefault(name.lower(), (name, value))
        self._first = first

    def __getitem__(self, name: str) -> str:
        return self._first[name.lower()][1]

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._first.values())

    def __len__(self) -> int:
        return len(self._first)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._first

    def get_all(self, name: str) -> list[str]:
        """Every value of header ``name``, in order (empty if it is absent)."""
        wanted = name.lower()
        return [value for key, value in self.pairs if key.lower() == wanted]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return self.pairs == other.pairs
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.pairs)

    def __repr__(self) -> str:
        return f"Headers({list(self.pairs)!r})"


@dataclass(frozen=True, slots=True)
class InboundAttachment:
    """One attachment (or inline part) of an inbound message.

    ``content`` is ``None`` when only the API's description of it is at hand
    (download it by ``id``). ``content_id`` is the ``Content-ID`` (without the
    angle brackets) an HTML body refers to as ``cid:…``.
    """

    filename: str | None
    content_type: str
    content: bytes | None = field(default=None, repr=False)
    size: int | None = None
    id: int | None = None
    content_id: str | None = None
    inline: bool = False


_Raw = bytes | Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A received email: who sent it to whom, its subject, bodies, attachments and headers."""

    from_: EmailAddress | None
    to: tuple[EmailAddress, ...]
    cc: tuple[EmailAddress, ...]
    subject: str | None
    text: str | None
    html: str | None
    headers: Headers
    attachments: tuple[InboundAttachment, ...]
    message_id: str | None
    date: datetime | None
    id: int | None = None
    """The API's numeric id of the inbound email (``None`` for parsed MIME)."""
    raw: _Raw = field(default=b"", repr=False, compare=False)
    """What the message was built from: the MIME bytes, or the API's / the event's object."""

    # -- from MIME --

    @classmethod
    def from_mime(cls, raw: bytes | str) -> InboundMessage:
        """Parse an RFC 5322 message (as received over SMTP) with the standard library.

        The first ``text/plain`` and ``text/html`` body parts become ``text`` and
        ``html`` (with ``\n`` line ends); every other part, inline or attached,
        becomes an :class:`InboundAttachment` with its decoded bytes (an attached
        message is one part). Headers are decoded, UTF-8 ones (SMTPUTF8)
        included. Malformed headers do not raise: what cannot be read is left
        empty.
        """
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        if not isinstance(raw, (bytes, bytearray, memoryview)):
            raise TypeError(f"raw must be the message's bytes or str, got {type(raw).__name__}")
        data = bytes(raw)
        message = BytesParser(policy=policy.default).parsebytes(data)
        headers = _mime_headers(message)
        text_part = message.get_body(preferencelist=("plain",))
        html_part = message.get_body(preferencelist=("html",))
        bodies = [part for part in (text_part, html_part) if part is not None]
        senders = _addresses_in(headers, "From")
        date = getattr(_parsed_header(headers, "Date"), "datetime", None)
        return cls(
            from_=senders[0] if senders else None,
            to=_addresses_in(headers, "To"),
            cc=_addresses_in(headers, "Cc"),
            subject=headers.get("Subject"),
            text=_mime_text(text_part),
            html=_mime_text(html_part),
            headers=headers,
            attachments=tuple(
                _mime_attachment(part)
                for part in _leaves(message)
                if not any(part is body for body in bodies)
            ),
            message_id=headers.get("Message-ID"),
            date=date if isinstance(date, datetime) else None,
            raw=data,
        )

    # -- from the API's object or a webhook --

    @classmethod
    def from_api(
        cls,
        inbound: Mapping[str, Any],
        attachments: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None = None,
    ) -> InboundMessage:
        """The message from ``inbound_emails.get(id)``'s answer (or its ``inboundEmail``).

        ``attachments`` is what ``inbound_emails.list_attachments(id)`` answered
        (the response or its list); without it, attachments the object itself
        lists are used. Attachments described by the API carry no bytes.
        """
        if not isinstance(inbound, Mapping):
            raise TypeError(f"inbound must be the API's object, got {type(inbound).__name__}")
        data = _unwrap(inbound, "inboundEmail")
        listed = _unwrap(attachments, "attachments") if attachments is not None else None
        if listed is None:
            listed = data.get("attachments")
        headers = data.get("headers")
        raw_mime = _embedded_mime(data)
        if raw_mime is not None:
            parsed = cls.from_mime(raw_mime)
            return _replace_origin(parsed, _integer(data.get("id")), inbound)
        return cls(
            from_=_api_sender(data),
            to=_api_addresses(_first(data, "toAddresses", "to", "toAddress")),
            cc=_api_addresses(_first(data, "ccAddresses", "cc")),
            subject=_text(data.get("subject")),
            text=_text(_first(data, "textBody", "text")),
            html=_text(_first(data, "htmlBody", "html")),
            headers=Headers(_api_header_pairs(headers)),
            attachments=tuple(_api_attachment(item) for item in _objects(listed)),
            message_id=_text(_first(data, "messageId", "message_id")),
            date=_iso_date(_text(_first(data, "receivedAt", "createdAt", "created_at"))),
            id=_integer(data.get("id")),
            raw=inbound,
        )

    @classmethod
    def from_event(cls, event: InboundEvent) -> InboundMessage:
        """Build the message from an ``inbound.received`` event.

        Only what the payload carries is filled in: a payload that names the
        inbound email but leaves out its bodies gives ``text is None``; then
        ``InboundMessage.from_api(ps.inbound_emails.get(message.id))`` has it all.
        ``message.raw`` is the event's payload.
        """
        if not isinstance(event, Mapping) or event.get("type") != "inbound.received":
            kind = event.get("type") if isinstance(event, Mapping) else type(event).__name__
            raise ValueError(f"not an inbound.received event: {kind!r}")
        payload = event["raw"]
        data: object = payload.get("data")
        message = cls.from_api(
            cast("Mapping[str, Any]", data) if isinstance(data, Mapping) else payload
        )
        inbound_id = message.id if message.id is not None else event["inbound_id"]
        return _replace_origin(message, inbound_id, payload)


# -- MIME helpers --


def _mime_headers(message: EmailMessage) -> Headers:
    """Every header, decoded: encoded words, folding, and UTF-8 (SMTPUTF8) alike."""
    pairs: list[tuple[str, str]] = []
    for name, value in message.raw_items():
        # The parser keeps raw 8-bit bytes (an SMTPUTF8 header) as surrogates: they
        # are UTF-8, so decode them before the header itself is parsed.
        text = str(value).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        pairs.append((name, str(policy.default.header_factory(name, text))))
    return Headers(pairs)


def _parsed_header(headers: Headers, name: str) -> object:
    value = headers.get(name)
    return policy.default.header_factory(name, value) if value is not None else None


def _addresses_in(headers: Headers, name: str) -> tuple[EmailAddress, ...]:
    found: list[EmailAddress] = []
    for value in headers.get_all(name):
        parsed: tuple[Address, ...] = getattr(
            policy.default.header_factory(name, value), "addresses", ()
        )
        for address in parsed:
            spec = address.addr_spec
            if spec and spec != "<>":
                found.append(EmailAddress(spec, address.display_name or None))
    return tuple(found)


def _mime_text(part: MIMEPart | None) -> str | None:
    if part is None:
        return None
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # an unknown charset, a broken encoding
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else None
    if not isinstance(content, str):
        return None
    # Mail travels with CRLF line ends; Python text (and the API's bodies) use \n.
    return content.replace("\r\n", "\n")


def _leaves(part: MIMEPart) -> Iterator[MIMEPart]:
    """The parts that hold content, in order; an attached message is one part, not opened."""
    if part.get_content_maintype() == "multipart":
        for child in part.iter_parts():
            yield from _leaves(child)
    else:
        yield part


def _mime_attachment(part: MIMEPart) -> InboundAttachment:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):  # an attached message (message/rfc822)
        inner: object = part.get_payload()
        first = cast("list[object]", inner)[0] if isinstance(inner, list) and inner else None
        payload = first.as_bytes() if isinstance(first, EmailMessage) else part.as_bytes()
    content_id = part.get("Content-ID")
    return InboundAttachment(
        filename=part.get_filename(),
        content_type=part.get_content_type(),
        content=payload,
        size=len(payload),
        content_id=str(content_id).strip().strip("<>") if content_id else None,
        inline=part.get_content_disposition() == "inline",
    )


def _iso_date(value: str | None) -> datetime | None:
    if value is None:
        return None
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


# -- API object helpers --


def _unwrap(value: object, key: str) -> Any:
    """``value[key]`` when ``value`` is the API's response wrapping the object, else ``value``."""
    if isinstance(value, Mapping):
        wrapper = cast("Mapping[str, Any]", value)
        return wrapper.get(key, wrapper)
    return value


def _first(data: Mapping[str, Any], *names: str) -> object:
    for name in names:
        value = data.get(name)
        if value is not None:
            return value
    return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _integer(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _objects(value: object) -> list[Mapping[str, Any]]:
    if not isinstance(value, list):
        return []
    items = cast("list[object]", value)
    return [cast("Mapping[str, Any]", item) for item in items if isinstance(item, Mapping)]


def _api_address(value: object) -> EmailAddress | None:
    if isinstance(value, Mapping):
        item = cast("Mapping[str, Any]", value)
        address = _text(item.get("address")) or _text(item.get("email"))
        return EmailAddress(address, _text(item.get("name")) or None) if address else None
    if isinstance(value, str) and value:
        return _parse_address(value)
    return None


def _parse_address(value: str) -> EmailAddress:
    """``"Name <a@b>"`` or ``"a@b"`` as an EmailAddress (the text itself if it will not parse)."""
    header = policy.default.header_factory("To", value)
    addresses: tuple[Address, ...] = getattr(header, "addresses", ())
    if len(addresses) == 1 and addresses[0].addr_spec:
        return EmailAddress(addresses[0].addr_spec, addresses[0].display_name or None)
    return EmailAddress(value)


def _api_addresses(value: object) -> tuple[EmailAddress, ...]:
    items = cast("list[object]", value) if isinstance(value, list) else [value]
    found = (_api_address(item) for item in items)
    return tuple(address for address in found if address is not None)


def _api_sender(data: Mapping[str, Any]) -> EmailAddress | None:
    address = _text(data.get("fromAddress"))
    if address:
        return EmailAddress(address, _text(data.get("fromName")) or None)
    return _api_address(data.get("from"))


def _api_header_pairs(headers: object) -> list[tuple[str, str]]:
    if isinstance(headers, Mapping):
        items = cast("Mapping[object, object]", headers).items()
        return [(str(k), str(v)) for k, v in items if isinstance(v, (str, int, float))]
    if isinstance(headers, list):  # [[name, value], ...] or [{"name", "value"}, ...]
        pairs: list[tuple[str, str]] = []
        for item in cast("list[object]", headers):
            if isinstance(item, Mapping):
                entry = cast("Mapping[str, Any]", item)
                pairs.append((str(entry.get("name", "")), str(entry.get("value", ""))))
            elif isinstance(item, (list, tuple)):
                pair = list(cast("Sequence[object]", item))
                if len(pair) == 2:
                    pairs.append((str(pair[0]), str(pair[1])))
        return pairs
    return []


def _api_attachment(item: Mapping[str, Any]) -> InboundAttachment:
    content = _decoded(item.get("content"))
    size = _integer(item.get("size"))
    return InboundAttachment(
        filename=_text(item.get("filename")),
        content_type=_text(_first(item, "contentType", "content_type"))
        or "application/octet-stream",
        content=content,
        size=size if size is not None else (len(content) if content is not None else None),
        id=_integer(item.get("id")),
        content_id=_text(_first(item, "contentId", "content_id")),
        inline=item.get("inline") is True,
    )


def _decoded(value: object) -> bytes | None:
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        return None


def _embedded_mime(data: Mapping[str, Any]) -> bytes | None:
    """The full message, when the object carries it (``raw``/``rawMime``, base64 or text)."""
    value = _first(data, "rawMime", "raw_mime", "raw")
    if not isinstance(value, str) or not value:
        return None
    if ":" in value.partition("\n")[0]:  # a header line: the message as text
        return value.encode("utf-8", "surrogateescape")
    return _decoded(value)


def _replace_origin(message: InboundMessage, id: int | None, raw: _Raw) -> InboundMessage:
    from dataclasses import replace

    return replace(message, id=id, raw=raw)

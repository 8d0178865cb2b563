"""InboundMessage from real MIME (built with the standard library), the API and webhook events."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.policy import SMTPUTF8
from email.utils import format_datetime, make_msgid
from typing import Any

import pytest

from poststack.inbound import EmailAddress, Headers, InboundAttachment, InboundMessage
from poststack.testing import Sandbox
from poststack_core import construct_event, parse_event
from tests.webhook_helpers import Receiver, client_for, register

PDF = b"%PDF-1.4\n\x00\xff binary"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452")


def real_mime(
    sender: str = "Jörg Müller <jorg@buecher.example>", pdf_name: str = "März.pdf"
) -> EmailMessage:
    """A message as a mail client sends it: text and HTML, an inline image, a PDF, an .eml.

    Serialise it with :data:`SMTPUTF8`: its From has an international domain, which
    only an SMTPUTF8 message carries as it is.
    """
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "Support <support@example.com>, sales+eu@example.com"
    message["Cc"] = "boss@example.org"
    message["Subject"] = "Rechnung für März 🚀"
    message["Message-ID"] = make_msgid(domain="mail.xn--bcher-kva.example")
    message["Date"] = format_datetime(
        datetime(2026, 3, 2, 9, 30, tzinfo=timezone(timedelta(hours=1)))
    )
    message["X-Mailer"] = "Thunderbird"
    message["Received"] = "from a (a.example) by b; Mon, 2 Mar 2026 09:30:01 +0100"
    message["Received"] = "from b (b.example) by mx; Mon, 2 Mar 2026 09:30:02 +0100"
    message.set_content("Grüße,\nim Anhang die Rechnung.\n")
    message.add_alternative(
        '<p>Grüße, <img src="cid:logo@bücher"> im Anhang die Rechnung.</p>\n', subtype="html"
    )
    html_part = message.get_payload()[1]  # type: ignore[index]
    html_part.add_related(PNG, maintype="image", subtype="png", cid="<logo@bücher>")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename=pdf_name)
    forwarded = EmailMessage()
    forwarded["Subject"] = "Inner"
    forwarded.set_content("inner body")
    message.add_attachment(forwarded)
    return message


def test_from_mime() -> None:
    raw = real_mime("Jörg Müller <jorg@bücher.example>").as_bytes(policy=SMTPUTF8)
    message = InboundMessage.from_mime(raw)
    assert message.from_ == EmailAddress("jorg@bücher.example", "Jörg Müller")
    assert message.to == (
        EmailAddress("support@example.com", "Support"),
        EmailAddress("sales+eu@example.com"),
    )
    assert message.cc == (EmailAddress("boss@example.org"),)
    assert message.subject == "Rechnung für März 🚀"
    assert message.text == "Grüße,\nim Anhang die Rechnung.\n"
    assert message.html == '<p>Grüße, <img src="cid:logo@bücher"> im Anhang die Rechnung.</p>\n'
    assert message.date == datetime(2026, 3, 2, 8, 30, tzinfo=timezone.utc)
    assert message.message_id is not None
    assert message.message_id.endswith("@mail.xn--bcher-kva.example>")
    assert message.headers["x-mailer"] == "Thunderbird"
    assert "SUBJECT" in message.headers
    assert len(message.headers.get_all("Received")) == 2
    assert message.headers.get_all("Received")[1].startswith("from b")
    logo, pdf, eml = message.attachments
    assert logo == InboundAttachment(
        filename=None,
        content_type="image/png",
        content=PNG,
        size=len(PNG),
        content_id="logo@bücher",
        inline=True,
    )
    assert (pdf.filename, pdf.content_type, pdf.content, pdf.inline) == (
        "März.pdf",
        "application/pdf",
        PDF,
        False,
    )
    assert eml.content_type == "message/rfc822"
    assert eml.content is not None
    assert b"Subject: Inner" in eml.content
    assert message.raw == raw
    assert message.id is None
    assert InboundMessage.from_mime(raw.decode("utf-8", "surrogateescape")) == message


def test_from_mime_never_raises_on_a_broken_message() -> None:
    broken = (
        b"From: <<<\r\nTo: ,,,\r\nSubject: =?bogus?q?x?=\r\n"
        b"Content-Type: text/plain; charset=nope\r\n\r\n\xff\xfe"
    )
    message = InboundMessage.from_mime(broken)
    assert message.from_ is None
    assert message.to == ()
    assert message.text is not None
    assert message.attachments == ()
    with pytest.raises(TypeError, match="bytes or str"):
        InboundMessage.from_mime(None)  # type: ignore[arg-type]


def test_headers_mapping() -> None:
    headers = Headers([("Received", "one"), ("X-A", "1"), ("received", "two")])
    assert headers["RECEIVED"] == "one"
    assert list(headers) == ["Received", "X-A"]
    assert len(headers) == 2
    assert headers.get_all("received") == ["one", "two"]
    assert headers.get("missing") is None
    assert 5 not in headers
    assert headers == Headers(headers.pairs)
    assert hash(headers) == hash(Headers(headers.pairs))
    assert headers != {"X-A": "1"}
    assert "Received" in repr(headers)


def test_email_address_str() -> None:
    assert str(EmailAddress("a@example.org")) == "a@example.org"
    assert str(EmailAddress("a@example.org", "Ada L.")) == '"Ada L." <a@example.org>'


def _deliver(sb: Sandbox, mime: EmailMessage) -> InboundMessage:
    """What an MX does with a received message: store its parts (the sandbox has no SMTP)."""
    parsed = InboundMessage.from_mime(mime.as_bytes(policy=SMTPUTF8))
    assert parsed.from_ is not None
    sb.receive(
        from_=str(parsed.from_),
        to=[str(a) for a in parsed.to],
        cc=[str(a) for a in parsed.cc],
        subject=parsed.subject,
        text=parsed.text,
        html=parsed.html,
        headers={"Message-ID": parsed.message_id or "", "X-Mailer": parsed.headers["X-Mailer"]},
        attachments=[
            {
                "filename": a.filename or "part.bin",
                "content_type": a.content_type,
                "content": base64.b64encode(a.content or b"").decode(),
            }
            for a in parsed.attachments
        ],
    )
    return parsed


def test_the_webhook_event_and_the_api_give_the_same_message() -> None:
    with Sandbox(verified_domains=("example.com",)) as sb, Receiver() as receiver:
        _, secret = register(sb, receiver.url, ["inbound.received"])
        # An ASCII file name: the sandbox cannot yet send a non-ASCII one in the
        # Content-Disposition of download_attachment.
        sent = _deliver(sb, real_mime(pdf_name="invoice.pdf"))
        (delivered,) = receiver.wait_for(1)
        event = construct_event(delivered.body, delivered.headers, secret)
        assert event["type"] == "inbound.received"
        from_event = InboundMessage.from_event(event)
        with client_for(sb) as ps:
            assert event["inbound_id"] is not None
            fetched = ps.inbound_emails.get(event["inbound_id"])
            listed = ps.inbound_emails.list_attachments(event["inbound_id"])
            from_api = InboundMessage.from_api(fetched, listed)
            contents = [
                ps.inbound_emails.download_attachment(event["inbound_id"], a.id or 0)
                for a in from_api.attachments
            ]
    for message in (from_event, from_api):
        assert message.id == event["inbound_id"]
        assert message.from_ == sent.from_
        assert message.to == sent.to
        assert message.cc == sent.cc
        assert (message.subject, message.text, message.html) == (sent.subject, sent.text, sent.html)
        assert message.message_id == sent.message_id
        assert message.headers["X-Mailer"] == "Thunderbird"
        assert [a.filename for a in message.attachments] == ["part.bin", "invoice.pdf", "part.bin"]
        assert [a.content_type for a in message.attachments] == [
            "image/png",
            "application/pdf",
            "message/rfc822",
        ]
        assert [a.content for a in message.attachments] == [None, None, None]  # download them
        assert [a.size for a in message.attachments] == [
            len(a.content or b"") for a in sent.attachments
        ]
        assert message.date is not None
    assert from_event.raw == event["raw"]
    assert from_api.raw == fetched
    assert contents == [a.content for a in sent.attachments]


def test_a_thin_inbound_event_names_the_email_to_fetch() -> None:
    event = parse_event({"id": "evt_1", "type": "inbound.received", "data": {"inbound_id": 12}})
    assert event["type"] == "inbound.received"
    message = InboundMessage.from_event(event)
    assert (message.id, message.text, message.from_, message.attachments) == (12, None, None, ())
    with pytest.raises(ValueError, match=r"not an inbound\.received event"):
        InboundMessage.from_event(parse_event({"type": "email.sent"}))  # type: ignore[arg-type]


def test_an_object_with_the_raw_message_is_parsed_in_full() -> None:
    raw = real_mime().as_bytes(policy=SMTPUTF8)
    for carried in (base64.b64encode(raw).decode(), raw.decode("utf-8")):
        data: dict[str, Any] = {"id": 3, "fromAddress": "x@example.org", "rawMime": carried}
        message = InboundMessage.from_api({"inboundEmail": data})
        assert message.id == 3
        assert message.subject == "Rechnung für März 🚀"
        assert [a.content for a in message.attachments][1] == PDF
        assert message.raw == {"inboundEmail": data}


def test_from_api_reads_other_spellings() -> None:
    message = InboundMessage.from_api(
        {
            "id": 4,
            "from": "Ada <ada@example.org>",
            "to": ["b@example.org", {"email": "c@example.org", "name": "C"}, 5],
            "text": "t",
            "headers": [["X-A", "1"], {"name": "X-B", "value": "2"}, ["bad"]],
            "attachments": [
                {"filename": "a.txt", "content": base64.b64encode(b"hi").decode(), "inline": True},
                {"filename": "b.txt", "content": "not base64!"},
                "junk",
            ],
        }
    )
    assert message.from_ == EmailAddress("ada@example.org", "Ada")
    assert message.to == (EmailAddress("b@example.org"), EmailAddress("c@example.org", "C"))
    assert message.text == "t"
    assert message.headers.pairs == (("X-A", "1"), ("X-B", "2"))
    first, second = message.attachments
    assert (first.content, first.size, first.inline, first.content_type) == (
        b"hi",
        2,
        True,
        "application/octet-stream",
    )
    assert (second.content, second.size) == (None, None)
    with pytest.raises(TypeError, match="the API's object"):
        InboundMessage.from_api(None)  # type: ignore[arg-type]

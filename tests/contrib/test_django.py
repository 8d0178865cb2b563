"""poststack.contrib.django.EmailBackend with a real Django project against the sandbox.

Django is configured once for this process from tests/contrib/djangoproject/settings.py;
each test points the PostStack settings at its own sandbox with override_settings.
"""

from __future__ import annotations

import base64
import logging
import os
import sys
import types
from collections.abc import Iterator
from email.mime.image import MIMEImage
from pathlib import Path
from typing import Any

import django
import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import (
    BadHeaderError,
    EmailMessage,
    EmailMultiAlternatives,
    get_connection,
    mail_admins,
    send_mail,
    send_mass_mail,
)
from django.test import Client, override_settings

from poststack import PostStack, PostStackError
from poststack.contrib.django import EmailBackend, RejectedEmails, post_send, poststack_id, pre_send
from poststack.testing import Sandbox
from poststack.webhooks import sign
from tests.contrib.conftest import doc_blocks
from tests.contrib.django_helpers import live_site, shop_models
from tests.webhook_helpers import client_for as client_for_sandbox
from tests.webhook_helpers import register

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")


@pytest.fixture(scope="module", autouse=True)
def _django() -> None:
    if not settings.configured:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.contrib.djangoproject.settings")
        django.setup()
    if settings.EMAIL_BACKEND != "poststack.contrib.django.EmailBackend":
        pytest.fail("Django was configured by someone else in this process")


@pytest.fixture
def mail(sb: Sandbox) -> Iterator[Sandbox]:
    with override_settings(POSTSTACK_API_KEY=sb.api_key, POSTSTACK_BASE_URL=sb.base_url):
        yield sb


def decoded(attachment: dict[str, Any]) -> bytes:
    return base64.b64decode(attachment["content"])


def test_send_mail(mail: Sandbox) -> None:
    assert send_mail("Hello", "Plain text", "hello@yourdomain.com", ["a@example.org"]) == 1
    (email,) = mail.wait_for_emails(1)
    assert email.from_ == "hello@yourdomain.com"
    assert email.to == ("a@example.org",)
    assert email.subject == "Hello"
    assert email.text == "Plain text"
    assert email.html is None
    (request,) = mail.requests
    assert (request.method, request.path) == ("POST", "/emails")
    assert request.headers["authorization"] == "Bearer sk_test_contrib"
    assert request.idempotency_key  # the SDK's own key
    assert "idempotency_key" not in request.json


def test_default_from_email_and_html_message(mail: Sandbox) -> None:
    send_mail("Hi", "text", None, ["a@example.org"], html_message="<b>html</b>")
    (email,) = mail.wait_for_emails(1)
    assert email.from_ == "Webmaster <webmaster@yourdomain.com>"
    assert (email.text, email.html) == ("text", "<b>html</b>")


def test_every_field_of_a_message(mail: Sandbox, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("résumé notes\n", encoding="utf-8")
    image = MIMEImage(PNG, "png")
    image.add_header("Content-Disposition", "inline", filename="dot.png")
    forwarded = EmailMessage("Inner", "inner body", "x@yourdomain.com", ["y@example.org"])
    message = EmailMultiAlternatives(
        subject="Everything",
        body="The text part",
        from_email="Acme Support <support@yourdomain.com>",
        to=["a@example.org", "B <b@example.org>"],
        cc=["c@example.org"],
        bcc=["d@example.org"],
        reply_to=["replies@yourdomain.com"],
        headers={"X-Campaign": "spring", "List-Unsubscribe": "<mailto:u@yourdomain.com>"},
    )
    message.attach_alternative("<p>The HTML part</p>", "text/html")
    message.attach("report.pdf", b"%PDF-1.4 binary \x00\xff", "application/pdf")
    message.attach("data.csv", "a,b\n1,2\n")  # content type guessed from the name
    message.attach_file(notes)
    message.attach(image)
    message.attach(None, forwarded, "message/rfc822")
    assert message.send() == 1

    (email,) = mail.wait_for_emails(1)
    assert email.from_ == "Acme Support <support@yourdomain.com>"
    assert email.to == ("a@example.org", "B <b@example.org>")
    assert email.cc == ("c@example.org",)
    assert email.bcc == ("d@example.org",)
    assert email.reply_to == "replies@yourdomain.com"
    assert email.payload["reply_to"] == "replies@yourdomain.com"
    assert email.subject == "Everything"
    assert email.text == "The text part"
    assert email.html == "<p>The HTML part</p>"
    assert email.headers == {
        "X-Campaign": "spring",
        "List-Unsubscribe": "<mailto:u@yourdomain.com>",
    }
    pdf, csv, txt, png, eml = email.attachments
    assert (pdf["filename"], pdf["content_type"]) == ("report.pdf", "application/pdf")
    assert decoded(pdf) == b"%PDF-1.4 binary \x00\xff"
    assert (csv["filename"], csv["content_type"]) == ("data.csv", "text/csv")
    assert decoded(csv) == b"a,b\n1,2\n"
    assert (txt["filename"], txt["content_type"]) == ("notes.txt", "text/plain")
    assert decoded(txt).decode("utf-8") == "résumé notes\n"
    assert (png["filename"], png["content_type"]) == ("dot.png", "image/png")
    assert decoded(png) == PNG
    assert eml["content_type"] == "message/rfc822"
    assert eml["filename"].endswith(".eml")
    assert b"Subject: Inner" in decoded(eml)
    assert b"inner body" in decoded(eml)
    assert poststack_id(message) == email.id
    assert message.poststack_id == email.id  # type: ignore[attr-defined]


def test_html_only_message_and_header_overrides(mail: Sandbox) -> None:
    message = EmailMessage(
        "HTML only",
        "<h1>Hi</h1>",
        "envelope@yourdomain.com",
        ["a@example.org"],
        reply_to=["one@yourdomain.com", "two@yourdomain.com"],
        headers={"From": "Shown <shown@yourdomain.com>"},
    )
    message.content_subtype = "html"
    message.send()
    (email,) = mail.wait_for_emails(1)
    assert (email.text, email.html) == (None, "<h1>Hi</h1>")
    assert email.from_ == "Shown <shown@yourdomain.com>"
    assert email.payload["reply_to"] == ["one@yourdomain.com", "two@yourdomain.com"]
    assert email.headers == {}

    mail.clear()
    EmailMessage(
        "x", "y", None, ["a@example.org"], headers={"Reply-To": "only@yourdomain.com"}
    ).send()
    assert mail.wait_for_emails(1)[0].payload["reply_to"] == "only@yourdomain.com"


def test_lazy_strings(mail: Sandbox) -> None:
    from django.utils.translation import gettext_lazy

    send_mail(gettext_lazy("Lazy subject"), gettext_lazy("Lazy body"), None, ["a@example.org"])
    (email,) = mail.wait_for_emails(1)
    assert (email.subject, email.text) == ("Lazy subject", "Lazy body")


def test_unsupported_alternative_is_refused(mail: Sandbox) -> None:
    message = EmailMultiAlternatives("Invite", "text", None, ["a@example.org"])
    message.attach_alternative("BEGIN:VCALENDAR", "text/calendar")
    with pytest.raises(ValueError, match="text/calendar"):
        message.send(fail_silently=True)
    assert mail.requests == []


def test_header_injection_is_refused(mail: Sandbox) -> None:
    for message in (
        EmailMessage("Hi\nBcc: victim@example.org", "b", None, ["a@example.org"]),
        EmailMessage("Hi", "b", None, ["a@example.org\r\nBcc: victim@example.org"]),
        EmailMessage("Hi", "b", None, ["a@example.org"], headers={"X-Note": "a\nb"}),
    ):
        with pytest.raises(BadHeaderError):
            message.send()
    assert mail.requests == []


def test_idempotency_key_and_tags_headers(mail: Sandbox) -> None:
    def receipt() -> EmailMessage:
        return EmailMessage(
            "Receipt",
            "Paid",
            None,
            ["a@example.org"],
            headers={"X-PostStack-Idempotency-Key": "receipt-42", "X-PostStack-Tags": "a, b"},
        )

    first, second = receipt(), receipt()
    assert first.send() == 1
    assert second.send() == 1
    (email,) = mail.wait_for_emails(1)
    assert len(mail.outbox) == 1
    assert poststack_id(first) == poststack_id(second) == email.id
    assert email.tags == ("a", "b")
    assert email.headers == {}
    assert email.idempotency_key == "receipt-42"
    assert [r.idempotency_key for r in mail.requests] == ["receipt-42", "receipt-42"]
    assert mail.requests[1].json == mail.requests[0].json


def test_send_messages_uses_the_batch_endpoint(mail: Sandbox) -> None:
    messages = [
        EmailMessage(f"n{i}", f"body {i}", None, [f"user{i}@example.org"]) for i in range(250)
    ]
    messages.insert(7, EmailMessage("nobody", "skipped: no recipients", None, []))
    with get_connection() as connection:
        assert connection.send_messages(messages) == 250
    outbox = mail.wait_for_emails(250)
    assert [(r.method, r.path, len(r.json["emails"])) for r in mail.requests] == [
        ("POST", "/emails/batch", 100),
        ("POST", "/emails/batch", 100),
        ("POST", "/emails/batch", 50),
    ]
    sent = [m for m in messages if m.to]
    assert [poststack_id(m) for m in sent] == [e.id for e in outbox]
    assert [e.subject for e in outbox] == [f"n{i}" for i in range(250)]
    assert poststack_id(messages[7]) is None


def test_send_mass_mail(mail: Sandbox) -> None:
    datatuple = [("S1", "B1", None, ["a@example.org"]), ("S2", "B2", None, ["b@example.org"])]
    assert send_mass_mail(datatuple) == 2
    assert [e.subject for e in mail.wait_for_emails(2)] == ["S1", "S2"]
    (request,) = mail.requests
    assert request.path == "/emails/batch"
    assert request.idempotency_key  # the SDK's own key: these messages have none


def test_batch_key_is_derived_from_the_messages_keys(mail: Sandbox) -> None:
    def batch() -> list[EmailMessage]:
        return [
            EmailMessage(
                "S", "B", None, [f"{n}@example.org"], headers={"X-PostStack-Idempotency-Key": n}
            )
            for n in ("k1", "k2")
        ]

    first, again = batch(), batch()
    with get_connection() as connection:
        connection.send_messages(first)
        connection.send_messages(again)
    assert len(mail.wait_for_emails(2)) == 2
    assert mail.requests[0].idempotency_key == mail.requests[1].idempotency_key
    assert mail.requests[1].json["emails"][0]["idempotency_key"] == "k1"
    assert [poststack_id(m) for m in first] == [poststack_id(m) for m in again]


def test_fail_silently(mail: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    mail.faults.next(status=422, error="Domain not verified")
    with pytest.raises(PostStackError) as raised:
        send_mail("S", "B", None, ["a@example.org"])
    assert raised.value.status_code == 422

    mail.faults.next(status=500)
    with caplog.at_level(logging.ERROR, logger="poststack.contrib.django"):
        assert send_mail("S", "B", None, ["a@example.org"], fail_silently=True) == 0
    assert "PostStack did not accept" in caplog.text
    assert mail.outbox == []


def test_fail_silently_batch_counts_what_was_sent(mail: Sandbox) -> None:
    messages = [EmailMessage(f"n{i}", "b", None, [f"u{i}@example.org"]) for i in range(201)]
    # The first batch request answers normally (a tiny delay), the second gets a 503.
    mail.faults.next(delay=0.001, path="/emails/batch")
    mail.faults.next(status=503, path="/emails/batch")
    connection = get_connection(fail_silently=True)
    # The failed batch does not stop the sending: the third batch is sent after it.
    assert connection.send_messages(messages) == 101
    assert all(poststack_id(m) for m in messages[:100])
    assert not any(poststack_id(m) for m in messages[100:200])
    assert poststack_id(messages[200])
    assert len(mail.outbox) == 101
    assert [r.path for r in mail.requests] == ["/emails/batch"] * 3


def test_a_failed_batch_raises_its_own_error_and_keeps_the_ids_sent(mail: Sandbox) -> None:
    messages = [EmailMessage(f"n{i}", "b", None, [f"u{i}@example.org"]) for i in range(150)]
    mail.faults.next(delay=0.001, path="/emails/batch")
    mail.faults.next(status=503, code="internal_error", path="/emails/batch")
    with pytest.raises(PostStackError) as raised:
        get_connection().send_messages(messages)
    assert (raised.value.status_code, raised.value.code) == (503, "internal_error")
    assert all(poststack_id(m) for m in messages[:100])
    assert not any(poststack_id(m) for m in messages[100:])


def test_connection_errors(mail: Sandbox) -> None:
    with override_settings(POSTSTACK_BASE_URL="http://127.0.0.1:9", POSTSTACK_TIMEOUT=2):
        with pytest.raises(PostStackError) as raised:
            send_mail("S", "B", None, ["a@example.org"])
        assert raised.value.status_code == 0
        assert send_mail("S", "B", None, ["a@example.org"], fail_silently=True) == 0


def test_key_from_the_environment(mail: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTSTACK_API_KEY", mail.api_key)
    monkeypatch.setenv("POSTSTACK_BASE_URL", mail.base_url)
    with override_settings(POSTSTACK_API_KEY=None, POSTSTACK_BASE_URL=None):
        assert send_mail("From env", "B", None, ["a@example.org"]) == 1
    assert mail.wait_for_emails(1)[0].subject == "From env"

    monkeypatch.delenv("POSTSTACK_API_KEY")
    with (
        override_settings(POSTSTACK_API_KEY=None),
        pytest.raises(ImproperlyConfigured, match="POSTSTACK_API_KEY"),
    ):
        send_mail("S", "B", None, ["a@example.org"], fail_silently=True)


def test_bad_settings_are_reported() -> None:
    with override_settings(POSTSTACK_TIMEOUT="soon"), pytest.raises(ValueError, match="TIMEOUT"):
        get_connection()
    with override_settings(POSTSTACK_MAX_RETRIES=1.5), pytest.raises(ValueError, match="RETRIES"):
        get_connection()
    with override_settings(POSTSTACK_API_KEY=123), pytest.raises(TypeError, match="API_KEY"):
        get_connection()


def test_backend_arguments_and_own_client(sb: Sandbox) -> None:
    connection = get_connection(
        "poststack.contrib.django.EmailBackend", api_key=sb.api_key, base_url=sb.base_url
    )
    assert connection.send_messages([EmailMessage("A", "B", None, ["a@example.org"])]) == 1
    with PostStack(api_key=sb.api_key, base_url=sb.base_url) as client:
        backend = EmailBackend(client=client)
        with backend:
            backend.send_messages([EmailMessage("C", "D", None, ["c@example.org"])])
        backend.send_messages([EmailMessage("E", "F", None, ["e@example.org"])])
        client.emails.send({"from": "x@yourdomain.com", "to": ["z@example.org"], "subject": "G",
                            "text": "still open"})  # fmt: skip
    assert [e.subject for e in sb.wait_for_emails(4)] == ["A", "C", "E", "G"]


def test_admin_error_mails(mail: Sandbox) -> None:
    mail_admins("Disk almost full", "93% used", html_message="<p>93% used</p>")
    (email,) = mail.wait_for_emails(1)
    assert email.from_ == "errors@yourdomain.com"
    assert email.to == ("ops@example.org",)
    assert email.subject == "[Django] Disk almost full"
    assert email.html == "<p>93% used</p>"

    mail.clear()
    response = Client(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    (report,) = mail.wait_for_emails(1)
    assert report.to == ("ops@example.org",)
    assert "/boom/" in (report.subject or "")
    assert "boom in a view" in (report.text or "")
    assert "RuntimeError" in (report.html or "")


def _block(phrase: str) -> str:
    (found,) = [block for block in doc_blocks("django") if phrase in block]
    return found


def test_docs(
    mail: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every block of docs/django.md, in order, each where a reader would put it."""
    assert len(doc_blocks("django")) == 11
    monkeypatch.setenv("POSTSTACK_API_KEY", mail.api_key)
    monkeypatch.setenv("POSTSTACK_WEBHOOK_SECRET", "whsec_from_the_env")
    namespace: dict[str, Any] = {}
    exec(_block("EMAIL_BACKEND ="), namespace)
    configured = {k: v for k, v in namespace.items() if k.isupper()}
    assert configured["EMAIL_BACKEND"] == "poststack.contrib.django.EmailBackend"
    assert configured["POSTSTACK_WEBHOOK_SECRET"] == "whsec_from_the_env"
    with override_settings(**configured, POSTSTACK_BASE_URL=mail.base_url):
        _sending_blocks(mail, caplog, capsys)
        _webhook_blocks(mail)


def _sending_blocks(
    mail: Sandbox, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    receipt_block = _block('subject="Your receipt"')
    exec(receipt_block, {})
    welcome, receipt = mail.wait_for_emails(2)
    assert welcome.from_ == "Acme <hello@yourdomain.com>"
    assert receipt.tags == ("django", "receipt", "shop")  # the settings' default first
    assert receipt.payload["metadata"] == {"order_id": "1234"}
    assert (receipt.html, receipt.bcc) == (
        "<p>Thanks for your order.</p>",
        ("archive@yourdomain.com",),
    )
    assert receipt.payload["reply_to"] == "support@yourdomain.com"
    assert receipt.attachments[0]["filename"] == "receipt.pdf"
    assert capsys.readouterr().out == f"{receipt.id}\n"
    exec(receipt_block, {})  # the receipt is idempotent: only the welcome mail is new
    assert len(mail.wait_for_emails(3)) == 3
    assert capsys.readouterr().out == f"{receipt.id}\n"

    exec(_block("notice = EmailMessage("), {})
    assert mail.wait_for_emails(4)[-1].tags == ("django", "security")

    with client_for_sandbox(mail) as ps:
        template = ps.templates.create(
            {"name": "Welcome", "subject": "Hi {{first_name}}", "text": "Welcome, {{first_name}}!"}
        )["template"]
        ps.templates.publish(template["publicId"])
    # The page names its template "tpl_welcome"; here it has the id the sandbox gave it.
    reminder_block = _block("reminder = PostStackMessage(")
    exec(reminder_block.replace('"tpl_welcome"', repr(template["publicId"])), {})
    reminder = mail.wait_for_emails(5)[-1]
    assert (reminder.status, reminder.subject, reminder.text) == (
        "scheduled",
        "Hi Ada",
        "Welcome, Ada!",
    )
    assert reminder.payload["unsubscribe"] is False
    assert reminder.payload["metadata"] == {"user_id": "42"}
    assert reminder.to == ("Ada Lovelace <ada@example.com>",)
    assert capsys.readouterr().out == f"scheduled\n{reminder.id}\n"

    hooks: dict[str, Any] = {}
    exec(_block("def skip_opted_out"), hooks)
    try:
        with caplog.at_level(logging.INFO, logger="shop.mail"):
            assert send_mail("News", "x", None, ["unsubscribed@example.com"]) == 0
            assert send_mail("News", "x", None, ["subscribed@example.com"]) == 1
    finally:
        pre_send.disconnect(hooks["skip_opted_out"])
        post_send.disconnect(hooks["log_status"])
    news = mail.wait_for_emails(6)[-1]
    assert news.to == ("subscribed@example.com",)
    assert f"'News': queued {news.id}" in caplog.text

    exec(_block("with get_connection() as connection:"), {})
    assert [e.subject for e in mail.wait_for_emails(8)[-2:]] == ["Hello", "Hello"]


def _webhook_blocks(mail: Sandbox) -> None:
    urls = types.ModuleType("docs_django_urls")
    exec(_block("# urls.py"), urls.__dict__)
    sys.modules[urls.__name__] = urls
    shop = shop_models()  # the models block, loaded as the shop app's models.py
    try:
        with override_settings(ROOT_URLCONF=urls.__name__), live_site() as url:
            _, secret = register(mail, url, ["email.delivered"])
            with override_settings(POSTSTACK_WEBHOOK_SECRET=secret):
                exec(_block("def confirm(order: Order)"), {"Order": shop["Order"]})
                (delivery,) = mail.wait_for_deliveries(1, timeout=30)
        assert (delivery.url, delivery.status_code) == (url, 200)
        order = shop["Order"].objects.get(email="ada@example.com")
        assert order.poststack_id == delivery.email_id
        assert order.email_status == "delivered"
    finally:
        del sys.modules[urls.__name__]

    store_settings: dict[str, Any] = {}
    exec(_block("POSTSTACK_WEBHOOK_STORE ="), store_settings)
    secret_settings: dict[str, Any] = {}
    exec(_block("POSTSTACK_WEBHOOK_SECRET = ["), secret_settings)
    old_secret = secret_settings["POSTSTACK_WEBHOOK_SECRET"][1]
    body = b'{"id": "evt_docs", "type": "email.sent", "data": {"email_id": "em_1"}}'
    headers = {"X-PostStack-Signature": sign(body, old_secret)}
    with override_settings(
        POSTSTACK_WEBHOOK_STORE=store_settings["POSTSTACK_WEBHOOK_STORE"],
        POSTSTACK_WEBHOOK_SECRET=secret_settings["POSTSTACK_WEBHOOK_SECRET"],
    ):
        answers = [
            Client()
            .post("/webhooks/poststack/", body, content_type="application/json", headers=headers)
            .json()
            for _ in range(2)
        ]
    assert answers == [{"received": True}, {"received": True, "duplicate": True}]


def test_a_batch_entry_rejected_on_its_own_is_reported() -> None:
    from tests.faultserver import FaultServer, Reply

    with FaultServer() as srv:
        srv.script(Reply(202, {"data": [{"id": "em_ok"}, {"error": "Invalid recipient"}]}))
        messages = [
            EmailMessage("First", "body", "a@yourdomain.com", ["x@example.org"]),
            EmailMessage("Second", "body", "a@yourdomain.com", ["bad"]),
        ]
        with override_settings(POSTSTACK_API_KEY="sk_test_k", POSTSTACK_BASE_URL=srv.url):
            with pytest.raises(RejectedEmails, match="'Second': Invalid recipient") as raised:
                get_connection().send_messages(messages)
            assert [(m.subject, why) for m, why in raised.value.rejected] == [
                ("Second", "Invalid recipient")
            ]
            assert not isinstance(raised.value, PostStackError)  # no request failed
            assert poststack_id(messages[0]) == "em_ok"
            srv.script(Reply(202, {"data": [{"id": "em_1"}, {"error": "Invalid recipient"}]}))
            quiet = get_connection(fail_silently=True)
            assert quiet.send_messages(messages) == 1
        assert [r.path for r in srv.requests] == ["/emails/batch", "/emails/batch"]

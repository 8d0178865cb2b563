"""Every PostStack option on a Django message, checked as the exact JSON on the wire.

Messages go through the real backend to a sandbox; ``sb.requests`` holds each
request as the sandbox read it off the socket.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from datetime import date, datetime, timezone
from email.mime.image import MIMEImage
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection, send_mail
from django.test import override_settings

from poststack import PostStackError
from poststack.contrib.django import (
    CancelSend,
    PostStackMessage,
    PostStackStatus,
    RecipientStatus,
    RejectedEmails,
    UnsupportedFeature,
    message_to_params,
    post_send,
    pre_send,
    punycode_address,
)
from poststack.testing import Sandbox
from tests.contrib.django_helpers import connected, setup_django
from tests.webhook_helpers import client_for

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")
FROM = "Shop <shop@yourdomain.com>"


@pytest.fixture(scope="module", autouse=True)
def _django() -> None:
    setup_django()


@pytest.fixture
def mail(sb: Sandbox) -> Iterator[Sandbox]:
    with override_settings(POSTSTACK_API_KEY=sb.api_key, POSTSTACK_BASE_URL=sb.base_url):
        yield sb


def wire(sb: Sandbox) -> dict[str, Any]:
    """The JSON body of the one request sent."""
    (request,) = sb.requests
    assert (request.method, request.path) == ("POST", "/emails")
    body: dict[str, Any] = request.json
    return body


def test_every_option_at_once(mail: Sandbox) -> None:
    message = PostStackMessage(
        subject="Order 1234",
        body="Thanks.",
        from_email=FROM,
        to=["Ada <ada@example.org>"],
        cc=["cc@example.org"],
        bcc=["bcc@example.org"],
        reply_to=["help@yourdomain.com"],
        headers={"X-Campaign": "spring"},
        tags=["receipt"],
        metadata={"order_id": "1234"},
        scheduled_at=datetime(2099, 3, 25, 9, 0, tzinfo=timezone.utc),
        idempotency_key="receipt-1234",
        unsubscribe=False,
    )
    message.attach_alternative("<p>Thanks.</p>", "text/html")
    message.attach("r.txt", b"receipt", "text/plain")
    assert message.send() == 1
    assert wire(mail) == {
        "from": FROM,
        "to": ["Ada <ada@example.org>"],
        "cc": ["cc@example.org"],
        "bcc": ["bcc@example.org"],
        "reply_to": "help@yourdomain.com",
        "subject": "Order 1234",
        "text": "Thanks.",
        "html": "<p>Thanks.</p>",
        "headers": {"X-Campaign": "spring"},
        "tags": ["receipt"],
        "metadata": {"order_id": "1234"},
        "attachments": [
            {"filename": "r.txt", "content": "cmVjZWlwdA==", "content_type": "text/plain"}
        ],
        "scheduled_at": "2099-03-25T09:00:00.000Z",
        "unsubscribe": False,
        "idempotency_key": "receipt-1234",
    }
    assert mail.requests[0].idempotency_key == "receipt-1234"
    (email,) = mail.outbox
    assert email.status == "scheduled"
    assert message.poststack_id == email.id
    assert message.poststack_status == PostStackStatus(
        status="scheduled",
        id=email.id,
        recipients={
            address: RecipientStatus(email.id, "scheduled")
            for address in ("ada@example.org", "cc@example.org", "bcc@example.org")
        },
        response={"id": email.id},
    )


def test_attributes_on_a_plain_message(mail: Sandbox) -> None:
    message = EmailMessage("Hi", "Hello", FROM, ["a@example.org"])
    message.tags = ["welcome"]  # type: ignore[attr-defined]
    message.metadata = {"user": "7"}  # type: ignore[attr-defined]
    message.idempotency_key = "welcome-7"  # type: ignore[attr-defined]
    message.send()
    body = wire(mail)
    assert {k: body[k] for k in ("tags", "metadata", "idempotency_key")} == {
        "tags": ["welcome"],
        "metadata": {"user": "7"},
        "idempotency_key": "welcome-7",
    }
    assert message.poststack_status.status == "queued"  # type: ignore[attr-defined]


def test_tags_come_from_defaults_attribute_and_header(mail: Sandbox) -> None:
    defaults = {"tags": ["django", "shop"], "metadata": {"app": "shop", "v": "1"}}
    message = EmailMessage(
        "Hi", "Hello", FROM, ["a@example.org"], headers={"X-PostStack-Tags": "legacy, shop"}
    )
    message.tags = ["receipt", "django"]  # type: ignore[attr-defined]
    message.metadata = {"v": "2"}  # type: ignore[attr-defined]
    with override_settings(POSTSTACK_SEND_DEFAULTS=defaults):
        message.send()
    body = wire(mail)
    assert body["tags"] == ["django", "shop", "receipt", "legacy"]
    assert body["metadata"] == {"app": "shop", "v": "2"}
    assert "headers" not in body


def test_connection_defaults_replace_the_settings_ones(mail: Sandbox) -> None:
    with override_settings(POSTSTACK_SEND_DEFAULTS={"tags": ["a"], "unsubscribe": True}):
        connection = get_connection(send_defaults={"tags": ["b"]})
        EmailMessage("Hi", "x", FROM, ["a@example.org"], connection=connection).send()
    body = wire(mail)
    assert (body["tags"], body["unsubscribe"]) == (["b"], True)


@pytest.mark.parametrize(
    ("defaults", "error"),
    [
        ({"idempotency_key": "k"}, "'idempotency_key' \\(it is per message\\)"),
        ({"scheduled_at": "2099-01-01T00:00:00Z"}, "'scheduled_at' \\(it is per message\\)"),
        ({"track_opens": True}, "cannot set 'track_opens'; it may set tags, metadata"),
        ({"tags": "django"}, "must be a list of str"),
        ("tags", "must be a dict"),
    ],
)
def test_bad_defaults_are_a_configuration_error(defaults: object, error: str) -> None:
    with (
        override_settings(POSTSTACK_SEND_DEFAULTS=defaults),
        pytest.raises(ImproperlyConfigured, match=error),
    ):
        get_connection()
    with pytest.raises((TypeError, ValueError), match=error):
        get_connection(send_defaults=defaults)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "sent"),
    [
        (
            datetime(2099, 3, 25, 10, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin")),
            "2099-03-25T09:00:00.000Z",
        ),
        (datetime(2099, 3, 25, 10, 0), "2099-03-25T09:00:00.000Z"),  # naive: Django's time zone
        (date(2099, 3, 25), "2099-03-24T23:00:00.000Z"),  # midnight there
        ("2099-03-25T09:00:00Z", "2099-03-25T09:00:00.000Z"),
        ("2099-03-25T10:00:00.250+01:00", "2099-03-25T09:00:00.250Z"),
        ("2099-03-25T10:00:00", "2099-03-25T09:00:00.000Z"),
    ],
    ids=["aware", "naive", "date", "Z", "offset", "naive str"],
)
def test_scheduled_at(mail: Sandbox, value: object, sent: str) -> None:
    with override_settings(TIME_ZONE="Europe/Berlin"):
        PostStackMessage("Later", "x", FROM, ["a@example.org"], scheduled_at=value).send()  # type: ignore[arg-type]
    assert wire(mail)["scheduled_at"] == sent
    assert mail.outbox[0].status == "scheduled"


def test_a_past_send_time_is_sent_now_and_reported_queued(mail: Sandbox) -> None:
    message = PostStackMessage(
        "Now", "x", FROM, ["a@example.org"], scheduled_at="2001-01-01T00:00:00Z"
    )
    message.send()
    assert wire(mail)["scheduled_at"] == "2001-01-01T00:00:00.000Z"
    assert message.poststack_status is not None
    assert message.poststack_status.status == "queued"


def test_a_template_with_variables(mail: Sandbox) -> None:
    with client_for(mail) as ps:
        template = ps.templates.create(
            {"name": "Welcome", "subject": "Welcome, {{name}}", "html": "<p>Hi {{name}}</p>"}
        )["template"]
        ps.templates.publish(template["publicId"])
    mail.clear()
    message = PostStackMessage(
        to=["ada@example.org"], template_id=template["publicId"], variables={"name": "Ada"}
    )
    message.send()
    assert wire(mail) == {
        "from": "Webmaster <webmaster@yourdomain.com>",
        "to": ["ada@example.org"],
        "template_id": template["publicId"],
        "variables": {"name": "Ada"},
    }
    (email,) = mail.outbox
    assert (email.subject, email.html) == ("Welcome, Ada", "<p>Hi Ada</p>")


def test_defaults_for_variables_are_merged(mail: Sandbox) -> None:
    message = PostStackMessage(
        "S", "B", FROM, ["a@example.org"], template_id="tpl_x", variables={"name": "Ada"}
    )
    params, _ = message_to_params(message, {"variables": {"company": "Acme", "name": "?"}})
    assert params["variables"] == {"company": "Acme", "name": "Ada"}


def test_one_or_several_reply_to(mail: Sandbox) -> None:
    EmailMessage("x", "y", FROM, ["a@example.org"], reply_to=["one@yourdomain.com"]).send()
    assert wire(mail)["reply_to"] == "one@yourdomain.com"
    mail.clear()
    EmailMessage(
        "x", "y", FROM, ["a@example.org"], reply_to=["o@yourdomain.com", "t@yourdomain.com"]
    ).send()
    assert wire(mail)["reply_to"] == ["o@yourdomain.com", "t@yourdomain.com"]


def test_an_idempotency_key_sends_once(mail: Sandbox) -> None:
    def receipt() -> PostStackMessage:
        return PostStackMessage("Receipt", "Paid", FROM, ["a@example.org"], idempotency_key="r-42")

    first, again = receipt(), receipt()
    first.send()
    again.send()
    assert len(mail.outbox) == 1
    assert first.poststack_id == again.poststack_id == mail.outbox[0].id
    assert [r.idempotency_key for r in mail.requests] == ["r-42", "r-42"]
    assert first.poststack_status is not None
    assert first.poststack_status.replayed is False
    conflicting = receipt()
    conflicting.extra_headers["X-PostStack-Idempotency-Key"] = "other"
    with pytest.raises(ValueError, match="disagree"):
        conflicting.send()


def test_international_domains_go_out_in_punycode(mail: Sandbox) -> None:
    message = EmailMessage(
        "Hallo",
        "x",
        "Bücherei <post@bücher.example>",
        ["c@bücher.example", "Jörg <jörg@müller.example>", "plain@example.org"],
        cc=["x@ÄÖÜ.example"],
        bcc=["y@bücher.example"],
        reply_to=["antwort@bücher.example"],
    )
    message.send()
    body = wire(mail)
    assert body["from"] == "Bücherei <post@xn--bcher-kva.example>"
    assert body["to"] == [
        "c@xn--bcher-kva.example",
        "Jörg <jörg@xn--mller-kva.example>",
        "plain@example.org",
    ]
    assert body["cc"] == ["x@xn--4ca0bs.example"]  # IDNA 2003 lower-cases first
    assert body["bcc"] == ["y@xn--bcher-kva.example"]
    assert body["reply_to"] == "antwort@xn--bcher-kva.example"
    assert mail.outbox[0].to[0] == "c@xn--bcher-kva.example"
    # The same domains as Django's SMTP backend puts in its headers.
    from django.core.mail.message import sanitize_address

    sent = [body["from"], *body["to"], *body["cc"], *body["bcc"], body["reply_to"]]
    given = [message.from_email, *message.to, *message.cc, *message.bcc, *message.reply_to]
    for ours, original in zip(sent, given, strict=True):
        assert ours.rsplit("@", 1)[1].rstrip(">") == sanitize_address(original, "utf-8").rsplit(
            "@", 1
        )[1].rstrip(">")


def test_punycode_address() -> None:
    assert punycode_address("a@example.org") == "a@example.org"
    assert punycode_address("Zoë <z@example.org>") == "Zoë <z@example.org>"  # only domains
    assert punycode_address("not an address") == "not an address"
    with pytest.raises(ValueError, match="punycode"):
        punycode_address("a@" + "ü" * 70 + ".example")  # a label over 63 characters


@pytest.mark.parametrize(
    ("attribute", "value", "error"),
    [
        ("tags", "one", "message.tags must be a list of str"),
        ("tags", ["ok", 3], r"message.tags\[1\] must be a str"),
        ("tags", [""], "must not be empty"),
        ("metadata", {"n": 1}, r"message.metadata\['n'\] must be a str .*str\(1\)"),
        ("metadata", ["a"], "must be a dict of str to str"),
        ("variables", {"n": None}, r"message.variables\['n'\] must be a str"),
        ("scheduled_at", "next tuesday", "must be an ISO 8601 date and time"),
        ("scheduled_at", 1774260002, "must be a datetime, a date or an ISO 8601 str"),
        ("template_id", 5, "message.template_id must be a str"),
        ("idempotency_key", " ", "message.idempotency_key must not be empty"),
        ("unsubscribe", "no", "message.unsubscribe must be True or False"),
    ],
)
def test_bad_options_fail_before_anything_is_sent(
    mail: Sandbox, attribute: str, value: object, error: str
) -> None:
    message = EmailMessage("Hi", "Hello", FROM, ["a@example.org"])
    setattr(message, attribute, value)
    with pytest.raises((TypeError, ValueError), match=error):
        message.send(fail_silently=True)
    assert mail.requests == []


@pytest.mark.parametrize(
    ("attribute", "value", "instead"),
    [
        ("send_at", datetime(2099, 1, 1, tzinfo=timezone.utc), "scheduled_at"),
        ("merge_global_data", {"a": "b"}, "variables"),
        ("merge_data", {}, "one message per recipient"),
        ("merge_metadata", {"a@example.org": {}}, "one message per recipient"),
        ("merge_headers", {"a@example.org": {}}, "one message per recipient"),
        ("track_opens", False, "open_tracking"),
        ("track_clicks", True, "click_tracking"),
        ("envelope_sender", "bounce@yourdomain.com", "custom_return_path"),
        ("esp_extra", {"x": 1}, "tags, metadata, scheduled_at"),
    ],
)
def test_anymail_options_the_api_has_not_are_refused(
    mail: Sandbox, attribute: str, value: object, instead: str
) -> None:
    message = EmailMessage("Hi", "Hello", FROM, ["a@example.org"])
    setattr(message, attribute, value)
    with pytest.raises(
        UnsupportedFeature, match=f"message.{attribute} has no PostStack equivalent: .*{instead}"
    ):
        message.send(fail_silently=True)
    assert mail.requests == []


def test_an_anymail_message_that_leaves_options_unset_is_sent(mail: Sandbox) -> None:
    unset = type("UNSET", (object,), {})  # django-anymail's sentinel for "not set"
    message = EmailMessage("Hi", "Hello", FROM, ["a@example.org"])
    for name in ("tags", "metadata", "send_at", "track_opens", "esp_extra", "merge_data"):
        setattr(message, name, unset)
    message.send()
    assert set(wire(mail)) == {"from", "to", "subject", "text"}


def test_other_things_the_api_cannot_express(mail: Sandbox) -> None:
    inline = MIMEImage(PNG, "png")
    inline.add_header("Content-ID", "<logo>")
    with_cid = EmailMultiAlternatives("Hi", "x", FROM, ["a@example.org"])
    with_cid.attach_alternative('<img src="cid:logo">', "text/html")
    with_cid.attach(inline)
    calendar = EmailMultiAlternatives("Invite", "x", FROM, ["a@example.org"])
    calendar.attach_alternative("BEGIN:VCALENDAR", "text/calendar")
    two_html = EmailMultiAlternatives("Hi", "<p>a</p>", FROM, ["a@example.org"])
    two_html.content_subtype = "html"
    two_html.attach_alternative("<p>b</p>", "text/html")
    for message, error in (
        (with_cid, "Content-ID"),
        (calendar, "text/calendar"),
        (two_html, "two"),
    ):
        with pytest.raises(UnsupportedFeature, match=error):
            message.send(fail_silently=True)
    assert mail.requests == []


# -- pre_send, post_send and the status --


def test_pre_send_can_change_or_cancel_a_message(mail: Sandbox) -> None:
    def vet(sender: type, message: EmailMessage, **kwargs: Any) -> None:
        if "blocked@example.org" in message.to:
            raise CancelSend
        message.tags = ["vetted"]  # type: ignore[attr-defined]

    statuses: list[tuple[str, str]] = []

    def record(sender: type, message: EmailMessage, status: PostStackStatus, **kwargs: Any) -> None:
        statuses.append((str(message.subject), status.status))

    kept = EmailMessage("Kept", "x", FROM, ["a@example.org"])
    dropped = EmailMessage("Dropped", "x", FROM, ["blocked@example.org"])
    with connected(pre_send, vet), connected(post_send, record):
        assert get_connection().send_messages([kept, dropped]) == 1
        assert send_mail("Alone", "x", FROM, ["blocked@example.org"]) == 0
    (request,) = mail.requests  # one message left: sent alone, not as a batch
    assert request.json["tags"] == ["vetted"]
    assert request.json["subject"] == "Kept"
    assert statuses == [("Kept", "queued")]
    assert dropped.poststack_status == PostStackStatus(  # type: ignore[attr-defined]
        status="cancelled",
        recipients={"blocked@example.org": RecipientStatus(None, "cancelled")},
    )
    assert dropped.poststack_id is None  # type: ignore[attr-defined]


def test_post_send_hears_of_failures_and_rejections(mail: Sandbox) -> None:
    seen: list[tuple[str, str, str | None]] = []

    def record(sender: type, message: EmailMessage, status: PostStackStatus, **kwargs: Any) -> None:
        seen.append((str(message.subject), status.status, status.error))

    mail.faults.next(status=422, error="Domain not verified")
    with connected(post_send, record), pytest.raises(PostStackError):
        EmailMessage("Refused", "x", FROM, ["a@example.org"]).send()
    assert seen == [("Refused", "failed", "422 Domain not verified")] or seen[0][:2] == (
        "Refused",
        "failed",
    )
    assert seen[0][2] is not None
    assert "Domain not verified" in seen[0][2]


def test_statuses_of_a_batch_with_a_rejection() -> None:
    from tests.faultserver import FaultServer, Reply

    with (
        FaultServer() as srv,
        override_settings(POSTSTACK_API_KEY="sk_test_k", POSTSTACK_BASE_URL=srv.url),
    ):
        srv.script(Reply(202, {"data": [{"id": "em_ok"}, {"error": "Invalid recipient"}]}))
        ok = EmailMessage("First", "body", FROM, ["x@example.org"])
        bad = EmailMessage("Second", "body", FROM, ["bad"])
        with pytest.raises(RejectedEmails):
            get_connection().send_messages([ok, bad])
    assert ok.poststack_status.status == "queued"  # type: ignore[attr-defined]
    assert ok.poststack_id == "em_ok"  # type: ignore[attr-defined]
    assert bad.poststack_status.status == "rejected"  # type: ignore[attr-defined]
    assert bad.poststack_status.error == "Invalid recipient"  # type: ignore[attr-defined]
    assert bad.poststack_status.recipients == {"bad": RecipientStatus(None, "rejected")}  # type: ignore[attr-defined]


def test_statuses_of_a_failed_batch(mail: Sandbox) -> None:
    messages = [EmailMessage(f"n{i}", "b", FROM, [f"u{i}@example.org"]) for i in range(150)]
    mail.faults.next(delay=0.001, path="/emails/batch")
    mail.faults.next(status=503, path="/emails/batch")
    with pytest.raises(PostStackError):
        get_connection().send_messages(messages)
    statuses = [m.poststack_status.status for m in messages]  # type: ignore[attr-defined]
    assert statuses == ["queued"] * 100 + ["failed"] * 50


def test_a_post_send_receiver_error_is_raised_after_the_send(mail: Sandbox) -> None:
    def broken(sender: type, message: EmailMessage, status: PostStackStatus, **kwargs: Any) -> None:
        raise LookupError("receiver bug")

    message = EmailMessage("Hi", "x", FROM, ["a@example.org"])
    with connected(post_send, broken), pytest.raises(LookupError, match="receiver bug"):
        message.send()
    assert len(mail.outbox) == 1
    assert message.poststack_id == mail.outbox[0].id  # type: ignore[attr-defined]

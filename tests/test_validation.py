"""Client-side checks that save a round trip, and emails.send_many.

Every check fails before anything is sent; nothing blocks what the API accepts.
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest

from poststack_core import Request, Response

from .recording import async_client, body_of, json_response, sync_client


def email(n: int, **extra: Any) -> dict[str, Any]:
    return {"from": "a@example.com", "to": [f"u{n}@example.com"], "subject": f"#{n}", **extra}


def batch_reply(request: Request) -> Response:
    emails = body_of(request)["emails"]
    return json_response({"data": [{"id": f"em_{e['subject'][1:]}"} for e in emails]})


# --- emails.send_many -------------------------------------------------------


@pytest.mark.parametrize(
    ("emails", "error", "message"),
    [
        (
            [email(n) for n in range(180)]
            + [email(180, attachments=[{"filename": "a.txt", "content": "%%%"}])]
            + [email(n) for n in range(181, 250)],
            ValueError,
            r"emails\[180\]\.attachments\[0\]\.content is not valid base64",
        ),
        ([email(0), "not a dict"], TypeError, r"emails\[1\] must be a dict"),
        ("a@example.com", TypeError, "emails must be a list"),
        ({"emails": []}, TypeError, "emails must be a list"),
    ],
    ids=["bad attachment at 180", "not a dict", "a str", "a dict"],
)
def test_send_many_checks_every_email_before_sending_any(
    emails: Any, error: type[Exception], message: str
) -> None:
    client, recorder = sync_client(batch_reply)
    with pytest.raises(error, match=message):
        client.emails.send_many(emails)
    assert recorder.requests == []
    aclient, arecorder = async_client(batch_reply)
    with pytest.raises(error, match=message):
        asyncio.run(aclient.emails.send_many(emails))
    assert arecorder.requests == []


# --- emails.batch and attachments ---------------------------------------------


def test_batch_of_more_than_100_fails_before_sending() -> None:
    client, recorder = sync_client()
    with pytest.raises(ValueError, match=r"at most 100 emails, got 101.*send_many"):
        client.emails.batch({"emails": [email(n) for n in range(101)]})  # type: ignore[typeddict-item]
    assert recorder.requests == []
    client.emails.batch({"emails": [email(n) for n in range(100)]})  # type: ignore[typeddict-item]
    assert len(recorder.requests) == 1


GOOD = base64.b64encode(b"hello world").decode()


@pytest.mark.parametrize(
    ("content", "ok"),
    [
        (GOOD, True),
        (GOOD[:8] + "\r\n" + GOOD[8:], True),
        ("", True),
        ("not base64!", False),
        ("abc", False),
        (b"raw bytes", False),
    ],
    ids=["base64", "with line breaks", "empty", "punctuation", "bad padding", "bytes"],
)
def test_attachment_content_must_be_base64(content: Any, ok: bool) -> None:
    client, recorder = sync_client()
    payload = email(0, attachments=[{"filename": "f.txt", "content": content}])
    if ok:
        client.emails.send(payload)  # type: ignore[arg-type]
        assert body_of(recorder.requests[0])["attachments"][0]["content"] == content
    else:
        with pytest.raises((ValueError, TypeError), match=r"attachments\[0\]\.content"):
            client.emails.send(payload)  # type: ignore[arg-type]
        with pytest.raises((ValueError, TypeError), match=r"emails\[1\]\.attachments\[0\]"):
            client.emails.batch({"emails": [email(1), payload]})  # type: ignore[list-item]
        assert recorder.requests == []


# --- ids, bodies and arguments --------------------------------------------------


@pytest.mark.parametrize("bad", ["7", 7.0, True, None, "em_1"], ids=repr)
def test_numeric_ids_must_be_ints(bad: Any) -> None:
    client, recorder = sync_client()
    with pytest.raises(TypeError, match="id must be an int"):
        client.domains.get(bad)
    with pytest.raises(TypeError, match="attachment_id must be an int"):
        client.inbound_emails.download_attachment(1, bad)
    with pytest.raises(TypeError, match="delivery_id must be an int"):
        client.webhooks.replay(1, bad)
    assert recorder.requests == []


def test_numeric_id_check_on_the_async_client_too() -> None:
    client, recorder = async_client()
    with pytest.raises(TypeError, match="id must be an int"):
        asyncio.run(client.api_keys.get("1"))  # type: ignore[arg-type]
    assert recorder.requests == []


@pytest.mark.parametrize("bad", [7, None, ""], ids=repr)
def test_string_ids_must_be_non_empty_strs(bad: Any) -> None:
    client, recorder = sync_client()
    with pytest.raises((TypeError, ValueError), match="id must"):
        client.contacts.get(bad)
    assert recorder.requests == []


def test_large_and_negative_ints_are_the_servers_business() -> None:
    client, recorder = sync_client()
    client.domains.get(10**20)
    client.domains.get(-1)
    assert [r.target for r in recorder.requests] == [f"/domains/{10**20}", "/domains/-1"]


@pytest.mark.parametrize(
    "call",
    [
        lambda ps: ps.contacts.create(["not", "a", "dict"]),
        lambda ps: ps.emails.list("page=2"),
        lambda ps: ps.email_validations.validate_batch("a@example.com"),
        lambda ps: ps.mailboxes.set_filters("mb_1", {"rules": []}),
        lambda ps: ps.webhooks.rotate_secret(1, grace_hours="24"),
        lambda ps: ps.webhooks.rotate_secret(1, grace_hours=True),
        lambda ps: ps.templates.render("tpl_1", ["name"]),
        lambda ps: ps.emails.send({"from": "a@b.c", "to": ["x@y.z"]}, timeout=-1),
        lambda ps: ps.domains.get(1, idempotency_key="k"),
        lambda ps: ps.domains.verify(1, idempotency_key=""),
        lambda ps: ps.emails.send({**email(0), "attachments": {"filename": "a"}}),
        lambda ps: ps.emails.send({**email(0), "attachments": ["a.txt"]}),
        lambda ps: ps.emails.batch({"emails": email(0)}),
        lambda ps: ps.emails.reschedule("em_1", 1_800_000_000),
        lambda ps: ps.mailboxes.change_password("mb_1", None),
        lambda ps: ps.email_validations.validate(["a@example.com"]),
        lambda ps: list(ps.emails.list_all("page=2")),
        lambda ps: list(ps.emails.list_all({"page": 0})),
        lambda ps: list(ps.emails.list_all({"page": "2"})),
    ],
    ids=[
        "body not a dict",
        "params not a mapping",
        "str for a list of emails",
        "dict for a list of rules",
        "grace_hours str",
        "grace_hours bool",
        "variables not a dict",
        "negative timeout",
        "idempotency key on a GET",
        "empty idempotency key",
        "attachments not a list",
        "attachment not a dict",
        "batch emails not a list",
        "scheduled_at not a str",
        "password not a str",
        "email to validate not a str",
        "walker params not a mapping",
        "walker from page 0",
        "walker page not an int",
    ],
)
def test_wrong_arguments_fail_before_sending(call: Any) -> None:
    client, recorder = sync_client()
    with pytest.raises((TypeError, ValueError)):
        call(client)
    assert recorder.requests == []


def test_null_values_in_pass_through_bodies_are_sent() -> None:
    client, recorder = sync_client()
    client.mailboxes.set_signature("mb_1", {"signatureHtml": None, "signatureText": "Bye"})
    assert body_of(recorder.requests[0]) == {"signatureHtml": None, "signatureText": "Bye"}


def test_booleans_in_queries_are_lower_case() -> None:
    client, recorder = sync_client()
    client.subscription_topics.list_subscribers("top_1", {"subscribed": False, "page": None})
    client.contacts.list({"unsubscribed": True})
    assert [r.target.partition("?")[2] for r in recorder.requests] == [
        "subscribed=false",
        "unsubscribed=true",
    ]


def test_on_the_class_a_method_is_its_definition() -> None:
    from poststack.resources import Emails
    from poststack_core import Operation, SendMany

    operation = Emails.send(email(0))
    assert isinstance(operation, Operation)
    assert (operation.method, operation.path, operation.body) == ("POST", "/emails", email(0))
    run = Emails.send_many([email(n) for n in range(101)])
    assert isinstance(run, SendMany)
    assert [len(chunk.emails) for chunk in run.plan("r").chunks] == [100, 1]

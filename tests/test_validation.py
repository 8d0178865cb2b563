"""Client-side checks that save a round trip, and emails.send_many.

Every check fails before anything is sent; nothing blocks what the API accepts.
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import json
import pickle
from typing import Any

import pytest

from poststack import PostStackError, SendManyError
from poststack_core import Request, Response

from .recording import async_client, body_of, json_response, sync_client


def email(n: int, **extra: Any) -> dict[str, Any]:
    return {"from": "a@example.com", "to": [f"u{n}@example.com"], "subject": f"#{n}", **extra}


def batch_reply(request: Request) -> Response:
    emails = body_of(request)["emails"]
    return json_response({"data": [{"id": f"em_{e['subject'][1:]}"} for e in emails]})


# --- emails.send_many -------------------------------------------------------


def test_send_many_sends_batches_of_100_and_keeps_the_order() -> None:
    client, recorder = sync_client(batch_reply)
    results = client.emails.send_many([email(n) for n in range(250)])
    assert results == [{"id": f"em_{n}"} for n in range(250)]
    sizes = [len(body_of(request)["emails"]) for request in recorder.requests]
    assert sizes == [100, 100, 50]
    assert {request.target for request in recorder.requests} == {"/emails/batch"}
    keys = [request.header("Idempotency-Key") for request in recorder.requests]
    assert None not in keys
    assert len(set(keys)) == 3
    assert body_of(recorder.requests[2])["emails"][0] == email(200)


def test_send_many_async() -> None:
    client, recorder = async_client(batch_reply)
    results = asyncio.run(client.emails.send_many([email(n) for n in range(101)]))
    assert results == [{"id": f"em_{n}"} for n in range(101)]
    assert [len(body_of(r)["emails"]) for r in recorder.requests] == [100, 1]


def test_send_many_derives_a_key_per_batch_from_the_callers_key() -> None:
    client, recorder = sync_client(batch_reply)
    client.emails.send_many([email(n) for n in range(150)], idempotency_key="run-7")
    assert [r.header("Idempotency-Key") for r in recorder.requests] == ["run-7-0", "run-7-1"]


def test_a_callers_key_must_leave_room_for_the_batch_numbers() -> None:
    client, recorder = sync_client(batch_reply)
    with pytest.raises(ValueError, match="at most 253 characters for 150 emails"):
        client.emails.send_many([email(n) for n in range(150)], idempotency_key="k" * 254)
    assert recorder.requests == []
    client.emails.send_many([email(n) for n in range(150)], idempotency_key="k" * 253)
    assert [r.header("Idempotency-Key") for r in recorder.requests] == [
        "k" * 253 + "-0",
        "k" * 253 + "-1",
    ]


def test_send_many_keeps_per_email_errors_in_place() -> None:
    def reply(request: Request) -> Response:
        return json_response({"data": [{"id": "em_0"}, {"error": "bad address"}]})

    client, _ = sync_client(reply)
    assert client.emails.send_many([email(0), email(1)]) == [
        {"id": "em_0"},
        {"error": "bad address"},
    ]


def _fail_batch(number: int, status: int = 503) -> Any:
    """Answer batch ``number`` (0-based) with ``status``, the others as batch_reply does."""
    seen: list[Request] = []

    def reply(request: Request) -> Response:
        seen.append(request)
        if len(seen) - 1 == number:
            body = json.dumps({"error": "Service Unavailable", "code": "internal_error"})
            return Response(status, (("x-request-id", "req_bad"),), body.encode())
        return batch_reply(request)

    return reply


@pytest.mark.parametrize("make", [sync_client, async_client], ids=["sync", "async"])
def test_a_failed_batch_stops_the_call_and_keeps_what_was_sent(make: Any) -> None:
    client, recorder = make(_fail_batch(1))

    def send_many() -> object:
        pending = client.emails.send_many([email(n) for n in range(250)])
        return asyncio.run(pending) if inspect.iscoroutine(pending) else pending

    with pytest.raises(SendManyError) as info:
        send_many()
    error = info.value
    assert len(recorder.requests) == 2  # the third batch was never sent
    assert (error.status_code, error.code, error.request_id) == (503, "internal_error", "req_bad")
    assert error.retryable
    assert isinstance(error.__cause__, PostStackError)
    assert error.__cause__.status_code == 503
    assert error.results[:100] == [{"id": f"em_{n}"} for n in range(100)]
    assert len(error.results) == 250
    assert {r["code"] for r in error.results[100:]} == {"not_sent"}
    assert error.results[100]["error"].startswith("not sent: 503 internal_error:")
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), copy.results, copy.status_code) == (SendManyError, error.results, 503)


def test_a_failed_first_batch_sends_nothing_else() -> None:
    client, recorder = sync_client(_fail_batch(0, status=401))
    with pytest.raises(PostStackError) as info:
        client.emails.send_many([email(n) for n in range(150)])
    assert len(recorder.requests) == 1
    assert isinstance(info.value, SendManyError)
    assert info.value.status_code == 401
    assert not info.value.retryable
    assert [r.get("code") for r in info.value.results] == ["not_sent"] * 150


@pytest.mark.parametrize(
    "answer",
    [
        {"data": [{"id": "em_0"}]},  # one result for two emails: ids would be misattributed
        {"data": [{"id": "em_0"}, {"id": "em_1"}, {"id": "em_2"}]},
        {"data": [{"id": "em_0"}, "em_1"]},
        {"emails": [{"id": "em_0"}, {"id": "em_1"}]},
        {},
    ],
)
def test_a_batch_answer_without_one_result_per_email_is_invalid(answer: Any) -> None:
    def reply(request: Request) -> Response:
        return Response(202, (("x-request-id", "req_5"),), json.dumps(answer).encode())

    client, recorder = sync_client(reply)
    with pytest.raises(SendManyError) as info:
        client.emails.send_many([email(0), email(1)])
    assert (info.value.status_code, info.value.code) == (202, "invalid_response")
    assert info.value.request_id == "req_5"
    assert len(recorder.requests) == 1  # a 2xx is never sent again within the call
    assert [r.get("code") for r in info.value.results] == ["not_sent", "not_sent"]


def test_send_many_of_nothing_sends_nothing() -> None:
    client, recorder = sync_client()
    assert client.emails.send_many([]) == []
    assert recorder.requests == []


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
    from poststack_core import Operation, Plan

    operation = Emails.send(email(0))
    assert isinstance(operation, Operation)
    assert (operation.method, operation.path, operation.body) == ("POST", "/emails", email(0))
    plan = Emails.send_many([email(n) for n in range(101)])
    assert isinstance(plan, Plan)
    assert [len(op.body["emails"]) for op in plan.operations] == [100, 1]

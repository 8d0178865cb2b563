"""The inbox API under /_sandbox/, through real HTTP and the SDK, with SandboxInbox."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from poststack import PostStack
from poststack.testing import InboxError, Sandbox, SandboxInbox
from poststack.testing import _inbox as inbox_module

from .helpers import MESSAGE, EventStream, Receiver, receiver_fixture

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(stream_keepalive=0.2) as sandbox:
        yield sandbox


@pytest.fixture
def ps(sb: Sandbox) -> Iterator[PostStack]:
    with PostStack(api_key=sb.api_key, base_url=sb.base_url, timeout=10) as client:
        yield client


@pytest.fixture
def inbox(sb: Sandbox) -> Iterator[SandboxInbox]:
    with SandboxInbox(sb.base_url) as client:
        yield client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from receiver_fixture()


def send(ps: PostStack, **overrides: Any) -> str:
    payload: Any = {**MESSAGE, **overrides}
    return ps.emails.send({k: v for k, v in payload.items() if v is not None})["id"]


# --- reading -----------------------------------------------------------------------------


def test_list_is_newest_first_and_searchable(ps: PostStack, inbox: SandboxInbox) -> None:
    first = send(ps, to=["ada@example.org"], subject="Welcome aboard", tags=["welcome"])
    second = send(ps, **{"from": "news@other.com"}, to=["bob@example.org"], subject="News")
    third = send(ps, to=["carol@example.org"], cc=["dave@example.org"], subject="Receipt #42")

    def ids(**filters: Any) -> list[str]:
        return [m["id"] for m in inbox.messages(**filters)]

    assert ids() == [third, second, first]
    assert ids(q="news") == [second]  # q searches from ...
    assert ids(q="DAVE") == [third]  # ... every recipient ...
    assert ids(q="receipt") == [third]  # ... and the subject
    assert ids(from_="other.com") == [second]
    assert ids(to="ada@") == [first]
    assert ids(subject="aboard") == [first]
    assert ids(tag="welcome") == [first]
    assert ids(status="delivered") == [third, second, first]
    assert ids(status="bounced") == []
    page, total = inbox.search(limit=2, offset=1)
    assert [m["id"] for m in page] == [second, first]
    assert total == 3


def test_summary_fields(ps: PostStack, inbox: SandboxInbox) -> None:
    send(
        ps,
        tags=["welcome"],
        attachments=[{"filename": "a.txt", "content": base64.b64encode(b"hi").decode()}],
    )
    (summary,) = inbox.messages()
    assert summary == {
        "id": summary["id"],
        "from": "Acme <hello@yourdomain.com>",
        "to": ["ada@example.org"],
        "cc": [],
        "bcc": [],
        "subject": "Welcome",
        "status": "delivered",
        "tags": [{"name": "welcome", "value": None}],
        "created_at": summary["created_at"],
        "scheduled_at": None,
        "has_html": True,
        "has_text": True,
        "attachment_count": 1,
        "test_mode": True,
    }
    assert summary["created_at"].endswith("Z")


def test_one_message_carries_everything(sb: Sandbox, ps: PostStack, inbox: SandboxInbox) -> None:
    payload: Any = {
        **MESSAGE,
        "reply_to": "support@yourdomain.com",
        "headers": {"X-Campaign": "spring"},
        "attachments": [
            {"filename": "logo.png", "content": base64.b64encode(PNG).decode()},
            {"filename": "notes.txt", "content": "aGk=", "content_type": "text/plain"},
        ],
    }
    email_id = ps.emails.send(payload, idempotency_key="order-7")["id"]
    message = inbox.message(email_id)
    assert message["html"] == MESSAGE["html"]
    assert message["text"] == MESSAGE["text"]
    assert message["reply_to"] == ["support@yourdomain.com"]
    assert message["headers"] == {"X-Campaign": "spring"}
    assert message["attachments"] == [
        {"index": 0, "filename": "logo.png", "content_type": "image/png", "size": len(PNG)},
        {"index": 1, "filename": "notes.txt", "content_type": "text/plain", "size": 2},
    ]
    assert [e["type"] for e in message["events"]] == ["queued", "sent", "delivered"]
    assert all(e["at"].endswith("Z") for e in message["events"])
    request = message["request"]
    assert request is not None
    assert request["method"] == "POST"
    assert request["path"] == "/emails"
    assert request["idempotency_key"] == "order-7"
    assert "authorization" not in request["headers"]
    assert sb.api_key not in json.dumps(message)  # the key never shows
    # The exact text received, byte for byte, not a re-serialisation.
    assert request["body"] == sb.requests[0].body.decode()
    assert json.loads(request["body"]) == payload
    assert message["metadata"]["numeric_id"] == 1
    assert inbox.latest() == message


def test_latest_on_an_empty_inbox_is_a_json_404(inbox: SandboxInbox) -> None:
    with pytest.raises(InboxError) as info:
        inbox.latest()
    assert info.value.status_code == 404
    assert info.value.code == "not_found"
    with pytest.raises(InboxError) as missing:
        inbox.message("em_nope")
    assert missing.value.status_code == 404


def test_html_is_served_locked_down(sb: Sandbox, ps: PostStack) -> None:
    email_id = send(ps, html='<p>Hi</p><script>alert(1)</script><img src="https://x.test/t.png">')
    response = httpx.get(f"{sb.base_url}/_sandbox/messages/{email_id}/html")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == (
        "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    )
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    assert response.text.startswith("<p>Hi</p>")
    text = httpx.get(f"{sb.base_url}/_sandbox/messages/{email_id}/text")
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    assert text.text == "Hi Ada"
    text_only = send(ps, html=None)
    assert httpx.get(f"{sb.base_url}/_sandbox/messages/{text_only}/html").status_code == 404


def test_attachment_downloads_with_its_type_and_name(
    sb: Sandbox, ps: PostStack, inbox: SandboxInbox
) -> None:
    name = 'résumé "final".pdf'
    email_id = send(
        ps,
        attachments=[
            {
                "filename": name,
                "content": base64.b64encode(PNG).decode(),
                "content_type": "application/pdf",
            }
        ],
    )
    response = httpx.get(f"{sb.base_url}/_sandbox/messages/{email_id}/attachments/0")
    assert response.status_code == 200
    assert response.content == PNG
    assert response.headers["content-type"] == "application/pdf"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="r_sum_ _final_.pdf"')
    assert "filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.pdf" in disposition
    assert inbox.attachment(email_id, 0) == PNG
    assert httpx.get(f"{sb.base_url}/_sandbox/messages/{email_id}/attachments/1").status_code == 404
    assert httpx.get(f"{sb.base_url}/_sandbox/messages/{email_id}/attachments/x").status_code == 404


# --- acting ---------------------------------------------------------------------------------


def test_bounce_fires_the_webhook_and_suppresses(
    sb: Sandbox, ps: PostStack, inbox: SandboxInbox, receiver: Receiver
) -> None:
    ps.webhooks.create({"url": receiver.url, "events": ["email.bounced"]})
    email_id = send(ps)
    message = inbox.bounce(email_id)
    assert message["status"] == "bounced"
    assert [e["type"] for e in message["events"]] == ["queued", "sent", "delivered", "bounced"]
    assert message["events"][-1]["detail"]["bounceType"] == "hard"
    (hook,) = receiver.wait_for(1)
    assert hook.event["type"] == "email.bounced"
    assert hook.event["data"]["email_id"] == email_id
    sb.wait_for_deliveries(1)
    deliveries = inbox.message(email_id)["deliveries"]
    assert [(d["event_type"], d["status_code"], d["attempt"]) for d in deliveries] == [
        ("email.bounced", 200, 1)
    ]
    assert ps.emails.get(email_id)["email"]["status"] == "bounced"
    suppressed = ps.suppressions.list()["suppressions"]
    assert [(s["email"], s["reason"]) for s in suppressed] == [("ada@example.org", "hard_bounce")]
    with pytest.raises(InboxError) as twice:
        inbox.bounce(email_id)
    assert twice.value.status_code == 409


def test_soft_bounce_and_complaint(ps: PostStack, inbox: SandboxInbox) -> None:
    soft = send(ps)
    assert inbox.bounce(soft, soft=True)["events"][-1]["type"] == "soft_bounced"
    assert ps.suppressions.list()["suppressions"] == []  # soft bounces do not suppress
    complained = send(ps, to=["bob@example.org"])
    message = inbox.complain(complained)
    assert message["status"] == "complained"
    assert ps.suppressions.list()["suppressions"][0]["reason"] == "complaint"


def test_feedback_on_a_scheduled_email_is_a_conflict(ps: PostStack, inbox: SandboxInbox) -> None:
    email_id = send(ps, scheduled_at="2999-01-01T00:00:00Z")
    with pytest.raises(InboxError) as info:
        inbox.complain(email_id)
    assert info.value.status_code == 409


def test_clear_empties_the_inbox(sb: Sandbox, ps: PostStack, inbox: SandboxInbox) -> None:
    send(ps)
    send(ps)
    domain = ps.domains.create({"name": "kept.example.com"})["domain"]
    assert inbox.clear() == 2
    assert inbox.messages() == []
    assert sb.outbox == []
    assert ps.domains.get(domain["id"])["domain"]["name"] == "kept.example.com"


def test_clock_and_advance(ps: PostStack, inbox: SandboxInbox) -> None:
    clock = inbox.clock()
    assert clock["frozen"] is True
    email_id = send(ps, scheduled_at="2999-01-01T00:00:00Z")
    assert inbox.message(email_id)["status"] == "scheduled"
    later = inbox.advance(3600)
    assert later["now"] > clock["now"]
    assert inbox.message(email_id)["status"] == "scheduled"
    assert inbox.clock() == later  # frozen: time stands still between calls
    with pytest.raises(InboxError) as negative:
        inbox.advance(-1)
    assert negative.value.status_code == 400


def test_faults_in_json(sb: Sandbox, ps: PostStack, inbox: SandboxInbox) -> None:
    pending = inbox.add_faults(
        {"status": 503, "path": "/emails", "method": "POST", "count": 2},
        {"status": 429, "retry_after": 0, "body": "slow down", "count": None},
    )
    assert [item["remaining"] for item in pending] == [2, None]
    assert pending[0]["fault"]["status"] == 503
    assert pending[1]["fault"]["body"] == "slow down"
    assert len(inbox.faults()) == 2
    assert sb.faults.pending[0][0].path == "/emails"
    inbox.clear_faults()
    assert inbox.faults() == []
    with pytest.raises(InboxError) as bad:
        inbox.add_faults({"status": 503, "explode": True})
    assert bad.value.status_code == 422
    assert "explode" in bad.value.message
    with pytest.raises(InboxError):
        inbox.add_faults({"status": 503}, {"reset": True, "status": 500})
    assert inbox.faults() == []  # all or nothing


def test_faults_never_touch_the_inbox(sb: Sandbox, inbox: SandboxInbox) -> None:
    sb.faults.always(status=503)
    assert inbox.messages() == []
    assert len(inbox.faults()) == 1
    inbox.clear_faults()


def test_inbound_through_the_inbox_api(ps: PostStack, inbox: SandboxInbox) -> None:
    received = inbox.receive(
        from_="Ada <ada@example.org>",
        to=["support+ticket42@example.com"],
        subject="Help",
        text="It broke.\n\nOn Monday, you wrote:\n> hello",
    )
    assert received["mailboxHash"] == "ticket42"
    assert received["strippedReply"] == "It broke."
    assert ps.inbound_emails.get(received["id"])["inboundEmail"]["subject"] == "Help"


# --- the event stream -------------------------------------------------------------------------


def test_stream_reports_arrivals_updates_and_clears(sb: Sandbox, ps: PostStack) -> None:
    stream = EventStream(sb.base_url)
    try:
        assert stream.status == 200
        assert stream.content_type == "text/event-stream; charset=utf-8"
        email_id = send(ps)
        arrived = stream.next_of("message")
        assert arrived.data["id"] == email_id
        assert arrived.data["status"] == "queued"
        statuses = [stream.next_of("update").data["status"] for _ in range(2)]
        assert statuses == ["sent", "delivered"]
        with SandboxInbox(sb.base_url) as inbox:
            inbox.clear()
        assert stream.next_of("clear").data == {}
    finally:
        stream.close()


def test_stream_keepalive(sb: Sandbox) -> None:
    stream = EventStream(sb.base_url)
    try:
        # The fixture's sandbox sends a keep-alive comment every 0.2 s.
        assert stream.next_of("comment").data == "keep-alive"
    finally:
        stream.close()


def test_stop_ends_open_streams(sb: Sandbox) -> None:
    stream = EventStream(sb.base_url)
    try:
        sb.stop()
        assert stream.ended()
    finally:
        stream.close()


def test_wait_for_message_is_event_driven(sb: Sandbox, ps: PostStack, inbox: SandboxInbox) -> None:
    import threading

    ready = threading.Event()

    def later() -> None:
        ready.wait(10)
        send(ps, to=["late@example.org"])

    thread = threading.Thread(target=later)
    thread.start()
    try:
        with pytest.raises(TimeoutError):
            inbox.wait_for_message(timeout=0.3, to="nobody@")
        ready.set()
        found = inbox.wait_for_message(timeout=10, to="late@")
        assert found["to"] == ["late@example.org"]
    finally:
        ready.set()
        thread.join(10)
    assert inbox.wait_for_status(found["id"], "delivered")["status"] == "delivered"


# --- the web UI's files ---------------------------------------------------------------------


def test_index_and_ui_files(sb: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><title>Inbox</title>")
    (tmp_path / "app.js").write_text("export {};")
    (tmp_path / "style.css").write_text("body{}")
    (tmp_path / "icons").mkdir()
    (tmp_path / "icons" / "logo.svg").write_text("<svg/>")
    monkeypatch.setattr(inbox_module, "UI_DIR", tmp_path)
    page = httpx.get(f"{sb.base_url}/")
    assert page.status_code == 200
    assert page.text == "<!doctype html><title>Inbox</title>"
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "http" not in csp  # no remote origin anywhere
    assert page.headers["cache-control"] == "no-cache"
    for name, kind in [
        ("app.js", "text/javascript; charset=utf-8"),
        ("style.css", "text/css; charset=utf-8"),
        ("icons/logo.svg", "image/svg+xml"),
    ]:
        response = httpx.get(f"{sb.base_url}/_sandbox/ui/{name}")
        assert response.status_code == 200, name
        assert response.headers["content-type"] == kind
        assert response.headers["x-content-type-options"] == "nosniff"
    (tmp_path.parent / "secret.txt").write_text("no")
    for bad in ("../secret.txt", "%2e%2e/secret.txt", "nope.js", "", "icons/../../secret.txt"):
        assert httpx.get(f"{sb.base_url}/_sandbox/ui/{bad}").status_code == 404, bad


def test_index_without_ui_files_is_a_helpful_page(
    sb: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inbox_module, "UI_DIR", tmp_path)
    page = httpx.get(f"{sb.base_url}/")
    assert page.status_code == 200
    assert "/_sandbox/messages" in page.text


def test_inbox_needs_no_key_but_the_api_does(sb: Sandbox) -> None:
    assert httpx.get(f"{sb.base_url}/_sandbox/messages").status_code == 200
    assert httpx.get(f"{sb.base_url}/emails").status_code == 401


def test_unknown_inbox_routes_are_json_404s(sb: Sandbox) -> None:
    response = httpx.get(f"{sb.base_url}/_sandbox/nope")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    wrong = httpx.put(f"{sb.base_url}/_sandbox/messages", json={})
    assert wrong.status_code == 405

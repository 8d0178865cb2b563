"""One round trip per resource: create, get, list, update, delete where the API has them.

Every test runs twice: in memory, and with ``db=`` where ``restart()`` stops the
sandbox and starts a new one on the same file between the steps, so each
resource is also shown to survive a restart with its state intact.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from poststack import PostStack, PostStackError
from poststack.testing import Sandbox

from .helpers import Receiver, receiver_fixture

EMAIL: Any = {"from": "hello@example.com", "to": ["ada@example.org"], "subject": "Hi", "text": "Hi"}


class Harness:
    """A sandbox and a client; ``restart()`` swaps both for new ones on the same database."""

    def __init__(self, db: Path | None) -> None:
        self._db = db
        self.sb = Sandbox(db=db).start()
        self.ps = PostStack(api_key=self.sb.api_key, base_url=self.sb.base_url, timeout=30)

    def restart(self) -> None:
        if self._db is None:
            return
        self.close()
        self.sb = Sandbox(db=self._db).start()
        self.ps = PostStack(api_key=self.sb.api_key, base_url=self.sb.base_url, timeout=30)

    def close(self) -> None:
        self.ps.close()
        self.sb.stop()

    def status_of(self, call: Any, *args: Any) -> int:
        with pytest.raises(PostStackError) as info:
            call(*args)
        return info.value.status_code


@pytest.fixture(params=["memory", "restart"])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    harness = Harness(tmp_path / "sandbox.db" if request.param == "restart" else None)
    try:
        yield harness
    finally:
        harness.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from receiver_fixture()


def test_api_keys(api: Harness) -> None:
    made = api.ps.api_keys.create({"name": "ci", "permission": "sending_access", "mode": "test"})
    key, key_id = made["key"], made["id"]
    assert key.startswith("sk_test_")
    assert made["keyPrefix"] == key[:12]
    api.restart()
    shown = api.ps.api_keys.get(key_id)
    assert "key" not in shown
    assert (shown["name"], shown["permission"], shown["mode"]) == ("ci", "sending_access", "test")
    assert [k["id"] for k in api.ps.api_keys.list()["keys"]] == [key_id]
    with PostStack(api_key=key, base_url=api.sb.base_url) as minted:
        assert minted.emails.send(EMAIL)["id"].startswith("em_")  # a sending key sends ...
        assert api.status_of(minted.domains.list) == 403  # ... and does nothing else
    rotated = api.ps.api_keys.rotate(key_id)["key"]
    api.restart()
    with PostStack(api_key=key, base_url=api.sb.base_url, max_retries=0) as old:
        assert api.status_of(old.emails.list) == 401
    with PostStack(api_key=rotated, base_url=api.sb.base_url) as new:
        assert new.emails.list()["pagination"]["total"] == 1
    assert api.ps.api_keys.revoke(key_id) == {"success": True}
    assert api.status_of(api.ps.api_keys.get, key_id) == 404
    with PostStack(api_key=rotated, base_url=api.sb.base_url, max_retries=0) as gone:
        assert api.status_of(gone.emails.list) == 401


def test_broadcasts(api: Harness) -> None:
    contacts = [api.ps.contacts.create({"email": f"b{i}@example.org"})["contact"] for i in range(3)]
    api.ps.contacts.unsubscribe(contacts[2]["publicId"])
    segment = api.ps.segments.create({"name": "all"})["segment"]["publicId"]
    api.ps.segments.add_contacts(segment, {"contact_ids": [c["publicId"] for c in contacts]})
    created = api.ps.broadcasts.create(
        {
            "from": "news@example.com",
            "subject": "Spring",
            "segment_id": segment,
            "html": "<p>Hi</p>",
        }
    )["broadcast"]
    broadcast = created["publicId"]
    assert (created["status"], created["totalRecipients"]) == ("draft", 2)  # unsubscribed: out
    api.restart()
    assert api.ps.broadcasts.get(broadcast)["broadcast"]["subject"] == "Spring"
    assert [b["publicId"] for b in api.ps.broadcasts.list()["broadcasts"]] == [broadcast]
    api.ps.broadcasts.update(broadcast, {"subject": "Summer"})
    api.ps.broadcasts.send(broadcast)
    api.restart()
    sent = api.ps.broadcasts.get(broadcast)["broadcast"]
    assert (sent["status"], sent["subject"], sent["totalRecipients"]) == ("sent", "Summer", 2)
    assert sent["deliveredCount"] == 2
    assert sorted(e.to[0] for e in api.sb.outbox) == ["b0@example.org", "b1@example.org"]
    assert all(e.broadcast_id == broadcast for e in api.sb.outbox)
    assert api.status_of(api.ps.broadcasts.update, broadcast, {"subject": "x"}) == 409
    assert api.status_of(api.ps.broadcasts.cancel, broadcast) == 409


def test_contact_properties(api: Harness) -> None:
    made = api.ps.contact_properties.create(
        {"name": "plan", "label": "Plan", "type": "select", "options": ["free", "pro"]}
    )["property"]
    api.restart()
    assert api.ps.contact_properties.list()["properties"] == [made]
    api.ps.contact_properties.update(
        made["id"], {"label": "Tier", "options": ["free", "pro", "team"]}
    )
    api.ps.contacts.create({"email": "p@example.org", "properties": {"plan": "team"}})
    assert (
        api.status_of(
            api.ps.contacts.create, {"email": "q@example.org", "properties": {"plan": "gold"}}
        )
        == 422
    )
    api.restart()
    (shown,) = api.ps.contact_properties.list()["properties"]
    assert (shown["label"], shown["options"]) == ("Tier", ["free", "pro", "team"])
    usage = api.ps.contact_properties.option_usage(made["id"])["usage"]
    assert usage == {"free": 0, "pro": 0, "team": 1}
    api.ps.contact_properties.delete(made["id"])
    assert api.ps.contact_properties.list()["properties"] == []


def test_contacts(api: Harness) -> None:
    sent = {"email": "Ada@Example.org", "first_name": "Ada", "properties": {"city": "London"}}
    contact = api.ps.contacts.create(sent)["contact"]
    contact_id = contact["publicId"]
    assert contact_id.startswith("con_")
    assert (contact["email"], contact["firstName"], contact["properties"]) == (
        "ada@example.org",
        "Ada",
        {"city": "London"},
    )
    assert api.status_of(api.ps.contacts.create, {"email": "ada@example.org"}) == 409
    api.restart()
    assert api.ps.contacts.get(contact_id)["contact"]["email"] == "ada@example.org"
    assert api.ps.contacts.get_by_email("ADA@example.org")["contact"]["publicId"] == contact_id
    assert [c["publicId"] for c in api.ps.contacts.list()["contacts"]] == [contact_id]
    api.ps.contacts.update(contact_id, {"last_name": "Lovelace", "properties": {"lang": "en"}})
    api.restart()
    updated = api.ps.contacts.get(contact_id)["contact"]
    assert updated["lastName"] == "Lovelace"
    assert updated["properties"] == {"city": "London", "lang": "en"}
    result = api.ps.contacts.import_(
        {"contacts": [{"email": "ada@example.org"}, {"email": "bob@example.org"}, {"email": "no"}]}
    )
    assert (result["imported"], result["skipped"], len(result["errors"])) == (1, 1, 1)
    assert result["errors"][0].startswith("no: ")
    csv_text = api.ps.contacts.export_csv()
    assert (
        csv_text.splitlines()[0] == "email,first_name,last_name,unsubscribed,created_at,city,lang"
    )
    assert api.ps.contacts.delete(contact_id) == {"success": True}
    assert api.status_of(api.ps.contacts.get, contact_id) == 404


def test_domains(api: Harness) -> None:
    domain = api.ps.domains.create({"name": "mail.acme.io", "region": "eu-west-1"})["domain"]
    api.restart()
    assert api.ps.domains.get(domain["id"])["domain"] == domain
    assert "mail.acme.io" in [d["name"] for d in api.ps.domains.list()["domains"]]
    api.ps.domains.update(domain["id"], {"click_tracking": True, "tls_mode": "enforced"})
    api.ps.domains.verify(domain["id"])
    api.restart()
    shown = api.ps.domains.get(domain["id"])["domain"]
    assert (shown["clickTracking"], shown["tlsMode"], shown["status"]) == (
        True,
        "enforced",
        "verified",
    )
    api.ps.domains.delete(domain["id"])
    assert api.status_of(api.ps.domains.get, domain["id"]) == 404


def test_email_validations_follow_the_suppression_list(api: Harness) -> None:
    assert api.ps.email_validations.validate("ada@example.org")["result"] == "deliverable"
    api.ps.suppressions.add({"email": "ada@example.org"})
    api.restart()
    result = api.ps.email_validations.validate("ada@example.org")
    assert (result["result"], result["risk"]) == ("undeliverable", "high")


def test_emails_and_their_events(api: Harness, receiver: Receiver) -> None:
    api.ps.webhooks.create({"url": receiver.url, "events": ["email.delivered"]})
    email_id = api.ps.emails.send({**EMAIL, "tags": ["t"]})["id"]
    scheduled = api.ps.emails.send({**EMAIL, "scheduled_at": "2999-01-01T00:00:00Z"})["id"]
    api.sb.wait_for_deliveries(1)
    api.restart()
    shown = api.ps.emails.get(email_id)["email"]
    assert (shown["status"], shown["tags"], shown["text"]) == ("delivered", ["t"], "Hi")
    assert [e["type"] for e in api.ps.emails.get_events(email_id)["events"]] == [
        "queued",
        "sent",
        "delivered",
    ]
    assert [e["publicId"] for e in api.ps.emails.list()["emails"]] == [scheduled, email_id]
    api.ps.emails.reschedule(scheduled, "2998-01-01T00:00:00Z")
    api.restart()
    assert api.ps.emails.get(scheduled)["email"]["scheduledAt"] == "2998-01-01T00:00:00.000Z"
    api.ps.emails.cancel(scheduled)
    api.restart()
    assert api.ps.emails.get(scheduled)["email"]["status"] == "cancelled"
    (delivery,) = api.sb.webhook_deliveries
    assert delivery.email_id == email_id
    assert delivery.ok


def test_inbound_emails(api: Harness) -> None:
    content = b"%PDF-1.4 fake"
    received = api.sb.receive(
        from_="Ada <ada@example.org>",
        to=["help@example.com"],
        subject="Invoice",
        html="<p>See attached</p>",
        attachments=[{"filename": "i.pdf", "content": base64.b64encode(content).decode()}],
    )
    api.restart()
    shown = api.ps.inbound_emails.get(received["id"])["inboundEmail"]
    assert (shown["fromAddress"], shown["subject"], shown["domainId"]) == (
        "ada@example.org",
        "Invoice",
        1,
    )
    assert [e["id"] for e in api.ps.inbound_emails.list({"domain": "example.com"})["emails"]] == [
        shown["id"]
    ]
    (attachment,) = api.ps.inbound_emails.list_attachments(shown["id"])["attachments"]
    assert (attachment["filename"], attachment["contentType"], attachment["size"]) == (
        "i.pdf",
        "application/pdf",
        len(content),
    )
    assert api.ps.inbound_emails.download_attachment(shown["id"], attachment["id"]) == content
    reply = api.ps.inbound_emails.reply(shown["id"], {"from": "help@example.com", "text": "Thanks"})
    email = api.sb.email(reply["id"])
    assert (email.to, email.subject) == (("ada@example.org",), "Re: Invoice")
    assert email.headers["In-Reply-To"] == shown["messageId"]


def test_mailboxes(api: Harness) -> None:
    sent = {"domainId": 1, "localPart": "Ada", "password": "correct horse", "displayName": "Ada"}
    mailbox = api.ps.mailboxes.create(sent)["mailbox"]
    other = api.ps.mailboxes.create({"domainId": 1, "localPart": "bob", "password": "12345678"})[
        "mailbox"
    ]
    assert mailbox["emailAddress"] == "ada@example.com"
    assert api.status_of(api.ps.mailboxes.create, {**sent, "password": "short"}) in (409, 422)
    api.restart()
    assert api.ps.mailboxes.get(mailbox["publicId"])["mailbox"] == mailbox
    assert len(api.ps.mailboxes.list()["mailboxes"]) == 2
    api.ps.mailboxes.update(
        mailbox["publicId"], {"displayName": None, "forwardTo": "a@x.org, b@y.org"}
    )
    alias = api.ps.mailboxes.create_alias(
        {"domainId": 1, "localPart": "hi", "destinationMailboxId": mailbox["publicId"]}
    )["alias"]
    rules = [
        {"name": "r", "field": "subject", "operator": "contains", "value": "x", "action": "discard"}
    ]
    api.ps.mailboxes.set_filters(mailbox["publicId"], rules)
    api.ps.mailboxes.set_signature(mailbox["publicId"], {"signatureText": "-- Ada"})
    api.ps.mailboxes.grant_share(mailbox["publicId"], other["publicId"], "admin")
    api.restart()
    shown = api.ps.mailboxes.get(mailbox["publicId"])["mailbox"]
    assert (shown["displayName"], shown["forwardTo"]) == (None, "a@x.org, b@y.org")
    assert api.ps.mailboxes.list_aliases()["aliases"] == [alias]
    assert api.ps.mailboxes.list_filters(mailbox["publicId"])["rules"][0]["action"] == "discard"
    assert api.ps.mailboxes.get_signature(mailbox["publicId"]) == {
        "signatureHtml": None,
        "signatureText": "-- Ada",
    }
    (share,) = api.ps.mailboxes.list_shares(mailbox["publicId"])["shares"]
    assert (share["sharedWithEmail"], share["access"]) == ("bob@example.com", "admin")
    api.ps.mailboxes.revoke_share(mailbox["publicId"], other["publicId"])
    api.ps.mailboxes.delete_alias(alias["id"])
    api.ps.mailboxes.delete(mailbox["publicId"])
    assert api.status_of(api.ps.mailboxes.get, mailbox["publicId"]) == 404


def test_notification_channels(api: Harness) -> None:
    created = api.ps.notification_channels.create(
        {
            "type": "discord",
            "name": "alerts",
            "events": ["email.bounced"],
            "config": {"webhookUrl": "https://discord.com/api/webhooks/1/very-secret-token"},
        }
    )["channel"]
    channel = created["publicId"]
    assert "very-secret-token" not in str(created)
    api.restart()
    assert api.ps.notification_channels.get(channel)["channel"] == created
    api.ps.notification_channels.update(channel, {"name": "ops", "events": ["email.complained"]})
    api.restart()
    shown = api.ps.notification_channels.get(channel)["channel"]
    assert (shown["name"], shown["events"], shown["configSummary"]) == (
        "ops",
        ["email.complained"],
        created["configSummary"],  # config left out: kept
    )
    assert [c["publicId"] for c in api.ps.notification_channels.list()["channels"]] == [channel]
    api.ps.notification_channels.delete(channel)
    assert api.status_of(api.ps.notification_channels.get, channel) == 404


def test_segments(api: Harness) -> None:
    ada = api.ps.contacts.create({"email": "ada@gmail.com"})["contact"]["publicId"]
    bob = api.ps.contacts.create({"email": "bob@example.org"})["contact"]["publicId"]
    rules = {
        "operator": "and",
        "conditions": [{"field": "email", "comparator": "ends_with", "value": "@GMAIL.com"}],
    }
    segment = api.ps.segments.create({"name": "gmail", "rules": rules})["segment"]
    assert segment["contactCount"] == 1
    api.restart()
    assert api.ps.segments.get(segment["publicId"])["segment"]["rules"] == rules
    assert [s["publicId"] for s in api.ps.segments.list()["segments"]] == [segment["publicId"]]
    api.ps.segments.add_contacts(segment["publicId"], {"contact_ids": [bob]})
    api.ps.segments.update(segment["publicId"], {"name": "gmail and bob"})
    api.restart()
    shown = api.ps.segments.get(segment["publicId"])["segment"]
    assert (shown["name"], shown["contactCount"]) == ("gmail and bob", 2)
    members = api.ps.segments.members(segment["publicId"])["contacts"]
    assert [m["publicId"] for m in members] == [ada, bob]
    api.ps.segments.remove_contact(segment["publicId"], bob)
    assert api.ps.segments.get(segment["publicId"])["segment"]["contactCount"] == 1
    api.ps.segments.delete(segment["publicId"])
    assert api.status_of(api.ps.segments.get, segment["publicId"]) == 404


def test_signup_forms(api: Harness) -> None:
    segment = api.ps.segments.create({"name": "leads"})["segment"]["publicId"]
    fields = [
        {"name": "email", "type": "email", "label": "Email", "required": True},
        {"name": "first_name", "type": "text", "label": "Name"},
        {"name": "company", "type": "text", "label": "Company", "required": True},
    ]
    form = api.ps.signup_forms.create({"name": "Leads", "fields": fields, "segment_id": segment})[
        "signupForm"
    ]
    api.restart()
    assert api.ps.signup_forms.get(form["publicId"])["signupForm"]["fields"] == fields
    assert [f["publicId"] for f in api.ps.signup_forms.list()["signupForms"]] == [form["publicId"]]
    assert api.status_of(api.ps.signup_forms.submit, form["publicId"], {"email": "a@b.org"}) == 422
    answer = api.ps.signup_forms.submit(
        form["publicId"], {"email": "lead@example.org", "first_name": "Lea", "company": "Acme"}
    )
    assert answer["success"] is True
    api.ps.signup_forms.update(
        form["publicId"], {"active": False, "redirect_url": "https://x.test/ok"}
    )
    api.restart()
    shown = api.ps.signup_forms.get(form["publicId"])["signupForm"]
    assert (shown["active"], shown["submissionCount"], shown["redirectUrl"]) == (
        False,
        1,
        "https://x.test/ok",
    )
    contact = api.ps.contacts.get_by_email("lead@example.org")["contact"]
    assert (contact["firstName"], contact["properties"]) == ("Lea", {"company": "Acme"})
    assert api.ps.segments.get(segment)["segment"]["contactCount"] == 1
    api.ps.signup_forms.delete(form["publicId"])
    assert api.status_of(api.ps.signup_forms.get, form["publicId"]) == 404


def test_subscription_topics(api: Harness) -> None:
    topic = api.ps.subscription_topics.create({"name": "News", "description": "Monthly"})["topic"]
    contact = api.ps.contacts.create({"email": "ada@example.org"})["contact"]["publicId"]
    api.ps.subscription_topics.subscribe(contact, topic["publicId"])
    api.restart()
    detail = api.ps.subscription_topics.get(topic["publicId"])
    assert (detail["topic"], detail["subscriberCount"]) == (topic, 1)
    assert api.ps.subscription_topics.list()["topics"] == [topic]
    api.ps.subscription_topics.update(topic["publicId"], {"description": None})
    api.ps.subscription_topics.unsubscribe(contact, topic["publicId"])
    api.restart()
    assert api.ps.subscription_topics.get(topic["publicId"])["topic"]["description"] is None
    (subscription,) = api.ps.subscription_topics.get_contact_subscriptions(contact)["subscriptions"]
    assert subscription["subscribed"] is False
    opted_out = api.ps.subscription_topics.list_subscribers(
        topic["publicId"], {"subscribed": False}
    )
    assert [s["contactPublicId"] for s in opted_out["subscribers"]] == [contact]
    api.ps.subscription_topics.delete(topic["publicId"])
    assert api.status_of(api.ps.subscription_topics.get, topic["publicId"]) == 404


def test_suppressions(api: Harness) -> None:
    added = api.ps.suppressions.add({"email": "Gone@Example.org", "reason": "manual"})
    assert added["suppression"]["email"] == "gone@example.org"
    api.restart()
    assert [s["email"] for s in api.ps.suppressions.list()["suppressions"]] == ["gone@example.org"]
    again = api.ps.suppressions.add({"email": "gone@example.org"})  # already there: no error
    assert again["suppression"]["id"] == added["suppression"]["id"]
    api.ps.suppressions.remove("gone@example.org")
    api.restart()
    assert api.ps.suppressions.list()["suppressions"] == []
    assert api.status_of(api.ps.suppressions.remove, "gone@example.org") == 404


def test_templates(api: Harness) -> None:
    made = api.ps.templates.create(
        {"name": "Welcome", "subject": "Hi {{name}}", "html": "<p>{{name}}</p>"}
    )
    template = made["template"]
    assert (template["version"], template["variables"], template["published"]) == (
        1,
        ["name"],
        False,
    )
    api.restart()
    assert api.ps.templates.get(template["publicId"])["template"] == template
    assert [t["publicId"] for t in api.ps.templates.list()["templates"]] == [template["publicId"]]
    api.ps.templates.update(template["publicId"], {"text": "Hello {{name}} at {{company}}"})
    api.ps.templates.publish(template["publicId"])
    api.restart()
    shown = api.ps.templates.get(template["publicId"])["template"]
    assert (shown["version"], shown["published"]) == (2, True)
    assert shown["variables"] == ["name", "company"]
    rendered = api.ps.templates.render(template["publicId"], {"name": "Ada"})
    assert (rendered["text"], rendered["missing_variables"]) == ("Hello Ada at ", ["company"])
    api.ps.templates.delete(template["publicId"])
    assert api.status_of(api.ps.templates.get, template["publicId"]) == 404


def test_webhooks(api: Harness) -> None:
    made = api.ps.webhooks.create({"url": "http://127.0.0.1:9/h", "events": ["email.sent"]})
    webhook, secret = made["webhook"], made["signingSecret"]
    api.restart()
    assert api.ps.webhooks.get(webhook["id"])["webhook"] == webhook
    assert api.ps.webhooks.list()["webhooks"] == [webhook]
    api.ps.webhooks.update(webhook["id"], {"events": ["email.bounced"], "enabled": False})
    rotated = api.ps.webhooks.rotate_secret(webhook["id"], grace_hours=2)
    assert rotated["signingSecret"] != secret
    api.restart()
    shown = api.ps.webhooks.get(webhook["id"])["webhook"]
    assert (shown["events"], shown["active"]) == (["email.bounced"], False)
    assert shown["previousSecretExpiresAt"] is not None
    api.ps.webhooks.delete(webhook["id"])
    assert api.status_of(api.ps.webhooks.get, webhook["id"]) == 404


def test_workflows(api: Harness) -> None:
    workflow = api.ps.workflows.create({"name": "Onboard", "trigger_type": "manual"})["workflow"]
    assert workflow["status"] == "draft"
    graph = {
        "nodes": [{"id": 1, "type": "trigger"}, {"id": 2, "type": "wait"}],
        "edges": [{"from": 1, "to": 2}],
    }
    api.ps.workflows.put_graph(workflow["publicId"], graph)
    api.restart()
    assert api.ps.workflows.get(workflow["publicId"])["workflow"] == workflow
    assert api.ps.workflows.get_graph(workflow["publicId"])["graph"] == graph
    assert api.ps.workflows.list()["data"] == [workflow]
    api.ps.workflows.update(workflow["publicId"], {"name": "Onboarding"})
    api.ps.workflows.activate(workflow["publicId"])
    api.restart()
    shown = api.ps.workflows.get(workflow["publicId"])["workflow"]
    assert (shown["name"], shown["status"]) == ("Onboarding", "active")
    contact = api.ps.contacts.create({"email": "ada@example.org"})["contact"]["publicId"]
    run = api.ps.workflows.trigger(workflow["publicId"], {"contact_id": contact})["run"]
    assert (run["status"], run["nodesVisited"]) == ("completed", 2)
    api.ps.workflows.delete(workflow["publicId"])
    assert api.status_of(api.ps.workflows.get, workflow["publicId"]) == 404


def test_forward_takes_50_recipients_in_each_field(api: Harness) -> None:
    received = api.sb.receive(
        from_="ada@example.org", to=["help@example.com"], subject="S", text="T"
    )
    to = [f"to{i}@example.org" for i in range(50)]
    cc = [f"cc{i}@example.org" for i in range(50)]
    sent = api.ps.inbound_emails.forward(
        received["id"], {"from": "help@example.com", "to": to, "cc": cc}
    )
    email = api.sb.email(sent["id"])
    assert (len(email.to), len(email.cc), email.subject) == (50, 50, "Fwd: S")
    assert (
        api.status_of(
            api.ps.inbound_emails.forward,
            received["id"],
            {"from": "help@example.com", "to": [*to, "x@y.org"]},
        )
        == 422
    )


def test_channels_filtered_by_domain_hear_only_its_mail(api: Harness) -> None:
    other = api.ps.domains.create({"name": "other.example.net"})["domain"]["id"]
    for domain_id in (1, other):
        api.ps.notification_channels.create(
            {
                "type": "slack",
                "name": f"d{domain_id}",
                "events": ["email.bounced"],
                "config": {"webhookUrl": "https://hooks.slack.com/services/x"},
                "domainId": domain_id,
            }
        )
    api.ps.emails.send({**EMAIL, "to": ["bounced@example.org"]})  # from example.com, domain 1
    api.restart()
    channels = api.ps.notification_channels.list()["channels"]
    counts = {
        c["name"]: len(api.ps.notification_channels.list_deliveries(c["publicId"])["deliveries"])
        for c in channels
    }
    assert counts == {"d1": 1, f"d{other}": 0}

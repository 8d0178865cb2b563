"""Every method of tests/data/endpoints.json, through both clients, against the sandbox.

Each method gets valid arguments from :data:`CALLS` (what it needs is created
first, through the API), is called through ``PostStack`` and through
``AsyncPostStack``, and its answer must have the kind the spec promises (JSON,
text or bytes) and fit the response type its endpoint definition names, key
by key (``spec_shapes.check``). The table must cover the spec exactly: a new
endpoint fails here until the sandbox answers it.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from poststack import AsyncPostStack, PostStack
from poststack.testing import Sandbox

from .helpers import Receiver, receiver_fixture
from .spec_shapes import HTTP_METHODS, SPEC, check, promised_type

Args = tuple[tuple[Any, ...], dict[str, Any]]


@dataclass
class World:
    """A sandbox with one of everything, and factories for fresh ones (made through the API)."""

    sb: Sandbox
    ps: PostStack
    hooks: Receiver
    numbers: Iterator[int] = field(default_factory=itertools.count)

    def n(self) -> int:
        return next(self.numbers)

    # -- factories --

    def domain(self) -> int:
        return int(self.ps.domains.create({"name": f"d{self.n()}.example.com"})["domain"]["id"])

    def contact(self) -> str:
        created = self.ps.contacts.create(
            {"email": f"c{self.n()}@example.org", "first_name": "Ada"}
        )
        return created["contact"]["publicId"]

    def segment(self, *contacts: str) -> str:
        segment = self.ps.segments.create({"name": f"s{self.n()}"})["segment"]["publicId"]
        if contacts:
            self.ps.segments.add_contacts(segment, {"contact_ids": list(contacts)})
        return segment

    def template(self, *, published: bool = True) -> str:
        created = self.ps.templates.create(
            {"name": f"t{self.n()}", "subject": "Hi {{name}}", "html": "<p>Hi {{name}}</p>"}
        )
        template_id = created["template"]["publicId"]
        if published:
            self.ps.templates.publish(template_id)
        return template_id

    def broadcast(self, *, sent: bool = False, ab: bool = False) -> str:
        segment = self.segment(self.contact(), self.contact())
        body: dict[str, Any] = {
            "from": "news@example.com",
            "subject": "News",
            "segment_id": segment,
            "html": "<p>News</p>",
        }
        if ab:
            body["ab_test"] = {
                "variants": [{"subject": "A", "weight": 50}, {"subject": "B", "weight": 50}],
                "test_sample_size": 50,
            }
        broadcast = self.ps.broadcasts.create(body)["broadcast"]["publicId"]
        if sent:
            self.ps.broadcasts.send(broadcast)
        return broadcast

    def webhook(self) -> tuple[int, int]:
        webhook = self.ps.webhooks.create({"url": self.hooks.url, "events": ["email.delivered"]})
        webhook_id = webhook["webhook"]["id"]
        done = len(self.sb.webhook_deliveries)
        self.ps.webhooks.test(webhook_id)
        delivery = self.sb.wait_for_deliveries(done + 1)[-1]
        return webhook_id, delivery.id

    def failed_webhook(self) -> int:
        webhook = self.ps.webhooks.create({"url": "http://10.0.0.1/hook", "events": ["email.sent"]})
        webhook_id = webhook["webhook"]["id"]
        done = len(self.sb.webhook_deliveries)
        self.ps.webhooks.test(webhook_id)  # refused: not loopback, so it fails at once
        self.sb.wait_for_deliveries(done + 1)
        return int(webhook_id)

    def mailbox(self) -> str:
        created = self.ps.mailboxes.create(
            {"domainId": self.domain_id, "localPart": f"m{self.n()}", "password": "correct horse"}
        )
        return created["mailbox"]["publicId"]

    def alias(self) -> int:
        created = self.ps.mailboxes.create_alias(
            {
                "domainId": self.domain_id,
                "localPart": f"a{self.n()}",
                "destinationMailboxId": self.mailbox(),
            }
        )
        return int(created["alias"]["id"])

    def inbound(self) -> tuple[int, int]:
        received = self.sb.receive(
            from_="Ada <ada@example.org>",
            to=[f"support@d{self.n()}.example.com"],
            subject="Help",
            text="Hello",
            attachments=[{"filename": "a.txt", "content": base64.b64encode(b"hi").decode()}],
        )
        attachments = self.ps.inbound_emails.list_attachments(received["id"])["attachments"]
        return int(received["id"]), int(attachments[0]["id"])

    def channel(self) -> tuple[str, int]:
        created = self.ps.notification_channels.create(
            {
                "type": "slack",
                "name": f"n{self.n()}",
                "events": ["email.bounced"],
                "config": {"webhookUrl": "https://hooks.slack.com/services/T0/B0/secretsecret"},
            }
        )
        channel = created["channel"]["publicId"]
        self.ps.notification_channels.test(channel)
        deliveries = self.ps.notification_channels.list_deliveries(channel)["deliveries"]
        return channel, int(deliveries[0]["id"])

    def topic(self) -> str:
        return self.ps.subscription_topics.create({"name": f"topic{self.n()}"})["topic"]["publicId"]

    def subscribed(self) -> tuple[str, str]:
        contact, topic = self.contact(), self.topic()
        self.ps.subscription_topics.subscribe(contact, topic)
        return contact, topic

    def workflow(self, *, trigger: str = "manual", active: bool = True) -> str:
        body: dict[str, Any] = {"name": f"w{self.n()}", "trigger_type": trigger}
        if trigger == "custom":
            body["trigger_config"] = {"event": "signed_up"}
        workflow = self.ps.workflows.create(body)["workflow"]["publicId"]
        self.ps.workflows.put_graph(workflow, GRAPH)
        if active:
            self.ps.workflows.activate(workflow)
        return workflow

    def form(self) -> str:
        created = self.ps.signup_forms.create(
            {"name": f"f{self.n()}", "segment_id": self.segment_id}
        )
        return created["signupForm"]["publicId"]

    def api_key(self) -> int:
        created = self.ps.api_keys.create({"name": f"k{self.n()}", "permission": "sending_access"})
        return int(created["id"])

    def email(self, *, scheduled: bool = False) -> str:
        payload: Any = {**EMAIL, "subject": f"e{self.n()}"}
        if scheduled:
            payload["scheduled_at"] = "2999-01-01T00:00:00Z"
        return self.ps.emails.send(payload)["id"]

    def select_property(self) -> int:
        created = self.ps.contact_properties.create(
            {
                "name": f"plan{self.n()}",
                "label": "Plan",
                "type": "select",
                "options": ["free", "pro"],
            }
        )
        return int(created["property"]["id"])

    def staged_rotation(self) -> int:
        domain = self.domain()
        self.ps.domains.start_dkim_rotation(domain)
        self.ps.domains.verify(domain)  # the new key "appears in DNS"
        return domain

    # -- shared objects, made once --

    @property
    def domain_id(self) -> int:
        return self._shared("domain", self.domain)

    @property
    def segment_id(self) -> str:
        return self._shared("segment", lambda: self.segment(self.contact()))

    def _shared(self, name: str, make: Callable[[], Any]) -> Any:
        cache = self.__dict__.setdefault("_cache", {})
        if name not in cache:
            cache[name] = make()
        return cache[name]


EMAIL = {"from": "hello@example.com", "to": ["ada@example.org"], "subject": "Hi", "text": "Hi"}
GRAPH = {
    "nodes": [{"id": "start", "type": "trigger"}, {"id": "mail", "type": "send_email"}],
    "edges": [{"from": "start", "to": "mail"}],
}


def _(*args: Any, **kwargs: Any) -> Args:
    return args, kwargs


CALLS: dict[str, Callable[[World], Args]] = {
    # api_keys
    "api_keys.create": lambda w: _({"name": "ci", "permission": "sending_access"}),
    "api_keys.get": lambda w: _(w.api_key()),
    "api_keys.list": lambda w: _(),
    "api_keys.revoke": lambda w: _(w.api_key()),
    "api_keys.rotate": lambda w: _(w.api_key()),
    # broadcasts
    "broadcasts.cancel": lambda w: _(w.broadcast()),
    "broadcasts.create": lambda w: _(
        {"from": "news@example.com", "subject": "S", "segment_id": w.segment_id, "text": "T"}
    ),
    "broadcasts.end_ab_test": lambda w: _(w.broadcast(sent=True, ab=True)),
    "broadcasts.get": lambda w: _(w.broadcast()),
    "broadcasts.get_variant_stats": lambda w: _(w.broadcast(sent=True, ab=True)),
    "broadcasts.get_variants": lambda w: _(w.broadcast(sent=True, ab=True)),
    "broadcasts.list": lambda w: _({"per_page": 5}),
    "broadcasts.list_performance": lambda w: _({"metric": "open_rate", "limit": 3}),
    "broadcasts.non_clickers": lambda w: _(w.broadcast(sent=True), limit=1),
    "broadcasts.non_openers": lambda w: _(w.broadcast(sent=True), limit=0),
    "broadcasts.performance": lambda w: _(w.broadcast(sent=True, ab=True)),
    "broadcasts.resend": lambda w: _(w.broadcast(sent=True), {"target": "non_clickers"}),
    "broadcasts.send": lambda w: _(w.broadcast()),
    "broadcasts.send_test": lambda w: _(w.broadcast(), {"to": ["qa@example.org"]}),
    "broadcasts.update": lambda w: _(w.broadcast(), {"subject": "Changed"}),
    # contact_properties
    "contact_properties.create": lambda w: _(
        {"name": f"p{w.n()}", "label": "Age", "type": "number"}
    ),
    "contact_properties.delete": lambda w: _(w.select_property()),
    "contact_properties.list": lambda w: _(),
    "contact_properties.option_usage": lambda w: _(w.select_property()),
    "contact_properties.update": lambda w: _(w.select_property(), {"label": "Tier"}),
    # contacts
    "contacts.create": lambda w: _({"email": f"new{w.n()}@example.org", "last_name": "L"}),
    "contacts.delete": lambda w: _(w.contact()),
    "contacts.export_csv": lambda w: _(segment_id=w.segment_id),
    "contacts.get": lambda w: _(w.contact()),
    "contacts.get_by_email": lambda w: _(w.ps.contacts.get(w.contact())["contact"]["email"]),
    "contacts.import_": lambda w: _(
        {"contacts": [{"email": f"i{w.n()}@example.org"}, {"email": "bad"}]}
    ),
    "contacts.list": lambda w: _({"search": "example.org", "per_page": 2}),
    "contacts.unsubscribe": lambda w: _(w.contact()),
    "contacts.update": lambda w: _(w.contact(), {"first_name": "Grace"}),
    # domains
    "domains.activate_dkim_rotation": lambda w: _(w.staged_rotation(), force=True),
    "domains.assign_ip": lambda w: _(w.domain(), 7),
    "domains.cancel_dkim_rotation": lambda w: _(w.staged_rotation()),
    "domains.create": lambda w: _({"name": f"new{w.n()}.example.com", "region": "eu-west-1"}),
    "domains.delete": lambda w: _(w.domain()),
    "domains.get": lambda w: _(w.domain_id),
    "domains.get_dmarc_reports": lambda w: _(1, {"per_page": 5}),  # example.com, which sends
    "domains.get_dmarc_sources": lambda w: _(1, days=0),
    "domains.get_dmarc_stats": lambda w: _(1, days=30),
    "domains.get_inbox_placement": lambda w: _(1, days=7),
    "domains.list": lambda w: _(),
    "domains.start_dkim_rotation": lambda w: _(w.domain()),
    "domains.unassign_ip": lambda w: _(w.domain()),
    "domains.update": lambda w: _(
        w.domain(), {"open_tracking": True, "tracking_domain": "t.example.com"}
    ),
    "domains.verify": lambda w: _(w.domain()),
    # email_validations
    "email_validations.validate": lambda w: _("ada@gmail.com"),
    "email_validations.validate_batch": lambda w: _(
        ["ok@example.org", "bounced@example.org", "nope"]
    ),
    # emails
    "emails.batch": lambda w: _({"emails": [EMAIL, {**EMAIL, "to": ["delayed@example.org"]}]}),
    "emails.cancel": lambda w: _(w.email(scheduled=True)),
    "emails.get": lambda w: _(w.email()),
    "emails.get_events": lambda w: _(w.email()),
    "emails.get_insights": lambda w: _(w.email()),
    "emails.list": lambda w: _({"status": "delivered", "per_page": 3}),
    "emails.preview": lambda w: _({**EMAIL, "html": "<p>Hi</p>"}),
    "emails.reschedule": lambda w: _(w.email(scheduled=True), "2998-01-01T00:00:00Z"),
    "emails.send": lambda w: _(
        {**EMAIL, "template_id": w.template(), "variables": {"name": "Ada"}}
    ),
    "emails.spam_preview": lambda w: _({**EMAIL, "subject": "FREE MONEY!!!"}),
    # inbound_emails
    "inbound_emails.download_attachment": lambda w: _(*w.inbound()),
    "inbound_emails.draft_reply": lambda w: _(w.inbound()[0]),
    "inbound_emails.forward": lambda w: _(
        w.inbound()[0],
        {"from": "support@example.com", "to": ["team@example.org"], "message": "FYI"},
    ),
    "inbound_emails.get": lambda w: _(w.inbound()[0]),
    "inbound_emails.list": lambda w: _({"per_page": 2}),
    "inbound_emails.list_attachments": lambda w: _(w.inbound()[0]),
    "inbound_emails.reply": lambda w: _(
        w.inbound()[0], {"from": "support@example.com", "text": "On it"}
    ),
    # mailboxes
    "mailboxes.change_password": lambda w: _(w.mailbox(), "another horse"),
    "mailboxes.create": lambda w: _(
        {"domainId": w.domain_id, "localPart": f"new{w.n()}", "password": "longenough"}
    ),
    "mailboxes.create_alias": lambda w: _(
        {"domainId": w.domain_id, "localPart": f"al{w.n()}", "destinationMailboxId": w.mailbox()}
    ),
    "mailboxes.delete": lambda w: _(w.mailbox()),
    "mailboxes.delete_alias": lambda w: _(w.alias()),
    "mailboxes.get": lambda w: _(w.mailbox()),
    "mailboxes.get_signature": lambda w: _(w.mailbox()),
    "mailboxes.grant_share": lambda w: _(w.mailbox(), w.mailbox(), "write"),
    "mailboxes.list": lambda w: _({"domain_id": w.domain_id}),
    "mailboxes.list_aliases": lambda w: _(),
    "mailboxes.list_filters": lambda w: _(w.mailbox()),
    "mailboxes.list_shares": lambda w: _(w.mailbox()),
    "mailboxes.revoke_share": lambda w: _(*_shared_pair(w)),
    "mailboxes.set_filters": lambda w: _(
        w.mailbox(),
        [
            {
                "name": "news",
                "field": "from",
                "operator": "contains",
                "value": "news@",
                "action": "fileinto",
                "actionArg": "News",
            }
        ],
    ),
    "mailboxes.set_signature": lambda w: _(
        w.mailbox(), {"signatureHtml": "<b>A</b>", "signatureText": None}
    ),
    "mailboxes.unread_summary": lambda w: _(),
    "mailboxes.update": lambda w: _(
        w.mailbox(), {"displayName": "Ada", "forwardTo": "a@example.org"}
    ),
    # notification_channels
    "notification_channels.create": lambda w: _(
        {
            "type": "telegram",
            "name": "t",
            "events": ["email.bounced"],
            "config": {"botToken": "123:abc", "chatId": "42"},
        }
    ),
    "notification_channels.delete": lambda w: _(w.channel()[0]),
    "notification_channels.get": lambda w: _(w.channel()[0]),
    "notification_channels.list": lambda w: _(),
    "notification_channels.list_deliveries": lambda w: _(w.channel()[0], {"per_page": 5}),
    "notification_channels.replay_delivery": lambda w: _(*w.channel()),
    "notification_channels.test": lambda w: _(w.channel()[0]),
    "notification_channels.update": lambda w: _(
        w.channel()[0], {"name": "renamed", "enabled": False}
    ),
    # segments
    "segments.add_contacts": lambda w: _(w.segment(), {"contact_ids": [w.contact()]}),
    "segments.broadcasts": lambda w: _(w.segment_id),
    "segments.create": lambda w: _(
        {
            "name": "gmail",
            "rules": {
                "operator": "and",
                "conditions": [
                    {"field": "email", "comparator": "ends_with", "value": "@gmail.com"}
                ],
            },
        }
    ),
    "segments.delete": lambda w: _(w.segment()),
    "segments.get": lambda w: _(w.segment_id),
    "segments.growth": lambda w: _(w.segment_id, days=3),
    "segments.list": lambda w: _(),
    "segments.members": lambda w: _(w.segment_id, {"per_page": 10}),
    "segments.preview_rules": lambda w: _(
        {
            "rules": {
                "operator": "or",
                "conditions": [{"field": "unsubscribed", "comparator": "equals", "value": False}],
            }
        }
    ),
    "segments.remove_contact": lambda w: _(*_segment_pair(w)),
    "segments.update": lambda w: _(w.segment(), {"description": "changed"}),
    # signup_forms
    "signup_forms.create": lambda w: _(
        {"name": "newsletter", "topic_id": w.topic(), "success_message": "Welcome!"}
    ),
    "signup_forms.delete": lambda w: _(w.form()),
    "signup_forms.get": lambda w: _(w.form()),
    "signup_forms.list": lambda w: _({"page": 1}),
    "signup_forms.submit": lambda w: _(w.form(), {"email": f"form{w.n()}@example.org"}),
    "signup_forms.update": lambda w: _(w.form(), {"active": False}),
    # subscription_topics
    "subscription_topics.create": lambda w: _({"name": "Product news", "description": "Monthly"}),
    "subscription_topics.delete": lambda w: _(w.topic()),
    "subscription_topics.get": lambda w: _(w.subscribed()[1]),
    "subscription_topics.get_contact_subscriptions": lambda w: _(w.subscribed()[0]),
    "subscription_topics.list": lambda w: _(),
    "subscription_topics.list_subscribers": lambda w: _(w.subscribed()[1], {"subscribed": True}),
    "subscription_topics.subscribe": lambda w: _(w.contact(), w.topic()),
    "subscription_topics.unsubscribe": lambda w: _(*w.subscribed()),
    "subscription_topics.update": lambda w: _(w.topic(), {"description": None}),
    # suppressions
    "suppressions.add": lambda w: _({"email": f"s{w.n()}@example.org", "reason": "manual"}),
    "suppressions.list": lambda w: _({"reason": "manual"}),
    "suppressions.remove": lambda w: _(
        w.ps.suppressions.add({"email": f"r{w.n()}+x@example.org"})["suppression"]["email"]
    ),
    # templates
    "templates.create": lambda w: _(
        {"name": "receipt", "subject": "Order {{id}}", "text": "Thanks"}
    ),
    "templates.delete": lambda w: _(w.template()),
    "templates.duplicate": lambda w: _(w.template()),
    "templates.get": lambda w: _(w.template()),
    "templates.get_presets": lambda w: _(),
    "templates.list": lambda w: _({"search": "t"}),
    "templates.publish": lambda w: _(w.template(published=False)),
    "templates.render": lambda w: _(w.template(), {"name": "Ada"}),
    "templates.unpublish": lambda w: _(w.template()),
    "templates.update": lambda w: _(w.template(), {"subject": "Hello {{name}}"}),
    "templates.use_preset": lambda w: _("welcome"),
    # webhooks
    "webhooks.batch_replay": lambda w: _(w.failed_webhook()),
    "webhooks.create": lambda w: _({"url": w.hooks.url, "events": ["email.bounced"]}),
    "webhooks.delete": lambda w: _(w.webhook()[0]),
    "webhooks.get": lambda w: _(w.webhook()[0]),
    "webhooks.get_deliveries": lambda w: _(w.webhook()[0], {"per_page": 5}),
    "webhooks.list": lambda w: _(),
    "webhooks.replay": lambda w: _(*w.webhook()),
    "webhooks.rotate_secret": lambda w: _(w.webhook()[0], grace_hours=0),
    "webhooks.test": lambda w: _(w.webhook()[0]),
    "webhooks.update": lambda w: _(w.webhook()[0], {"enabled": False}),
    # workflows
    "workflows.activate": lambda w: _(w.workflow(active=False)),
    "workflows.create": lambda w: _({"name": "welcome", "trigger_type": "contact.created"}),
    "workflows.delete": lambda w: _(w.workflow()),
    "workflows.get": lambda w: _(w.workflow()),
    "workflows.get_graph": lambda w: _(w.workflow()),
    "workflows.list": lambda w: _(),
    "workflows.pause": lambda w: _(w.workflow()),
    "workflows.post_event": lambda w: _({"event": "signed_up", "contact_id": _custom_contact(w)}),
    "workflows.put_graph": lambda w: _(w.workflow(active=False), GRAPH),
    "workflows.trigger": lambda w: _(w.workflow(), {"contact_id": w.contact()}),
    "workflows.update": lambda w: _(w.workflow(), {"name": "renamed"}),
    "workflows.validate_graph": lambda w: _(w.workflow(active=False)),
}


def _shared_pair(w: World) -> tuple[str, str]:
    owner, target = w.mailbox(), w.mailbox()
    w.ps.mailboxes.grant_share(owner, target)
    return owner, target


def _segment_pair(w: World) -> tuple[str, str]:
    contact = w.contact()
    return w.segment(contact), contact


def _custom_contact(w: World) -> str:
    w.workflow(trigger="custom")
    return w.contact()


@pytest.fixture(scope="module")
def hooks() -> Iterator[Receiver]:
    yield from receiver_fixture()


@pytest.fixture(scope="module")
def world(hooks: Receiver) -> Iterator[World]:
    with (
        Sandbox() as sb,
        PostStack(api_key=sb.api_key, base_url=sb.base_url, timeout=30) as ps,
    ):
        ps.emails.send(EMAIL)  # mail from example.com (domain 1) for the DMARC reports
        yield World(sb, ps, hooks)


def test_the_table_covers_the_spec_exactly() -> None:
    assert len(SPEC) == 156
    names = {entry["name"] for entry in HTTP_METHODS}
    assert set(CALLS) == names, (sorted(names - set(CALLS)), sorted(set(CALLS) - names))


def _answer_fits(entry: dict[str, Any], answer: Any) -> None:
    kind = entry["http"]["response"]
    if kind == "text":
        assert isinstance(answer, str)
    elif kind == "bytes":
        assert isinstance(answer, bytes)
    else:
        assert isinstance(answer, dict)
    check(answer, promised_type(entry), entry["name"])


@pytest.mark.parametrize("entry", HTTP_METHODS, ids=[e["name"] for e in HTTP_METHODS])
def test_sync_client(world: World, entry: dict[str, Any]) -> None:
    args, kwargs = CALLS[entry["name"]](world)
    method = getattr(getattr(world.ps, entry["resource"]), entry["method"])
    _answer_fits(entry, method(*args, **kwargs))


@pytest.mark.parametrize("entry", HTTP_METHODS, ids=[e["name"] for e in HTTP_METHODS])
def test_async_client(world: World, entry: dict[str, Any]) -> None:
    args, kwargs = CALLS[entry["name"]](world)
    sb = world.sb

    async def call() -> Any:
        async with AsyncPostStack(api_key=sb.api_key, base_url=sb.base_url, timeout=30) as client:
            method = getattr(getattr(client, entry["resource"]), entry["method"])
            return await method(*args, **kwargs)

    _answer_fits(entry, asyncio.run(call()))


def test_the_local_method_verifies_a_sandbox_signature(world: World) -> None:
    (local,) = [e for e in SPEC if e["kind"] != "http"]
    assert local["name"] == "webhooks.verify"
    created = world.ps.webhooks.create({"url": world.hooks.url, "events": ["email.delivered"]})
    done = len(world.sb.webhook_deliveries)
    world.ps.webhooks.test(created["webhook"]["id"])
    delivery = world.sb.wait_for_deliveries(done + 1)[-1]
    assert world.ps.webhooks.verify(delivery.body, delivery.signature, created["signingSecret"])
    assert not world.ps.webhooks.verify(delivery.body, delivery.signature, "whsec_other")

"""The Django webhook view and signals, fed by the sandbox's real signed deliveries.

The project is served over real HTTP (a threaded WSGI server on a loopback
port); the sandbox's email lifecycle delivers each event to it. The models and
receivers are those of docs/django.md, loaded as the test project's shop app.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage, get_connection
from django.test import Client, override_settings
from django.urls import resolve, reverse

from poststack.contrib.django import CacheEventStore, PostStackMessage, inbound, tracking
from poststack.inbound import InboundMessage
from poststack.testing import Sandbox
from poststack.webhooks import Claim, Event, InboundEvent
from tests.contrib.django_helpers import connected, live_site, setup_django, shop_models
from tests.webhook_helpers import EMAIL_EVENTS, client_for, register, signed_request

SECRET = "whsec_django_tests"


@pytest.fixture(scope="module", autouse=True)
def _django() -> None:
    setup_django()


@pytest.fixture(scope="module")
def shop() -> dict[str, Any]:
    return shop_models()


@dataclass
class Site:
    url: str
    webhook_id: int
    secret: str


class Events:
    """Records what a signal sends, from the server's threads; waits without sleeping."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.messages: list[InboundMessage] = []
        self._changed = threading.Condition()

    def __call__(self, sender: object, event: Event, **kwargs: Any) -> None:
        with self._changed:
            self.events.append(event)
            if "message" in kwargs:
                self.messages.append(kwargs["message"])
            self._changed.notify_all()

    def wait_for(self, n: int, timeout: float = 15.0) -> list[Event]:
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.events) >= n, timeout):
                raise TimeoutError(f"expected {n} events, got {len(self.events)}")
            return list(self.events)


@pytest.fixture
def site(sb: Sandbox) -> Iterator[Site]:
    """The project live, its webhook registered for every email event, the settings pointed."""
    with live_site() as url:
        webhook_id, secret = register(sb, url, [*EMAIL_EVENTS, "inbound.received"])
        with override_settings(
            POSTSTACK_API_KEY=sb.api_key,
            POSTSTACK_BASE_URL=sb.base_url,
            POSTSTACK_WEBHOOK_SECRET=secret,
        ):
            yield Site(url, webhook_id, secret)


@pytest.fixture
def tracked() -> Iterator[Events]:
    events = Events()
    with connected(tracking, events):
        yield events


def test_events_reach_the_models_of_the_messages_they_are_about(
    sb: Sandbox, site: Site, shop: dict[str, Any], tracked: Events
) -> None:
    order_model = shop["Order"]
    ada = order_model.objects.create(email="ada@example.org")
    bob = order_model.objects.create(email="bounced@example.org")
    messages = [
        PostStackMessage("Your order", "Thanks!", to=[o.email], metadata={"order_id": str(o.pk)})
        for o in (ada, bob)
    ]
    assert get_connection().send_messages(messages) == 2  # one batch request
    for order, message in zip((ada, bob), messages, strict=True):
        order.poststack_id = message.poststack_id
        order.save(update_fields=["poststack_id"])
    # The lifecycle delivers queued, sent, then delivered or bounced for each.
    deliveries = sb.wait_for_deliveries(6, timeout=30)
    assert [(d.status_code, d.attempts) for d in deliveries] == [(200, 1)] * 6

    ada.refresh_from_db()
    bob.refresh_from_db()
    assert (ada.email_status, ada.email_problem) == ("delivered", "")
    assert bob.email_status == "bounced"
    assert bob.email_problem == "smtp; 550 5.1.1 The email account does not exist (sandbox)"

    by_email: dict[str | None, list[Event]] = {}
    for event in tracked.wait_for(6):
        assert event["type"] != "unknown"
        assert event["type"] != "inbound.received"
        by_email.setdefault(event["email_id"], []).append(event)
    assert set(by_email) == {ada.poststack_id, bob.poststack_id}
    for order in (ada, bob):
        assert {e["metadata"]["order_id"] for e in by_email[order.poststack_id]} == {str(order.pk)}
    assert [e["type"] for e in by_email[ada.poststack_id]] == [
        "email.queued",
        "email.sent",
        "email.delivered",
    ]
    bounce = by_email[bob.poststack_id][-1]
    assert bounce["type"] == "email.bounced"
    assert (bounce["recipient"], bounce["reason"]) == ("bounced@example.org", bob.email_problem)
    assert bounce["timestamp"] is not None


def test_a_redelivery_sends_no_second_signal(sb: Sandbox, site: Site, tracked: Events) -> None:
    EmailMessage("Hi", "Hello", None, ["ada@example.org"]).send()
    first = sb.wait_for_deliveries(3, timeout=30)
    with client_for(sb) as ps:
        ps.webhooks.replay(site.webhook_id, first[-1].id)
    replayed = sb.wait_for_deliveries(4, timeout=30)[-1]
    assert replayed.body == first[-1].body  # the same event again
    assert (replayed.status_code, json.loads(replayed.response_body or "")) == (
        200,
        {"received": True, "duplicate": True},
    )
    assert len(tracked.wait_for(3)) == 3


@pytest.fixture
def no_admin_mails() -> Iterator[None]:
    # A receiver's exception is a 500, which this project mails to its ADMINS: such
    # a mail would bring events of its own. Keep them out of the counts.
    request_log = logging.getLogger("django.request")
    request_log.disabled = True
    try:
        yield
    finally:
        request_log.disabled = False


def test_a_failing_receiver_gets_the_event_again(
    sb: Sandbox, site: Site, tracked: Events, no_admin_mails: None
) -> None:
    calls: list[str] = []

    def flaky(sender: object, event: Event, **kwargs: Any) -> None:
        calls.append(event["type"])
        if len(calls) == 1:
            raise ConnectionError("database is restarting")

    with connected(tracking, flaky):
        EmailMessage("Hi", "Hello", None, ["ada@example.org"]).send()
        deliveries = sb.wait_for_deliveries(3, timeout=30)
    assert [(d.event_type, d.status_code, d.attempts) for d in deliveries] == [
        ("email.queued", 200, 2),  # a 500 first, then handled
        ("email.sent", 200, 1),
        ("email.delivered", 200, 1),
    ]
    assert calls == ["email.queued", "email.queued", "email.sent", "email.delivered"]


def test_rotating_the_secret_with_a_list_of_secrets(
    sb: Sandbox, site: Site, tracked: Events
) -> None:
    old = site.secret
    with client_for(sb) as ps:
        new = ps.webhooks.rotate_secret(site.webhook_id, grace_hours=0)["signingSecret"]
        # Not deployed yet: the receiver has only the old secret, PostStack signs with the new.
        EmailMessage("Hi", "Hello", None, ["ada@example.org"]).send()
        refused = sb.wait_for_deliveries(3, timeout=30)
        assert [d.status_code for d in refused] == [401, 401, 401]
        with override_settings(POSTSTACK_WEBHOOK_SECRET=[new, old]):
            for delivery in refused:
                ps.webhooks.replay(site.webhook_id, delivery.id)
            replayed = sb.wait_for_deliveries(6, timeout=30)[3:]
    assert [d.status_code for d in replayed] == [200, 200, 200]
    assert [e["type"] for e in tracked.wait_for(3)] == [
        "email.queued",
        "email.sent",
        "email.delivered",
    ]


def test_inbound_mail_comes_as_a_parsed_message(
    sb: Sandbox, site: Site, shop: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    received = Events()
    with connected(inbound, received), caplog.at_level(logging.INFO, logger="shop.mail"):
        stored = sb.receive(
            from_="Grace Hopper <grace@example.org>",
            to=["support@example.com"],
            subject="Question about order 7",
            text="Where is it?",
            html="<p>Where is it?</p>",
            attachments=[
                {"filename": "photo.png", "content": "iVBORw0KGgo=", "content_type": "image/png"}
            ],
        )
        (event,) = received.wait_for(1)
        sb.wait_for_deliveries(1, timeout=30)
    assert event["type"] == "inbound.received"
    assert isinstance(event, dict)
    inbound_event: InboundEvent = event
    assert inbound_event["inbound_id"] == stored["id"]
    (message,) = received.messages
    assert message.id == stored["id"]
    assert str(message.from_) == "Grace Hopper <grace@example.org>"
    assert [a.address for a in message.to] == ["support@example.com"]
    assert (message.subject, message.text, message.html) == (
        "Question about order 7",
        "Where is it?",
        "<p>Where is it?</p>",
    )
    assert [(a.filename, a.content_type, a.size) for a in message.attachments] == [
        ("photo.png", "image/png", 8)
    ]
    # The docs' receiver logged it.
    assert (
        "mail from Grace Hopper <grace@example.org>: 'Question about order 7', 1 attachment"
        in caplog.text
    )


def test_other_events_come_as_unknown_tracking_events(
    sb: Sandbox, site: Site, tracked: Events
) -> None:
    with client_for(sb) as ps:
        ps.webhooks.test(site.webhook_id)
    (event,) = tracked.wait_for(1)
    assert event["type"] == "unknown"
    assert event["name"] == "webhook.test"
    assert event["raw"]["data"]["webhook_id"] == site.webhook_id


# -- the view itself, through Django's test client --


def post(client: Client, body: bytes, headers: dict[str, str]) -> Any:
    return client.post(
        reverse("poststack:webhook"),
        data=body,
        content_type="application/json",
        headers={k: v for k, v in headers.items() if k.lower() != "content-type"},
    )


@pytest.fixture
def configured() -> Iterator[None]:
    with override_settings(POSTSTACK_WEBHOOK_SECRET=SECRET):
        yield


def delivery(event_id: str = "evt_1") -> tuple[bytes, dict[str, str]]:
    return signed_request(
        {"id": event_id, "type": "email.delivered", "data": {"email_id": "em_1"}}, SECRET
    )


def test_what_the_view_answers(configured: None, tracked: Events) -> None:
    client = Client()
    body, headers = delivery()
    response = post(client, body, headers)
    assert (response.status_code, response.json()) == (200, {"received": True})
    assert post(client, body, {}).json() == {"detail": "Missing X-PostStack-Signature header"}
    assert post(client, body, {}).status_code == 401
    bad = post(client, body + b" ", headers)
    assert (bad.status_code, bad.json()) == (401, {"detail": "Invalid webhook signature"})
    array = b"[1]"
    not_object = post(
        client, array, signed_request({}, SECRET)[1] | {"X-PostStack-Signature": _sign(array)}
    )
    assert (not_object.status_code, not_object.json()["detail"]) == (
        400,
        "Webhook body is not a JSON object",
    )
    huge = b"{" + b" " * (5 * 1024 * 1024) + b"}"
    too_big = post(client, huge, {"X-PostStack-Signature": _sign(huge)})
    assert (too_big.status_code, too_big.json()) == (413, {"detail": "Webhook body too large"})
    assert client.head(reverse("poststack:webhook")).status_code == 200
    assert client.get(reverse("poststack:webhook")).status_code == 405
    assert len(tracked.events) == 1


def _sign(body: bytes) -> str:
    from poststack.webhooks import sign

    return sign(body, SECRET)


def test_csrf_and_login_middlewares_let_deliveries_in(configured: None, tracked: Events) -> None:
    with override_settings(MIDDLEWARE=["django.middleware.csrf.CsrfViewMiddleware"]):
        response = post(Client(enforce_csrf_checks=True), *delivery())
    assert response.status_code == 200
    view = resolve(reverse("poststack:webhook")).func
    assert getattr(view, "csrf_exempt", False) is True
    assert getattr(view, "login_required", True) is False  # LoginRequiredMiddleware reads it
    assert reverse("poststack:webhook") == "/webhooks/poststack/"


def test_a_missing_secret_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POSTSTACK_WEBHOOK_SECRET", raising=False)
    for value in (None, "", [""], 42):
        with (
            override_settings(POSTSTACK_WEBHOOK_SECRET=value),
            pytest.raises(ImproperlyConfigured, match="POSTSTACK_WEBHOOK_SECRET") as raised,
        ):
            post(Client(), *delivery())
        assert SECRET not in str(raised.value)
    monkeypatch.setenv("POSTSTACK_WEBHOOK_SECRET", SECRET)
    with override_settings(POSTSTACK_WEBHOOK_SECRET=None):
        assert post(Client(), *delivery("evt_env")).status_code == 200


def test_the_store_setting(configured: None, tracked: Events) -> None:
    caches = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with override_settings(
        CACHES=caches, POSTSTACK_WEBHOOK_STORE="poststack.contrib.django.CacheEventStore"
    ):
        statuses = [post(Client(), *delivery("evt_cache")).json() for _ in range(2)]
    assert statuses == [{"received": True}, {"received": True, "duplicate": True}]
    with override_settings(POSTSTACK_WEBHOOK_STORE=None):
        for _ in range(2):
            post(Client(), *delivery("evt_nostore"))
    assert [e["id"] for e in tracked.events] == ["evt_cache", "evt_nostore", "evt_nostore"]
    for bad in ("poststack.contrib.django.NoSuchStore", 42):
        with (
            override_settings(POSTSTACK_WEBHOOK_STORE=bad),
            pytest.raises(ImproperlyConfigured, match="POSTSTACK_WEBHOOK_STORE"),
        ):
            post(Client(), *delivery("evt_bad"))


def test_cache_event_store() -> None:
    caches = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with override_settings(CACHES=caches):
        store = CacheEventStore(lease=60, keep=600)
        assert store.claim("evt_a") is Claim.NEW
        assert store.claim("evt_a") is Claim.IN_PROGRESS
        store.release("evt_a")
        assert store.claim("evt_a") is Claim.NEW
        store.finish("evt_a")
        assert store.claim("evt_a") is Claim.DONE
        assert store.claim("x" * 10_000) is Claim.NEW  # any id fits a cache key
        other = CacheEventStore(prefix="other:")
        assert other.claim("evt_a") is Claim.NEW
    with pytest.raises(ValueError, match="lease"):
        CacheEventStore(lease=0)

"""The email lifecycle on the sandbox clock: statuses, test recipients, events, webhooks."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from poststack import PostStack
from poststack.testing import Sandbox, Timings
from poststack_core import verify

from .helpers import Receiver, receiver_fixture

START = datetime(2030, 1, 1, 9, 0, tzinfo=timezone.utc)
EMAIL: Any = {"from": "hello@example.com", "to": ["ada@example.org"], "subject": "Hi", "text": "Hi"}
EVERY_EMAIL_EVENT = [
    f"email.{name}"
    for name in (
        "scheduled",
        "queued",
        "sent",
        "delivered",
        "deferred",
        "bounced",
        "soft_bounced",
        "opened",
        "clicked",
        "complained",
        "failed",
        "cancelled",
    )
]


def at(seconds: float) -> str:
    """The sandbox time ``seconds`` after START, as the API writes it."""
    moment = START + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from receiver_fixture()


@pytest.fixture
def slow() -> Iterator[tuple[Sandbox, PostStack]]:
    """A frozen clock at START and steps 10 s (send), 20 s (deliver), 300 s (retry), 5 s apart."""
    timings = Timings(send=10, deliver=20, retry=300, feedback=5)
    with (
        Sandbox(start_time=START, timings=timings) as sb,
        PostStack(api_key=sb.api_key, base_url=sb.base_url, timeout=30) as ps,
    ):
        yield sb, ps


def events(ps: PostStack, email_id: str) -> list[tuple[str, str]]:
    return [(e["type"], e["timestamp"]) for e in ps.emails.get_events(email_id)["events"]]


def test_statuses_follow_the_clock_exactly(slow: tuple[Sandbox, PostStack]) -> None:
    sb, ps = slow
    email_id = ps.emails.send(EMAIL)["id"]
    assert ps.emails.get(email_id)["email"]["status"] == "queued"
    sb.advance(9.999)
    assert ps.emails.get(email_id)["email"]["status"] == "queued"
    sb.advance(0.001)
    assert ps.emails.get(email_id)["email"]["status"] == "sent"
    assert ps.emails.get(email_id)["email"]["sentAt"] == at(10)
    sb.advance(20)
    assert ps.emails.get(email_id)["email"]["status"] == "delivered"
    assert events(ps, email_id) == [("queued", at(0)), ("sent", at(10)), ("delivered", at(30))]


def test_one_big_step_replays_every_step_at_its_own_time(slow: tuple[Sandbox, PostStack]) -> None:
    sb, ps = slow
    email_id = ps.emails.send(
        {**EMAIL, "to": ["clicked@example.org"], "html": '<a href="https://shop.test/x">x</a>'}
    )["id"]
    sb.advance(3600)
    assert events(ps, email_id) == [
        ("queued", at(0)),
        ("sent", at(10)),
        ("delivered", at(30)),
        ("opened", at(35)),
        ("clicked", at(40)),
    ]
    clicked = sb.email(email_id).events[-1]
    assert clicked.detail == {"recipient": "clicked@example.org", "link": "https://shop.test/x"}
    assert sb.email(email_id).status == "delivered"  # opens and clicks keep it delivered


@pytest.mark.parametrize(
    ("recipient", "script", "status"),
    [
        ("anyone@example.org", ["queued", "sent", "delivered"], "delivered"),
        ("delayed@example.org", ["queued", "sent", "deferred", "delivered"], "delivered"),
        ("bounced@example.org", ["queued", "sent", "bounced"], "bounced"),
        ("Bounced+signup@example.org", ["queued", "sent", "bounced"], "bounced"),
        ("soft-bounced@example.org", ["queued", "sent", "soft_bounced"], "bounced"),
        ("complained@example.org", ["queued", "sent", "delivered", "complained"], "complained"),
        ("opened@example.org", ["queued", "sent", "delivered", "opened"], "delivered"),
        ("clicked@example.org", ["queued", "sent", "delivered", "opened", "clicked"], "delivered"),
        ("failed@example.org", ["queued", "failed"], "failed"),
    ],
)
def test_test_recipients(
    slow: tuple[Sandbox, PostStack], recipient: str, script: list[str], status: str
) -> None:
    sb, ps = slow
    email_id = ps.emails.send({**EMAIL, "to": [recipient]})["id"]
    sb.advance(10_000)
    assert [kind for kind, _ in events(ps, email_id)] == script
    assert ps.emails.get(email_id)["email"]["status"] == status


def test_a_deferral_waits_for_its_retry(slow: tuple[Sandbox, PostStack]) -> None:
    sb, ps = slow
    email_id = ps.emails.send({**EMAIL, "to": ["delayed@example.org"]})["id"]
    sb.advance(30)
    assert ps.emails.get(email_id)["email"]["status"] == "deferred"
    assert sb.email(email_id).events[-1].detail["reason"].startswith("421 ")
    sb.advance(299)
    assert ps.emails.get(email_id)["email"]["status"] == "deferred"
    sb.advance(1)
    assert ps.emails.get(email_id)["email"]["status"] == "delivered"


def test_the_strongest_outcome_wins_among_recipients() -> None:
    with Sandbox() as sb, PostStack(api_key=sb.api_key, base_url=sb.base_url) as ps:
        email_id = ps.emails.send(
            {**EMAIL, "to": ["delayed@example.org"], "cc": ["bounced@example.org"]}
        )["id"]
        assert sb.email(email_id).status == "bounced"
        assert sb.email(email_id).events[-1].detail["recipient"] == "bounced@example.org"


def test_bounces_and_complaints_suppress_and_later_sends_fail() -> None:
    with Sandbox() as sb, PostStack(api_key=sb.api_key, base_url=sb.base_url) as ps:
        ps.emails.send({**EMAIL, "to": ["bounced@example.org"]})
        ps.emails.send({**EMAIL, "to": ["complained@example.org"]})
        reasons = {s["email"]: s["reason"] for s in ps.suppressions.list()["suppressions"]}
        assert reasons == {
            "bounced@example.org": "hard_bounce",
            "complained@example.org": "complaint",
        }
        again = ps.emails.send({**EMAIL, "to": ["Bob <complained@example.org>"]})["id"]
        email = sb.email(again)
        assert [e.type for e in email.events] == ["queued", "failed"]
        assert email.events[0].detail == {"suppressed": ["complained@example.org"]}
        ps.suppressions.remove("complained@example.org")
        lifted = ps.emails.send({**EMAIL, "to": ["complained@example.org"]})["id"]
        assert sb.email(lifted).status == "complained"


def test_scheduled_emails_wait_for_their_time(slow: tuple[Sandbox, PostStack]) -> None:
    sb, ps = slow
    email_id = ps.emails.send({**EMAIL, "scheduled_at": at(3600)})["id"]
    assert ps.emails.get(email_id)["email"]["status"] == "scheduled"
    sb.advance(3599)
    assert ps.emails.get(email_id)["email"]["status"] == "scheduled"
    ps.emails.reschedule(email_id, at(7200))
    sb.advance(1)
    assert ps.emails.get(email_id)["email"]["status"] == "scheduled"  # moved: not yet
    sb.advance(3600)
    assert events(ps, email_id)[:2] == [("scheduled", at(0)), ("queued", at(7200))]
    sb.advance(30)
    assert ps.emails.get(email_id)["email"]["status"] == "delivered"


def test_past_schedules_and_reschedules(slow: tuple[Sandbox, PostStack]) -> None:
    sb, ps = slow
    past = ps.emails.send({**EMAIL, "scheduled_at": at(-60)})["id"]
    assert ps.emails.get(past)["email"]["status"] == "queued"
    later = ps.emails.send({**EMAIL, "scheduled_at": at(60)})["id"]
    with pytest.raises(Exception, match="future"):
        ps.emails.reschedule(later, at(-1))
    ps.emails.cancel(later)
    sb.advance(3600)
    assert [kind for kind, _ in events(ps, later)] == ["scheduled", "cancelled"]


def test_every_transition_is_a_signed_webhook_in_order(receiver: Receiver) -> None:
    with Sandbox() as sb, PostStack(api_key=sb.api_key, base_url=sb.base_url) as ps:
        created = ps.webhooks.create({"url": receiver.url, "events": EVERY_EMAIL_EVENT})
        secret = created["signingSecret"]
        email_id = ps.emails.send({**EMAIL, "to": ["clicked@example.org"]})["id"]
        got = receiver.wait_for(5)
        assert [r.event["type"] for r in got] == [
            "email.queued",
            "email.sent",
            "email.delivered",
            "email.opened",
            "email.clicked",
        ]
        for post in got:
            assert verify(post.body, post.headers["x-poststack-signature"], secret)
            assert post.event["data"]["email_id"] == email_id
        sb.wait_for_deliveries(5)
        logged = ps.webhooks.get_deliveries(created["webhook"]["id"])
        assert [d["eventType"] for d in logged["deliveries"]][::-1] == [
            r.event["type"] for r in got
        ]
        assert all(d["statusCode"] == 200 and d["attempts"] == 1 for d in logged["deliveries"])
        assert logged["pagination"] == {"page": 1, "perPage": 20, "total": 5, "totalPages": 1}


def test_failed_deliveries_are_retried_and_logged(receiver: Receiver) -> None:
    receiver.statuses = [500, 503]
    with (
        Sandbox(webhook_attempts=3) as sb,
        PostStack(api_key=sb.api_key, base_url=sb.base_url) as ps,
    ):
        webhook = ps.webhooks.create({"url": receiver.url, "events": ["email.delivered"]})[
            "webhook"
        ]
        ps.emails.send(EMAIL)
        (delivery,) = sb.wait_for_deliveries(1)
        assert (delivery.attempts, delivery.status_code) == (3, 200)
        assert len(receiver.received) == 3
        assert len({r.body for r in receiver.received}) == 1  # the same event each time
        (logged,) = ps.webhooks.get_deliveries(webhook["id"])["deliveries"]
        assert (logged["attempts"], logged["statusCode"], logged["nextRetryAt"]) == (3, 200, None)
        assert logged["deliveredAt"] is not None
        assert ps.webhooks.get(webhook["id"])["webhook"]["consecutiveFailures"] == 0


def test_replays_resend_the_same_event(receiver: Receiver) -> None:
    receiver.statuses = [500, 500, 500]
    with (
        Sandbox(webhook_attempts=3) as sb,
        PostStack(api_key=sb.api_key, base_url=sb.base_url) as ps,
    ):
        webhook = ps.webhooks.create({"url": receiver.url, "events": ["email.delivered"]})[
            "webhook"
        ]
        ps.emails.send(EMAIL)
        (failed,) = sb.wait_for_deliveries(1)
        assert not failed.ok
        assert ps.webhooks.get(webhook["id"])["webhook"]["consecutiveFailures"] == 1
        assert ps.webhooks.batch_replay(webhook["id"]) == {"replayed": 1, "remaining": 0}
        assert ps.webhooks.batch_replay(webhook["id"]) == {"replayed": 0, "remaining": 0}
        (_, replayed) = sb.wait_for_deliveries(2)
        assert replayed.ok
        assert replayed.body == failed.body
        ps.webhooks.replay(webhook["id"], failed.id)
        assert sb.wait_for_deliveries(3)[-1].body == failed.body


def test_rotation_signs_with_both_secrets_during_the_grace_window(receiver: Receiver) -> None:
    with (
        Sandbox(start_time=START) as sb,
        PostStack(api_key=sb.api_key, base_url=sb.base_url) as ps,
    ):
        made = ps.webhooks.create({"url": receiver.url, "events": ["email.delivered"]})
        old = made["signingSecret"]
        new = ps.webhooks.rotate_secret(made["webhook"]["id"], grace_hours=1)["signingSecret"]
        ps.emails.send(EMAIL)
        (first,) = receiver.wait_for(1)
        header = first.headers["x-poststack-signature"]
        assert header.count("sha256=") == 2
        assert verify(first.body, header, new)
        assert verify(first.body, header, old)
        sb.advance(3601)
        ps.emails.send(EMAIL)
        second = receiver.wait_for(2)[1]
        assert verify(second.body, second.headers["x-poststack-signature"], new)
        assert not verify(second.body, second.headers["x-poststack-signature"], old)


def test_a_running_clock_moves_emails_on_its_own() -> None:
    timings = Timings(send=0.05, deliver=0.05)
    with (
        Sandbox(clock="real", timings=timings) as sb,
        PostStack(api_key=sb.api_key, base_url=sb.base_url) as ps,
    ):
        assert not sb.clock.frozen
        email_id = ps.emails.send(EMAIL)["id"]
        assert sb.email(email_id).status == "queued"
        # Waits on the store's condition, woken by the scheduler thread's step.
        delivered = sb.wait_for_status(email_id, "delivered", timeout=10)
        assert [e.type for e in delivered.events] == ["queued", "sent", "delivered"]


def test_advancing_a_running_clock_runs_the_steps_now() -> None:
    with (
        Sandbox(clock="real", timings=Timings(send=3600)) as sb,
        PostStack(api_key=sb.api_key, base_url=sb.base_url) as ps,
    ):
        email_id = ps.emails.send(EMAIL)["id"]
        before = sb.clock.now()
        sb.advance(3600)
        assert sb.clock.now() >= before + timedelta(seconds=3600)
        assert sb.email(email_id).status == "delivered"


def test_release_scheduled_and_manual_feedback() -> None:
    with Sandbox() as sb, PostStack(api_key=sb.api_key, base_url=sb.base_url) as ps:
        email_id = ps.emails.send({**EMAIL, "scheduled_at": "2999-01-01T00:00:00Z"})["id"]
        with pytest.raises(ValueError, match="scheduled"):
            sb.bounce(email_id)
        assert sb.release_scheduled() == 1
        assert sb.email(email_id).status == "delivered"
        assert sb.complain(email_id).status == "complained"
        with pytest.raises(ValueError, match="complained"):
            sb.bounce(email_id)
        soft = ps.emails.send({**EMAIL, "to": ["bob@example.org"]})["id"]  # ada is suppressed now
        assert [e.type for e in sb.bounce(soft, soft=True).events][-1] == "soft_bounced"


@dataclass
class HeldReceiver:
    """A receiver whose first request is held unanswered until ``release`` is set."""

    url: str = ""
    bodies: list[bytes] = field(default_factory=list[bytes])
    got_first: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    got_second: threading.Event = field(default_factory=threading.Event)


def test_an_unfinished_delivery_goes_out_after_a_restart(tmp_path: Path) -> None:
    state = HeldReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.bodies.append(body)
            if len(state.bodies) == 1:
                state.got_first.set()
                state.release.wait(30)
            else:
                state.got_second.set()
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    db = tmp_path / "sandbox.db"
    try:
        with (
            Sandbox(db=db, webhook_timeout=30) as sb,
            PostStack(api_key=sb.api_key, base_url=sb.base_url) as ps,
        ):
            ps.webhooks.create({"url": url, "events": ["email.delivered"]})
            ps.emails.send(EMAIL)
            assert state.got_first.wait(10)
            # stop() aborts the attempt in flight: the delivery stays unfinished on disk.
        state.release.set()
        with Sandbox(db=db) as again:
            assert state.got_second.wait(10)
            (delivery,) = again.wait_for_deliveries(1)
            assert delivery.ok
            assert delivery.attempts == 2
            assert state.bodies[0] == state.bodies[1]
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)

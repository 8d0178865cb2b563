"""Properties of the email lifecycle (hypothesis), driven on a frozen clock without HTTP.

Whatever the recipients, the timings and the way the clock is moved (one big
step or many small ones), an email goes through exactly the script its
strongest test recipient calls for, each step at exactly its own time, its
status always the one its last event implies, and every step reported once,
in order, to the hook that fires webhooks.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from poststack.testing import TEST_RECIPIENTS, SandboxEmail, Timings
from poststack.testing._clock import SandboxClock
from poststack.testing._lifecycle import Lifecycle, status_after
from poststack.testing._models import EmailEvent
from poststack.testing._store import Store
from poststack.testing._validation import isoformat, parse_timestamp

START = datetime(2030, 1, 1, tzinfo=timezone.utc)
SCRIPTS = {
    "delivered": ["queued", "sent", "delivered"],
    "deferred": ["queued", "sent", "deferred", "delivered"],
    "bounced": ["queued", "sent", "bounced"],
    "soft_bounced": ["queued", "sent", "soft_bounced"],
    "complained": ["queued", "sent", "delivered", "complained"],
    "opened": ["queued", "sent", "delivered", "opened"],
    "clicked": ["queued", "sent", "delivered", "opened", "clicked"],
    "failed": ["queued", "failed"],
}
STRONGEST_FIRST = [
    "failed",
    "bounced",
    "soft_bounced",
    "deferred",
    "complained",
    "clicked",
    "opened",
]

recipients = st.lists(
    st.one_of(
        st.sampled_from(sorted(TEST_RECIPIENTS)).map(lambda local: f"{local}@example.org"),
        st.sampled_from(["ada@example.org", "Bob <bob@example.net>"]),
        st.sampled_from(sorted(TEST_RECIPIENTS)).map(lambda local: f"{local.upper()}+x@test.dev"),
    ),
    min_size=1,
    max_size=4,
)
delays = st.floats(min_value=0, max_value=3600, allow_nan=False).map(lambda s: round(s, 3))
timings = st.builds(Timings, send=delays, deliver=delays, retry=delays, feedback=delays)
steps = st.lists(st.floats(min_value=0, max_value=2000, allow_nan=False), max_size=30)


def expected_script(addresses: list[str]) -> list[str]:
    outcomes = {
        TEST_RECIPIENTS.get(a.rsplit("<", 1)[-1].split("@")[0].split("+")[0].lower())
        for a in addresses
    }
    return SCRIPTS[next((o for o in STRONGEST_FIRST if o in outcomes), "delivered")]


def expected_delay(previous: str, step: str, t: Timings) -> float:
    if step == "sent" or (step == "failed" and previous == "queued"):
        return t.send
    if previous == "sent":
        return t.deliver
    if previous == "deferred":
        return t.retry
    return t.feedback


def draft(addresses: list[str], scheduled_at: str | None = None) -> SandboxEmail:
    return SandboxEmail(
        id="em_test",
        numeric_id=1,
        from_="a@example.com",
        from_address="a@example.com",
        from_name=None,
        to=tuple(addresses[:1]),
        cc=tuple(addresses[1:]),
        bcc=(),
        reply_to=None,
        subject="S",
        html='<a href="https://example.com/x">x</a>',
        text="T",
        tags=(),
        headers={},
        attachments=(),
        scheduled_at=scheduled_at,
        status="queued",
        created_at=isoformat(START),
    )


def run(
    addresses: list[str], t: Timings, moves: list[float], scheduled_in: float | None = None
) -> tuple[SandboxEmail, list[tuple[str, str]]]:
    store = Store()
    clock = SandboxClock(frozen=True, start=START)
    heard: list[tuple[str, str]] = []

    def hook(email: SandboxEmail, event: EmailEvent) -> None:
        assert email.events[-1] == event  # told after the email changed, about its last event
        assert email.status == status_after(email, event.type) or event.type in (
            "opened",
            "clicked",
        )
        heard.append((event.type, event.at))

    lifecycle = Lifecycle(store, clock, t, on_event=hook, suppressed=lambda email: [])
    scheduled = (
        isoformat(START + timedelta(seconds=scheduled_in)) if scheduled_in is not None else None
    )
    lifecycle.accept(draft(addresses, scheduled))
    for move in moves:
        clock.advance(move)
        lifecycle.catch_up()
        email = store.emails["em_test"]
        # Never a step from the future.
        assert all(isoformat(clock.now()) >= e.at for e in email.events)
    clock.advance(10**6)  # far past every step
    lifecycle.catch_up()
    return store.emails["em_test"], heard


@settings(max_examples=250, deadline=None)
@given(addresses=recipients, t=timings, moves=steps)
def test_every_email_plays_its_script_at_its_times(
    addresses: list[str], t: Timings, moves: list[float]
) -> None:
    email, heard = run(addresses, t, moves)
    script = expected_script(addresses)
    assert [e.type for e in email.events] == script
    assert heard == [(e.type, e.at) for e in email.events]  # each step told once, in order
    moments = [parse_timestamp(e.at) or START for e in email.events]
    assert moments[0] == START
    pairs = zip(email.events, email.events[1:], strict=False)
    for (previous, event), before, after in zip(pairs, moments, moments[1:], strict=False):
        assert after - before == timedelta(seconds=expected_delay(previous.type, event.type, t))
    last = email.events[-1].type
    assert email.status == {
        "soft_bounced": "bounced",
        "opened": "delivered",
        "clicked": "delivered",
    }.get(last, last)


@settings(max_examples=150, deadline=None)
@given(addresses=recipients, t=timings, moves=steps)
def test_how_the_clock_moves_never_changes_the_outcome(
    addresses: list[str], t: Timings, moves: list[float]
) -> None:
    stepwise, _ = run(addresses, t, moves)
    at_once, _ = run(addresses, t, [])
    assert stepwise.events == at_once.events
    assert stepwise.status == at_once.status


@settings(max_examples=100, deadline=None)
@given(
    addresses=recipients,
    t=timings,
    scheduled_in=st.floats(min_value=0.001, max_value=10**5, allow_nan=False),
)
def test_a_scheduled_email_starts_its_script_at_its_time(
    addresses: list[str], t: Timings, scheduled_in: float
) -> None:
    email, _ = run(addresses, t, [], scheduled_in=round(scheduled_in, 3))
    assert [e.type for e in email.events] == ["scheduled", *expected_script(addresses)]
    assert email.events[1].at == email.scheduled_at

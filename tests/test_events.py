"""Typed webhook events: what the sandbox delivers, other shapes, no payload that raises."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, get_args, get_type_hints

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from poststack.testing import Sandbox
from poststack_core import (
    INBOUND_EVENT_TYPE,
    TRACKING_EVENT_TYPES,
    Event,
    TrackingEvent,
    construct_event,
    parse_event,
    sign,
)
from tests.webhook_helpers import EMAIL_EVENTS, Receiver, client_for, register

FROM = "Shop <shop@example.com>"


def test_the_vocabulary_is_the_spec_one() -> None:
    # API spec section 5: queued, sent, delivered, deferred, bounced, soft_bounced,
    # opened, clicked, complained, unsubscribed, failed; subscribed to as email.<name>.
    assert list(TRACKING_EVENT_TYPES) == EMAIL_EVENTS
    assert INBOUND_EVENT_TYPE == "inbound.received"


def _union_members(union: Any) -> list[Any]:
    members: list[Any] = []
    for member in get_args(union):
        members += _union_members(member) if get_args(member) else [member]
    return members


def _type_of(member: Any) -> str:
    (name,) = get_args(get_type_hints(member)["type"])
    return str(name)


EVENT_CLASSES = {_type_of(member): member for member in _union_members(Event)}


def test_every_type_has_its_typed_dict() -> None:
    assert sorted(EVENT_CLASSES) == sorted([*EMAIL_EVENTS, "inbound.received", "unknown"])
    assert [_type_of(member) for member in _union_members(TrackingEvent)] == EMAIL_EVENTS


@pytest.mark.parametrize("name", [*EMAIL_EVENTS, "inbound.received", "contact.created"])
def test_an_event_has_exactly_the_keys_its_typed_dict_declares(name: str) -> None:
    event = parse_event({"id": "evt_1", "type": name, "data": {}})
    declared = EVENT_CLASSES[event["type"]]
    assert set(event) == set(declared.__required_keys__)
    assert declared.__optional_keys__ == frozenset()


# -- what the sandbox delivers, for each test recipient --


@pytest.fixture
def lifecycle() -> Any:
    """A sandbox whose every email event goes to a receiver; yields (sandbox, receiver, secret)."""
    with Sandbox() as sb, Receiver() as receiver:
        _, secret = register(sb, receiver.url, EMAIL_EVENTS)
        yield sb, receiver, secret


def _events_of(receiver: Receiver, secret: str, n: int) -> list[Event]:
    return [construct_event(r.body, r.headers, secret) for r in receiver.wait_for(n)]


def test_a_delivered_email_and_its_tags_and_metadata(lifecycle: Any) -> None:
    sb, receiver, secret = lifecycle
    with client_for(sb) as ps:
        email_id = ps.emails.send(
            {
                "from": FROM,
                "to": ["ada@example.org"],
                "subject": "Receipt 42",
                "text": "Paid.",
                "tags": ["receipt", "shop"],
                "metadata": {"order": "42", "customer": "c_7"},
            }
        )["id"]
    events = _events_of(receiver, secret, 3)
    assert [e["type"] for e in events] == ["email.queued", "email.sent", "email.delivered"]
    for event, received in zip(events, receiver.received, strict=True):
        assert event["raw"] == json.loads(received.body)
        assert event["type"] != "unknown"
        assert event["type"] != "inbound.received"
        assert event["id"] == event["raw"]["id"]
        assert event["id"] is not None
        assert event["id"].startswith("evt_")
        assert event["email_id"] == email_id
        assert event["recipient"] == "ada@example.org"
        assert event["to"] == ["ada@example.org"]
        assert event["subject"] == "Receipt 42"
        assert event["tags"] == ["receipt", "shop"]
        assert event["metadata"] == {"order": "42", "customer": "c_7"}
        assert event["timestamp"] == _utc(event["raw"]["data"]["timestamp"])
    assert len({e["id"] for e in events}) == 3  # one id per event


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def _send_to(sb: Sandbox, address: str, html: str | None = None) -> str:
    with client_for(sb) as ps:
        payload: Any = {"from": FROM, "to": [address], "subject": "Hi", "text": "Hello"}
        if html is not None:
            payload["html"] = html
        return ps.emails.send(payload)["id"]


def test_a_hard_bounce(lifecycle: Any) -> None:
    sb, receiver, secret = lifecycle
    email_id = _send_to(sb, "bounced@example.org")
    *_, bounce = _events_of(receiver, secret, 3)
    assert bounce["type"] == "email.bounced"
    assert bounce["email_id"] == email_id
    assert bounce["recipient"] == "bounced@example.org"
    assert bounce["reason"] == "smtp; 550 5.1.1 The email account does not exist (sandbox)"


def test_a_soft_bounce(lifecycle: Any) -> None:
    sb, receiver, secret = lifecycle
    _send_to(sb, "soft-bounced@example.org")
    *_, bounce = _events_of(receiver, secret, 3)
    assert bounce["type"] == "email.soft_bounced"
    assert bounce["reason"] == "smtp; 452 4.2.2 Mailbox full (sandbox)"


def test_a_deferral_then_delivery(lifecycle: Any) -> None:
    sb, receiver, secret = lifecycle
    email_id = _send_to(sb, "delayed@example.org")
    deferred = _events_of(receiver, secret, 3)[2]
    assert deferred["type"] == "email.deferred"
    assert deferred["reason"] == "421 4.7.0 Try again later (sandbox test recipient)"
    sb.advance(60)
    delivered = _events_of(receiver, secret, 4)[3]
    assert (delivered["type"], delivered["email_id"]) == ("email.delivered", email_id)
    assert delivered["timestamp"] is not None
    assert deferred["timestamp"] is not None
    assert (delivered["timestamp"] - deferred["timestamp"]).total_seconds() == 60


def test_opened_and_clicked(lifecycle: Any) -> None:
    sb, receiver, secret = lifecycle
    _send_to(sb, "clicked@example.org", html='<a href="https://shop.example/orders/42">Order</a>')
    events = _events_of(receiver, secret, 5)
    assert [e["type"] for e in events][-2:] == ["email.opened", "email.clicked"]
    clicked = events[-1]
    assert clicked["type"] == "email.clicked"
    assert clicked["url"] == "https://shop.example/orders/42"
    assert clicked["recipient"] == "clicked@example.org"


def test_a_complaint(lifecycle: Any) -> None:
    sb, receiver, secret = lifecycle
    _send_to(sb, "complained@example.org")
    complaint = _events_of(receiver, secret, 4)[-1]
    assert complaint["type"] == "email.complained"
    assert complaint["feedback_type"] == "abuse"


def test_a_failure(lifecycle: Any) -> None:
    sb, receiver, secret = lifecycle
    _send_to(sb, "failed@example.org")
    failure = _events_of(receiver, secret, 2)[-1]
    assert failure["type"] == "email.failed"
    assert failure["reason"] == "Rejected by the sandbox test recipient"


def test_a_bounce_from_the_inbox_buttons(lifecycle: Any) -> None:
    sb, receiver, secret = lifecycle
    email_id = _send_to(sb, "ada@example.org")
    receiver.wait_for(3)
    sb.bounce(email_id)
    bounce = _events_of(receiver, secret, 4)[-1]
    assert (bounce["type"], bounce["email_id"]) == ("email.bounced", email_id)
    assert bounce["recipient"] == "ada@example.org"


def test_a_replay_carries_the_same_event_id(lifecycle: Any) -> None:
    sb, receiver, secret = lifecycle
    _send_to(sb, "ada@example.org")
    receiver.wait_for(3)
    with client_for(sb) as ps:
        (webhook,) = ps.webhooks.list()["webhooks"]
        first = ps.webhooks.get_deliveries(webhook["id"])["deliveries"][-1]  # newest first
        ps.webhooks.replay(webhook["id"], first["id"])
    original, *_, replayed = _events_of(receiver, secret, 4)
    assert replayed["id"] == original["id"]
    assert (
        receiver.received[3].headers["x-poststack-delivery"]
        != (receiver.received[0].headers["x-poststack-delivery"])
    )


def test_an_inbound_email_event() -> None:
    with Sandbox() as sb, Receiver() as receiver:
        _, secret = register(sb, receiver.url, ["inbound.received"])
        stored = sb.receive(
            from_="Grace <grace@example.org>",
            to=["support+t42@example.com"],
            subject="Question",
            text="Hello?",
        )
        (received,) = receiver.wait_for(1)
    event = construct_event(received.body, received.headers, secret)
    assert event["type"] == "inbound.received"
    assert event["inbound_id"] == stored["id"]
    assert event["sender"] == "grace@example.org"
    assert event["recipient"] == "support+t42@example.com"
    assert event["subject"] == "Question"
    assert event["raw"]["data"]["textBody"] == "Hello?"


# -- other shapes a payload may take --


def test_camel_case_fields_and_a_flat_payload() -> None:
    camel = parse_event(
        {
            "id": "evt_c",
            "type": "email.bounced",
            "createdAt": "2026-03-23T10:00:00Z",
            "data": {"emailId": "em_c", "to": "b@example.org", "diagnosticCode": "550 no"},
        }
    )
    assert camel["type"] == "email.bounced"
    assert (camel["email_id"], camel["recipient"], camel["reason"]) == (
        "em_c",
        "b@example.org",
        "550 no",
    )
    assert camel["timestamp"] == datetime(2026, 3, 23, 10, tzinfo=timezone.utc)

    flat = parse_event({"type": "email.clicked", "email_id": "em_f", "link": "https://x.example/"})
    assert flat["type"] == "email.clicked"
    assert (flat["email_id"], flat["url"], flat["id"]) == ("em_f", "https://x.example/", None)


def test_the_api_test_delivery_body() -> None:
    # The only real payload the stored docs show: {"event": ..., "id": 123}. Its id
    # may be the email's or the delivery's, so it is not taken as the event's.
    event = parse_event({"event": "email.delivered", "id": 123})
    assert event["type"] == "email.delivered"
    assert (event["id"], event["email_id"], event["to"], event["tags"]) == (None, None, [], [])
    assert parse_event({"event_id": 7, "event": "email.sent"})["id"] == "7"
    assert parse_event({"id": 9, "type": "email.sent", "data": {}})["id"] == "9"


def test_several_recipients_have_no_single_recipient() -> None:
    event = parse_event({"type": "email.delivered", "data": {"to": ["a@x.org", "b@x.org"]}})
    assert event["type"] == "email.delivered"
    assert (event["recipient"], event["to"]) == (None, ["a@x.org", "b@x.org"])


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "contact.created", "data": {"id": "con_1"}},
        {"type": "email.scheduled", "data": {"email_id": "em_1"}},
        {"type": "EMAIL.DELIVERED"},
        {"type": 5},
        {"data": {"email_id": "em_1"}},
        {},
    ],
    ids=["contact", "sandbox-only", "upper-case", "not a str", "no type", "empty"],
)
def test_an_unknown_event_keeps_the_payload_whole(payload: dict[str, Any]) -> None:
    event = parse_event(payload)
    assert event["type"] == "unknown"
    assert event["raw"] is payload
    assert event["name"] == (payload.get("type") if isinstance(payload.get("type"), str) else None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-23T10:00:02.000Z", datetime(2026, 3, 23, 10, 0, 2, tzinfo=timezone.utc)),
        ("2026-03-23T10:00:02.123456789Z", datetime(2026, 3, 23, 10, 0, 2, 123456, timezone.utc)),
        ("2026-03-23T12:00:02+02:00", datetime(2026, 3, 23, 10, 0, 2, tzinfo=timezone.utc)),
        ("2026-03-23T10:00:02", datetime(2026, 3, 23, 10, 0, 2, tzinfo=timezone.utc)),
        (1774260002, datetime(2026, 3, 23, 10, 0, 2, tzinfo=timezone.utc)),
        (1774260002.5, datetime(2026, 3, 23, 10, 0, 2, 500000, timezone.utc)),
        ("yesterday", None),
        ("", None),
        (True, None),
        (float("nan"), None),
        (1e300, None),
        ([], None),
    ],
)
def test_timestamps(value: object, expected: datetime | None) -> None:
    event = parse_event({"type": "email.sent", "data": {"timestamp": value}})
    assert event["timestamp"] == expected
    if expected is not None:
        assert event["timestamp"] is not None
        assert event["timestamp"].utcoffset() == timezone.utc.utcoffset(None)


def test_the_data_timestamp_wins_over_the_envelopes() -> None:
    event = parse_event(
        {"type": "email.sent", "created_at": "2026-01-01T00:00:00Z", "data": {"timestamp": 0}}
    )
    assert event["timestamp"] == datetime(1970, 1, 1, tzinfo=timezone.utc)
    envelope_only = parse_event({"type": "email.sent", "created_at": "2026-01-01T00:00:00Z"})
    assert envelope_only["timestamp"] == datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_a_non_object_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="parsed JSON object"):
        parse_event([1, 2])  # type: ignore[arg-type]


# -- no JSON object makes it raise --

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
names = st.sampled_from([*EMAIL_EVENTS, "inbound.received", "contact.created"]) | st.text()
field_names = st.sampled_from(
    ["email_id", "emailId", "id", "to", "recipient", "tags", "metadata", "timestamp", "reason",
     "diagnosticCode", "link", "url", "feedbackType", "subject", "from", "inbound_id"]
)  # fmt: skip
data_objects = st.dictionaries(field_names | st.text(max_size=6), json_values, max_size=8)
payloads = st.fixed_dictionaries(
    {},
    optional={
        "id": json_values,
        "type": names | json_values,
        "event": names,
        "created_at": json_values,
        "data": data_objects | json_values,
        "email_id": json_values,
    },
)


# No time limits: generating nested JSON, and the test itself, are slow on a loaded
# machine, and a health check or deadline would then fail for the machine's sake.
SLOW_INPUT_OK = [HealthCheck.too_slow, HealthCheck.data_too_large]


@settings(max_examples=500, suppress_health_check=SLOW_INPUT_OK, deadline=None)
@given(payloads)
def test_parse_event_never_raises_and_keeps_the_payload(payload: dict[str, Any]) -> None:
    event = parse_event(payload)
    assert event["raw"] is payload
    assert event["type"] in EVENT_CLASSES
    assert set(event) == set(EVENT_CLASSES[event["type"]].__required_keys__)
    assert event["id"] is None or isinstance(event["id"], str)
    assert event["timestamp"] is None or event["timestamp"].tzinfo is not None
    if event["type"] in EMAIL_EVENTS:
        assert all(isinstance(tag, str) for tag in event["tags"])
        assert all(isinstance(address, str) for address in event["to"])
        assert isinstance(event["metadata"], dict)


@settings(max_examples=200, suppress_health_check=SLOW_INPUT_OK, deadline=None)
@given(payloads)
def test_construct_event_round_trips_any_signed_object(payload: dict[str, Any]) -> None:
    body = json.dumps(payload, allow_nan=False).encode() if _finite(payload) else b"{}"
    event = construct_event(body, sign(body, "whsec_p"), ["whsec_other", "whsec_p"])
    assert event["raw"] == json.loads(body)


def _finite(value: object) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except ValueError:
        return False
    return True

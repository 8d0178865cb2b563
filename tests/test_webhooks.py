"""poststack.webhooks: verify and construct_event on top of the vectors in the table test."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from poststack import WebhookVerificationError
from poststack.webhooks import (
    SIGNATURE_HEADER,
    WebhookPayloadError,
    construct_event,
    sign,
    verify,
)

SECRET = "whsec_test"
EVENT = {"type": "email.delivered", "data": {"id": "em_1"}}
BODY = json.dumps(EVENT, separators=(",", ":")).encode()
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)


def test_sign_and_verify_round_trip() -> None:
    header = sign(BODY, SECRET)
    assert header.startswith("sha256=")
    assert verify(BODY, header, SECRET)
    assert verify(BODY.decode(), header, SECRET)
    assert not verify(BODY, header, "whsec_other")


def test_verify_never_raises_on_what_a_request_brings() -> None:
    assert verify(BODY, None, SECRET) is False  # type: ignore[arg-type]
    assert verify(None, sign(BODY, SECRET), SECRET) is False  # type: ignore[arg-type]
    assert verify("lone \ud800 surrogate", sign(BODY, SECRET), SECRET) is False
    assert verify(bytearray(BODY), sign(BODY, SECRET), SECRET) is True


@pytest.mark.parametrize("secret", ["", None, b"whsec_bytes"], ids=repr)
def test_an_empty_or_missing_secret_is_refused_by_every_helper(secret: object) -> None:
    # HMAC with an empty key is a signature anyone can make: never accept it.
    forged = "sha256=" + hmac.new(b"", BODY, hashlib.sha256).hexdigest()
    for helper in (
        lambda: sign(BODY, secret),  # type: ignore[arg-type]
        lambda: verify(BODY, forged, secret),  # type: ignore[arg-type]
        lambda: construct_event(BODY, {SIGNATURE_HEADER: forged}, secret),  # type: ignore[arg-type]
    ):
        with pytest.raises(ValueError, match="webhook secret must be a non-empty str") as info:
            helper()
        assert not isinstance(info.value, WebhookVerificationError)


@pytest.mark.parametrize(
    "headers",
    [
        {SIGNATURE_HEADER: sign(BODY, SECRET)},
        {"x-poststack-signature": sign(BODY, SECRET)},
        {"Content-Type": "application/json", "X-POSTSTACK-SIGNATURE": sign(BODY, SECRET)},
    ],
)
def test_construct_event_from_headers(headers: dict[str, str]) -> None:
    event = construct_event(BODY, headers, SECRET)
    assert event["raw"] == EVENT
    assert event["type"] == "email.delivered"
    assert event["email_id"] == "em_1"


def test_construct_event_from_the_signature_itself() -> None:
    assert construct_event(BODY.decode(), sign(BODY, SECRET), SECRET)["raw"] == EVENT


def test_construct_event_during_rotation_accepts_either_secret() -> None:
    header = f"{sign(BODY, 'whsec_new')},{sign(BODY, 'whsec_old')}"
    assert construct_event(BODY, header, "whsec_old")["raw"] == EVENT
    assert construct_event(BODY, header, "whsec_new")["raw"] == EVENT


def test_a_receiver_that_rotates_passes_both_secrets() -> None:
    # After a cut-over without grace only the new secret signs; an endpoint still
    # configured with the old one alone refuses, one given both accepts.
    header = sign(BODY, "whsec_new")
    assert not verify(BODY, header, "whsec_old")
    assert verify(BODY, header, ["whsec_old", "whsec_new"])
    assert verify(BODY, header, ("whsec_new",))
    assert construct_event(BODY, header, ["whsec_old", "whsec_new"])["raw"] == EVENT
    with pytest.raises(WebhookVerificationError, match="does not match"):
        construct_event(BODY, header, ["whsec_old", "whsec_older"])


@pytest.mark.parametrize(
    "secrets", [[], ["whsec_a", ""], ["whsec_a", None], b"whsec", 42], ids=repr
)
def test_a_list_of_secrets_must_hold_only_non_empty_strings(secrets: object) -> None:
    with pytest.raises(ValueError, match="non-empty str") as info:
        verify(BODY, sign(BODY, "whsec_a"), secrets)  # type: ignore[arg-type]
    assert "whsec_a" not in str(info.value)  # a secret is never part of an error


@pytest.mark.parametrize(
    ("payload", "headers", "message"),
    [
        (BODY, {"Content-Type": "application/json"}, "no X-PostStack-Signature"),
        (BODY, {SIGNATURE_HEADER: sign(BODY, "whsec_other")}, "does not match"),
        (BODY + b" ", {SIGNATURE_HEADER: sign(BODY, SECRET)}, "does not match"),
    ],
)
def test_construct_event_raises_a_clear_error(
    payload: bytes, headers: dict[str, str], message: str
) -> None:
    with pytest.raises(WebhookVerificationError, match=message) as info:
        construct_event(payload, headers, SECRET)
    assert not isinstance(info.value, WebhookPayloadError)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'"event"', "not a JSON object"),
        (b"[" * 100_000 + b"]" * 100_000, "too deep"),
        (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "too deep"),
        (b'{"type": "\xff\xfe"}', "not JSON"),
        (b"\xff\xfe\x00\x00", "not JSON"),
        (b'{"amount": NaN}', "not JSON"),
        (b'{"amount": Infinity}', "not JSON"),
        (b"", "not JSON"),
    ],
    ids=["text", "array", "string", "deep array", "deep object", "bad utf-8", "utf-32 bom",
         "NaN", "Infinity", "empty"],
)  # fmt: skip
def test_a_validly_signed_payload_that_is_not_an_object_is_a_payload_error(
    payload: bytes, message: str
) -> None:
    with pytest.raises(WebhookPayloadError, match=message):
        construct_event(payload, sign(payload, SECRET), SECRET)


@settings(max_examples=300, deadline=None)  # no time limit on a loaded machine
@given(st.one_of(st.binary(max_size=200), st.text(max_size=200), json_values.map(json.dumps)))
def test_construct_event_only_ever_returns_an_object_or_raises_verification_errors(
    payload: bytes | str,
) -> None:
    try:
        signature = sign(payload, SECRET)
    except UnicodeEncodeError:
        signature = "sha256=" + "0" * 64  # a str no UTF-8 body can be: nothing signs it
    try:
        event = construct_event(payload, {SIGNATURE_HEADER: signature}, SECRET)
    except WebhookVerificationError:
        return
    assert isinstance(event, dict)


def test_headers_of_the_wrong_type_are_a_type_error() -> None:
    with pytest.raises(TypeError, match="headers_or_signature"):
        construct_event(BODY, None, SECRET)  # type: ignore[arg-type]

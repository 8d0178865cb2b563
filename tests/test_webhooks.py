"""poststack.webhooks: construct_event on top of the verify vectors in the table test."""

from __future__ import annotations

import json

import pytest

from poststack import WebhookVerificationError
from poststack.webhooks import SIGNATURE_HEADER, construct_event, sign, verify

SECRET = "whsec_test"
EVENT = {"type": "email.delivered", "data": {"id": "em_1"}}
BODY = json.dumps(EVENT, separators=(",", ":")).encode()


def test_sign_and_verify_round_trip() -> None:
    header = sign(BODY, SECRET)
    assert header.startswith("sha256=")
    assert verify(BODY, header, SECRET)
    assert verify(BODY.decode(), header, SECRET)
    assert not verify(BODY, header, "whsec_other")


def test_verify_never_raises_on_nonsense() -> None:
    assert verify(BODY, None, SECRET) is False  # type: ignore[arg-type]
    assert verify(None, sign(BODY, SECRET), SECRET) is False  # type: ignore[arg-type]
    assert verify(BODY, sign(BODY, SECRET), None) is False  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "headers",
    [
        {SIGNATURE_HEADER: sign(BODY, SECRET)},
        {"x-poststack-signature": sign(BODY, SECRET)},
        {"Content-Type": "application/json", "X-POSTSTACK-SIGNATURE": sign(BODY, SECRET)},
    ],
)
def test_construct_event_from_headers(headers: dict[str, str]) -> None:
    assert construct_event(BODY, headers, SECRET) == EVENT


def test_construct_event_from_the_signature_itself() -> None:
    assert construct_event(BODY.decode(), sign(BODY, SECRET), SECRET) == EVENT


def test_construct_event_during_rotation_accepts_either_secret() -> None:
    header = f"{sign(BODY, 'whsec_new')},{sign(BODY, 'whsec_old')}"
    assert construct_event(BODY, header, "whsec_old") == EVENT
    assert construct_event(BODY, header, "whsec_new") == EVENT


@pytest.mark.parametrize(
    ("payload", "headers", "message"),
    [
        (BODY, {"Content-Type": "application/json"}, "no X-PostStack-Signature"),
        (BODY, {SIGNATURE_HEADER: sign(BODY, "whsec_other")}, "does not match"),
        (BODY + b" ", {SIGNATURE_HEADER: sign(BODY, SECRET)}, "does not match"),
        (b"not json", {SIGNATURE_HEADER: sign(b"not json", SECRET)}, "not JSON"),
        (b"[1, 2]", {SIGNATURE_HEADER: sign(b"[1, 2]", SECRET)}, "not a JSON object"),
    ],
)
def test_construct_event_raises_a_clear_error(
    payload: bytes, headers: dict[str, str], message: str
) -> None:
    with pytest.raises(WebhookVerificationError, match=message):
        construct_event(payload, headers, SECRET)

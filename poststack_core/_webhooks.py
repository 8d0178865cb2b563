"""Webhook signatures: HMAC-SHA256 over the raw body, checked in constant time."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from ._errors import WebhookVerificationError
from ._narrow import as_mapping

SIGNATURE_HEADER = "X-PostStack-Signature"
_HEX = frozenset("0123456789abcdef")


def _as_bytes(payload: str | bytes | bytearray | memoryview) -> bytes:
    if isinstance(payload, str):
        return payload.encode("utf-8")
    return bytes(payload)


def _hmac_sha256(secret: str, payload: str | bytes) -> str:
    return hmac.new(secret.encode("utf-8"), _as_bytes(payload), hashlib.sha256).hexdigest()


def sign(payload: str | bytes, secret: str) -> str:
    """The ``X-PostStack-Signature`` value PostStack sends for ``payload``."""
    return f"sha256={_hmac_sha256(secret, payload)}"


def _candidates(signature_header: str) -> list[bytes]:
    found: list[bytes] = []
    for element in signature_header.split(","):
        scheme, sep, value = element.strip().partition("=")
        if not sep or scheme != "sha256":
            continue
        value = value.strip().lower()
        if value and len(value) % 2 == 0 and set(value) <= _HEX:
            found.append(value.encode("ascii"))
    return found


def verify(payload: str | bytes, signature_header: str, secret: str) -> bool:
    """True if any ``sha256=`` element of the header signs ``payload`` with ``secret``.

    Two elements appear while a rotated secret's grace window is open. Never
    raises for a malformed header: it simply does not verify. Every candidate
    is compared, in constant time, so timing tells nothing about which failed.
    """
    if not isinstance(signature_header, str) or not isinstance(secret, str):
        return False
    if not isinstance(payload, (str, bytes, bytearray, memoryview)):
        return False
    wanted = _hmac_sha256(secret, payload).encode("ascii")
    matched = False
    for candidate in _candidates(signature_header):
        matched |= hmac.compare_digest(candidate, wanted)
    return matched


def _signature_from(headers_or_signature: Mapping[str, str] | str) -> str:
    if isinstance(headers_or_signature, str):
        return headers_or_signature
    wanted = SIGNATURE_HEADER.lower()
    for name, value in headers_or_signature.items():
        if name.lower() == wanted:
            return value
    raise WebhookVerificationError(f"no {SIGNATURE_HEADER} header in the request")


def construct_event(
    payload: str | bytes, headers_or_signature: Mapping[str, str] | str, secret: str
) -> dict[str, Any]:
    """Verify a webhook delivery and return its parsed JSON event.

    ``headers_or_signature`` is the request's headers (any mapping; the name is
    matched case-insensitively) or the ``X-PostStack-Signature`` value itself.
    Pass the raw body bytes: re-serialised JSON will not verify.
    """
    signature = _signature_from(headers_or_signature)
    if not verify(payload, signature, secret):
        raise WebhookVerificationError("webhook signature does not match the payload and secret")
    try:
        event = json.loads(_as_bytes(payload))
    except ValueError as exc:
        raise WebhookVerificationError(f"webhook payload is not JSON: {exc}") from None
    if as_mapping(event) is None:
        raise WebhookVerificationError("webhook payload is not a JSON object")
    parsed: dict[str, Any] = event
    return parsed

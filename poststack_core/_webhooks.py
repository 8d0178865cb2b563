"""Webhook signatures: HMAC-SHA256 over the raw body, checked in constant time."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from typing import cast

from ._errors import WebhookPayloadError, WebhookVerificationError
from ._events import Event, parse_event
from ._narrow import as_mapping

SIGNATURE_HEADER = "X-PostStack-Signature"
_HEX = frozenset("0123456789abcdef")

Secret = str | Sequence[str]
"""A webhook's signing secret, or several: the new and the old one during a rotation."""

_SECRET_ERROR = (
    "the webhook secret must be a non-empty str: the signingSecret that webhooks.create "
    "returned (or a list of them while you move to a rotated one)"
)


def _as_bytes(payload: str | bytes | bytearray | memoryview) -> bytes:
    if isinstance(payload, str):
        # Strict: a str with lone surrogates is no UTF-8 body anyone could have signed.
        return payload.encode("utf-8")
    return bytes(payload)


def check_secrets(secret: object) -> tuple[str, ...]:
    """The signing secrets in ``secret``: one str, or a sequence of them.

    An empty key is a key everyone knows: anyone could sign with it. It shows up
    when the secret's variable is unset, so it is a configuration error, raised
    loudly (ValueError), as is an empty list or one holding anything but
    non-empty strings. Secrets are never part of the message.
    """
    found: tuple[object, ...]
    if isinstance(secret, str):
        found = (secret,)
    elif isinstance(secret, Sequence) and not isinstance(secret, (bytes, bytearray)):
        found = tuple(cast("Sequence[object]", secret))
    else:
        raise ValueError(_SECRET_ERROR)
    if not found or not all(isinstance(item, str) and item for item in found):
        raise ValueError(_SECRET_ERROR)
    return cast("tuple[str, ...]", found)


def _hmac_sha256(secret: str, payload: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), payload, hashlib.sha256).hexdigest()


def sign(payload: str | bytes, secret: str) -> str:
    """The ``X-PostStack-Signature`` value PostStack sends for ``payload`` (for tests)."""
    if not isinstance(secret, str):
        raise ValueError(_SECRET_ERROR)
    (key,) = check_secrets(secret)
    return f"sha256={_hmac_sha256(key, _as_bytes(payload))}"


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


def verify(payload: str | bytes, signature_header: str, secret: Secret) -> bool:
    """True if any ``sha256=`` element of the header signs ``payload`` with ``secret``.

    Two elements appear while a rotated secret's grace window is open.
    ``secret`` may also be several secrets (your new and old one while you
    switch an endpoint over): any of them may match. Never raises for what a
    request brings (a malformed header or body simply does not verify); an
    empty or missing ``secret`` is a ValueError. Every candidate is compared
    with every secret, in constant time, so timing tells nothing about which
    failed.
    """
    secrets = check_secrets(secret)
    if not isinstance(signature_header, str):
        return False
    if not isinstance(payload, (str, bytes, bytearray, memoryview)):
        return False
    try:
        body = _as_bytes(payload)
    except UnicodeEncodeError:
        return False
    candidates = _candidates(signature_header)
    matched = False
    for key in secrets:
        wanted = _hmac_sha256(key, body).encode("ascii")
        for candidate in candidates:
            matched |= hmac.compare_digest(candidate, wanted)
    return matched


def _signature_from(headers_or_signature: Mapping[str, str] | str) -> str:
    """The ``X-PostStack-Signature`` value: given itself, or found in a request's headers.

    Header names are matched case-insensitively. No such header is a
    :class:`WebhookVerificationError`; anything but a mapping or a str is a
    TypeError (a programming error, not something a request brings).
    """
    if isinstance(headers_or_signature, str):
        return headers_or_signature
    items = getattr(headers_or_signature, "items", None)
    if items is None:
        raise TypeError(
            "headers_or_signature must be the request's headers (a mapping) or the "
            f"{SIGNATURE_HEADER} value, got {type(headers_or_signature).__name__}"
        )
    wanted = SIGNATURE_HEADER.lower()
    for name, value in items():
        if isinstance(name, str) and name.lower() == wanted:
            return str(value)
    raise WebhookVerificationError(f"no {SIGNATURE_HEADER} header in the request")


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def construct_event(
    payload: str | bytes, headers_or_signature: Mapping[str, str] | str, secret: Secret
) -> Event:
    """Verify a webhook delivery and return its typed, normalized event.

    ``headers_or_signature`` is the request's headers (any mapping; the name is
    matched case-insensitively) or the ``X-PostStack-Signature`` value itself.
    Pass the raw body bytes: re-serialised JSON will not verify. ``secret`` is
    the signing secret, or several of them (any may match).

    The event is one of the TypedDicts of :data:`Event`, narrowed by
    ``event["type"]``; an event type this SDK does not know is an
    :class:`UnknownEvent`, and ``event["raw"]`` always holds the whole payload.

    Raises :class:`WebhookVerificationError` when the signature is missing or
    does not match, and its subclass :class:`WebhookPayloadError` when the
    signature matches but the body is not a JSON object (invalid JSON, nested
    too deep, a bare array): never any other exception for what a request
    brings. An empty ``secret`` is a ValueError.
    """
    secrets = check_secrets(secret)
    signature = _signature_from(headers_or_signature)
    if not verify(payload, signature, secrets):
        raise WebhookVerificationError("webhook signature does not match the payload and secret")
    try:
        parsed = json.loads(_as_bytes(payload), parse_constant=_refuse_constant)
    except ValueError as exc:  # UnicodeDecodeError included
        raise WebhookPayloadError(f"webhook payload is not JSON: {exc}") from None
    except RecursionError:
        raise WebhookPayloadError("webhook payload is not JSON: nested too deep") from None
    event = as_mapping(parsed)
    if event is None:
        raise WebhookPayloadError("webhook payload is not a JSON object")
    return parse_event(event)

"""``email_validations``: is an address worth sending to?

The sandbox looks nothing up on the network, so it judges an address from its
text and from what it knows: the syntax; an MX "found" for every domain except
``.invalid``, ``.test``-less bare names and ``example.invalid``-style ones;
small lists of disposable and free providers and of role local parts; and the
suppression list and test recipients (``bounced@…`` is undeliverable,
``delayed@…`` risky), so validation agrees with what a send would do.
"""

from __future__ import annotations

from typing import Any

from .._http import Reply
from .._lifecycle import TEST_RECIPIENTS
from .._routing import ApiRequest, Routes, ok
from .._store import Store
from .._validation import ApiError, parse_address
from .suppressions import suppressed_among

__all__ = ["routes", "validate_address"]

routes = Routes()
MAX_BATCH = 100
DISPOSABLE = frozenset(
    {
        "mailinator.com",
        "guerrillamail.com",
        "10minutemail.com",
        "tempmail.com",
        "yopmail.com",
        "trashmail.com",
    }
)
FREE = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "icloud.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.de",
        "gmx.net",
        "mail.com",
    }
)
ROLES = frozenset(
    {
        "admin",
        "info",
        "support",
        "sales",
        "noreply",
        "no-reply",
        "postmaster",
        "abuse",
        "webmaster",
        "contact",
        "help",
        "billing",
    }
)


def validate_address(store: Store, email: str) -> dict[str, Any]:
    """The EmailValidation object for one address."""
    try:
        address = parse_address(email, "email")
    except ApiError:
        return {
            "email": email,
            "result": "undeliverable",
            "syntaxValid": False,
            "mxValid": False,
            "isDisposable": False,
            "isRole": False,
            "isFree": False,
            "risk": "high",
        }
    domain = address.domain
    local = address.local_part.lower().split("+", 1)[0]
    mx_valid = not domain.endswith(".invalid") and "." in domain
    disposable = domain in DISPOSABLE
    role = local in ROLES
    outcome = TEST_RECIPIENTS.get(local)
    suppressed = bool(suppressed_among(store, [address.address]))
    if not mx_valid or suppressed or outcome in ("bounced", "failed"):
        result, risk = "undeliverable", "high"
    elif disposable or outcome in ("soft_bounced", "complained"):
        result, risk = "risky", "high"
    elif role or outcome == "deferred":
        result, risk = "risky", "medium"
    else:
        result, risk = "deliverable", "low"
    return {
        "email": address.address,
        "result": result,
        "syntaxValid": True,
        "mxValid": mx_valid,
        "isDisposable": disposable,
        "isRole": role,
        "isFree": domain in FREE,
        "risk": risk,
    }


@routes.post("/email-validations")
def validate(call: ApiRequest) -> Reply:
    email = call.body().required_text("email")
    return ok(validate_address(call.backend.store, email))


@routes.post("/email-validations/batch")
def validate_batch(call: ApiRequest) -> Reply:
    emails = call.body().strings("emails", required=True, max_items=MAX_BATCH)
    assert emails is not None
    return ok({"results": [validate_address(call.backend.store, email) for email in emails]})

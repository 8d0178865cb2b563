"""``email_validations``: check addresses before sending to them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from .._operation import Operation
from .._resource import Mode, Resource, endpoint
from ._build import list_body, op

if TYPE_CHECKING:
    from ..types.email_validations import EmailValidation, ValidateBatchResponse


def validate(
    email: str, *, timeout: float | None = None, idempotency_key: str | None = None
) -> Operation[EmailValidation]:
    """Check one address: syntax, MX, disposable, role, risk (``POST /email-validations``)."""
    if not isinstance(email, str):
        raise TypeError(f"email must be a str, got {type(email).__name__}")
    body = {"email": email}
    path = "/email-validations"
    return op("POST", path, body=body, timeout=timeout, idempotency_key=idempotency_key)


def validate_batch(
    emails: list[str], *, timeout: float | None = None, idempotency_key: str | None = None
) -> Operation[ValidateBatchResponse]:
    """Check several addresses in one request (``POST /email-validations/batch``)."""
    body = {"emails": list_body(emails, "emails", "email addresses")}
    path = "/email-validations/batch"
    return op("POST", path, body=body, timeout=timeout, idempotency_key=idempotency_key)


class EmailValidations(Resource[Mode]):
    """``ps.email_validations``: check addresses before sending to them."""

    validate: Final = endpoint(validate)
    validate_batch: Final = endpoint(validate_batch)

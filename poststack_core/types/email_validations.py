"""Types of the ``email_validations`` resource."""

from typing import Literal, TypedDict

__all__ = [
    "EmailValidation",
    "ValidateBatchResponse",
]


class EmailValidation(TypedDict):
    """What ``email_validations.validate`` answers."""

    email: str
    result: Literal["deliverable", "undeliverable", "risky", "unknown"]
    syntaxValid: bool
    mxValid: bool
    isDisposable: bool
    isRole: bool
    isFree: bool
    risk: Literal["low", "medium", "high"]


class ValidateBatchResponse(TypedDict):
    """What ``email_validations.validate_batch`` answers."""

    results: list[EmailValidation]

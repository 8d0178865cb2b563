from __future__ import annotations

from poststack_core.endpoints import email_validations

from .._resource import Mode, Resource, endpoint


class EmailValidations(Resource[Mode]):
    """``ps.email_validations``: check addresses before sending to them."""

    validate = endpoint(email_validations.validate)
    validate_batch = endpoint(email_validations.validate_batch)

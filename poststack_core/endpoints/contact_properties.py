"""``contact_properties``: the custom fields contacts carry (numeric ids)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from .._operation import Operation, mapping_body, numeric
from .._resource import Mode, Resource, endpoint
from ._build import op

if TYPE_CHECKING:
    from ..types.common import SuccessResponse
    from ..types.contact_properties import (
        ContactPropertyResponse,
        CreateContactPropertyParams,
        ListContactPropertiesResponse,
        OptionUsageResponse,
        UpdateContactPropertyParams,
    )


def create(
    input: CreateContactPropertyParams,
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[ContactPropertyResponse]:
    """Create a contact property (``POST /contact-properties``); ``input`` is sent as given."""
    body = mapping_body(input, "input")
    path = "/contact-properties"
    return op("POST", path, body=body, timeout=timeout, idempotency_key=idempotency_key)


def list(*, timeout: float | None = None) -> Operation[ListContactPropertiesResponse]:
    """Every contact property (``GET /contact-properties``)."""
    return op("GET", "/contact-properties", timeout=timeout)


def update(
    id: int, input: UpdateContactPropertyParams, *, timeout: float | None = None
) -> Operation[ContactPropertyResponse]:
    """Change a contact property.

    ``PATCH /contact-properties/{id}``: the fields in ``input``, sent as given.
    """
    path = f"/contact-properties/{numeric(id, 'id')}"
    return op("PATCH", path, body=mapping_body(input, "input"), timeout=timeout)


def delete(id: int, *, timeout: float | None = None) -> Operation[SuccessResponse]:
    """Delete a contact property (``DELETE /contact-properties/{id}``)."""
    return op("DELETE", f"/contact-properties/{numeric(id, 'id')}", timeout=timeout)


def option_usage(id: int, *, timeout: float | None = None) -> Operation[OptionUsageResponse]:
    """How many contacts hold each option of a ``select`` property."""
    return op("GET", f"/contact-properties/{numeric(id, 'id')}/option-usage", timeout=timeout)


class ContactProperties(Resource[Mode]):
    """``ps.contact_properties``: the custom fields contacts carry."""

    create: Final = endpoint(create)
    list: Final = endpoint(list)
    update: Final = endpoint(update)
    delete: Final = endpoint(delete)
    option_usage: Final = endpoint(option_usage)

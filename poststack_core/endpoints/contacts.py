"""``contacts``: the people broadcasts and workflows reach (``con_…`` ids)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from .._operation import Operation, mapping_body, query_pairs, segment
from .._resource import Mode, Resource, endpoint, pages
from ._build import op, optional_query

if TYPE_CHECKING:
    from ..types.common import SuccessResponse
    from ..types.contacts import (
        ContactResponse,
        CreateContactParams,
        ImportContactsParams,
        ImportContactsResponse,
        ListContactsParams,
        ListContactsResponse,
        UpdateContactParams,
    )


def create(
    input: CreateContactParams,
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[ContactResponse]:
    """Add a contact (409 if the email exists)."""
    body = mapping_body(input, "input")
    return op("POST", "/contacts", body=body, timeout=timeout, idempotency_key=idempotency_key)


def list(
    params: ListContactsParams | None = None, *, timeout: float | None = None
) -> Operation[ListContactsResponse]:
    """The contacts (``GET /contacts``); ``params`` filter and paginate, sent as given."""
    return op("GET", "/contacts", query=query_pairs(params), timeout=timeout)


def get(id: str, *, timeout: float | None = None) -> Operation[ContactResponse]:
    """One contact by its id (``GET /contacts/{id}``)."""
    return op("GET", f"/contacts/{segment(id, 'id')}", timeout=timeout)


def get_by_email(email: str, *, timeout: float | None = None) -> Operation[ContactResponse]:
    """One contact by its email address (``GET /contacts/by-email/{email}``)."""
    return op("GET", f"/contacts/by-email/{segment(email, 'email')}", timeout=timeout)


def update(
    id: str, input: UpdateContactParams, *, timeout: float | None = None
) -> Operation[ContactResponse]:
    """Change a contact (``PATCH /contacts/{id}``): the fields in ``input``, sent as given."""
    path = f"/contacts/{segment(id, 'id')}"
    return op("PATCH", path, body=mapping_body(input, "input"), timeout=timeout)


def delete(id: str, *, timeout: float | None = None) -> Operation[SuccessResponse]:
    """Delete a contact (``DELETE /contacts/{id}``)."""
    return op("DELETE", f"/contacts/{segment(id, 'id')}", timeout=timeout)


def unsubscribe(
    id: str, *, timeout: float | None = None, idempotency_key: str | None = None
) -> Operation[ContactResponse]:
    """Unsubscribe a contact from all broadcasts (``POST /contacts/{id}/unsubscribe``)."""
    path = f"/contacts/{segment(id, 'id')}/unsubscribe"
    return op("POST", path, timeout=timeout, idempotency_key=idempotency_key)


def import_(
    input: ImportContactsParams,
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[ImportContactsResponse]:
    """Import up to 10,000 contacts; emails that already exist are skipped, not updated."""
    body = mapping_body(input, "input")
    path = "/contacts/import"
    return op("POST", path, body=body, timeout=timeout, idempotency_key=idempotency_key)


def export_csv(*, segment_id: str | None = None, timeout: float | None = None) -> Operation[str]:
    """Every contact (or one segment's, ``seg_…``) as CSV text, never parsed."""
    query = optional_query(segment_id=segment_id)
    return op("GET", "/contacts/export", query=query, response="text", timeout=timeout)


class Contacts(Resource[Mode]):
    """``ps.contacts``: the people broadcasts and workflows reach."""

    create: Final = endpoint(create)
    list: Final = endpoint(list)
    list_all: Final = pages(list, lambda page: page.get("contacts"))
    get: Final = endpoint(get)
    get_by_email: Final = endpoint(get_by_email)
    update: Final = endpoint(update)
    delete: Final = endpoint(delete)
    unsubscribe: Final = endpoint(unsubscribe)
    import_: Final = endpoint(import_)
    export_csv: Final = endpoint(export_csv)

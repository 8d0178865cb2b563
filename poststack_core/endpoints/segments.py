"""``segments``: groups of contacts, by rules or by hand (``seg_…`` ids)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from .._operation import Operation, mapping_body, query_pairs, segment
from .._resource import Mode, Resource, endpoint, pages
from ._build import op, optional_query

if TYPE_CHECKING:
    from ..types.common import ListParams, SuccessResponse
    from ..types.segments import (
        AddContactsParams,
        AddContactsResponse,
        CreateSegmentParams,
        ListSegmentsResponse,
        PreviewRulesResponse,
        SegmentBroadcastsResponse,
        SegmentMembersResponse,
        SegmentResponse,
        UpdateSegmentParams,
    )


def _path(id: str, action: str = "") -> str:
    return f"/segments/{segment(id, 'id')}{action}"


def create(
    input: CreateSegmentParams,
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[SegmentResponse]:
    """Create a segment (``POST /segments``); ``input`` is sent as given."""
    body = mapping_body(input, "input")
    return op("POST", "/segments", body=body, timeout=timeout, idempotency_key=idempotency_key)


def list(
    params: Mapping[str, Any] | None = None, *, timeout: float | None = None
) -> Operation[ListSegmentsResponse]:
    """Every segment of the team (the server does not paginate; ``params`` are sent as given)."""
    return op("GET", "/segments", query=query_pairs(params), timeout=timeout)


def get(id: str, *, timeout: float | None = None) -> Operation[SegmentResponse]:
    """One segment by its id (``GET /segments/{id}``)."""
    return op("GET", _path(id), timeout=timeout)


def update(
    id: str, input: UpdateSegmentParams, *, timeout: float | None = None
) -> Operation[SegmentResponse]:
    """Change a segment (``PATCH /segments/{id}``): the fields in ``input``, sent as given."""
    return op("PATCH", _path(id), body=mapping_body(input, "input"), timeout=timeout)


def delete(id: str, *, timeout: float | None = None) -> Operation[SuccessResponse]:
    """Delete a segment (``DELETE /segments/{id}``)."""
    return op("DELETE", _path(id), timeout=timeout)


def add_contacts(
    id: str,
    input: AddContactsParams,
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[AddContactsResponse]:
    """Add contacts (``{"contact_ids": [...]}``, up to 1,000) to a manual segment."""
    body = mapping_body(input, "input")
    path = _path(id, "/contacts")
    return op("POST", path, body=body, timeout=timeout, idempotency_key=idempotency_key)


def remove_contact(
    id: str, contact_id: str, *, timeout: float | None = None
) -> Operation[SuccessResponse]:
    """Take a contact out of a segment (``DELETE /segments/{id}/contacts/{contact_id}``)."""
    path = _path(id, f"/contacts/{segment(contact_id, 'contact_id')}")
    return op("DELETE", path, timeout=timeout)


def members(
    id: str, params: ListParams | None = None, *, timeout: float | None = None
) -> Operation[SegmentMembersResponse]:
    """A page of the segment's contacts (50 per page by default, 100 at most)."""
    return op("GET", _path(id, "/members"), query=query_pairs(params), timeout=timeout)


def growth(
    id: str, days: int | None = None, *, timeout: float | None = None
) -> Operation[dict[str, Any]]:
    """Membership per day over the last ``days`` (default 30, at most 365)."""
    return op("GET", _path(id, "/growth"), query=optional_query(days=days), timeout=timeout)


def broadcasts(id: str, *, timeout: float | None = None) -> Operation[SegmentBroadcastsResponse]:
    """Broadcasts sent to this segment, newest first."""
    return op("GET", _path(id, "/broadcasts"), timeout=timeout)


def preview_rules(
    input: Mapping[str, Any],
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[PreviewRulesResponse]:
    """Count the contacts a rules tree matches, without saving a segment."""
    body = mapping_body(input, "input")
    path = "/segments/preview"
    return op("POST", path, body=body, timeout=timeout, idempotency_key=idempotency_key)


class Segments(Resource[Mode]):
    """``ps.segments``: groups of contacts, by rules or by hand."""

    create: Final = endpoint(create)
    list: Final = endpoint(list)
    get: Final = endpoint(get)
    update: Final = endpoint(update)
    delete: Final = endpoint(delete)
    add_contacts: Final = endpoint(add_contacts)
    remove_contact: Final = endpoint(remove_contact)
    members: Final = endpoint(members)
    members_all: Final = pages(members, lambda page: page.get("contacts"))
    growth: Final = endpoint(growth)
    broadcasts: Final = endpoint(broadcasts)
    preview_rules: Final = endpoint(preview_rules)

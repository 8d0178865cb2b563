"""``domains``: sending domains, their DNS, DKIM rotation and DMARC reports (numeric ids)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from .._operation import Operation, mapping_body, numeric, query_pairs
from .._resource import Mode, Resource, endpoint, pages
from ._build import op, optional_query

if TYPE_CHECKING:
    from ..types.common import SuccessResponse
    from ..types.domains import (
        CreateDomainParams,
        DkimRotationResponse,
        DmarcReportsParams,
        DmarcReportsResponse,
        DmarcSourcesResponse,
        DmarcStats,
        DomainResponse,
        InboxPlacement,
        ListDomainsResponse,
        UpdateDomainParams,
        VerifyDomainResponse,
    )

DMARC_RENAMES = {"per_page": "perPage"}
"""The DMARC reports endpoint reads ``perPage``; callers may write ``per_page`` as elsewhere."""


def _path(id: int, action: str = "") -> str:
    return f"/domains/{numeric(id, 'id')}{action}"


def create(
    input: CreateDomainParams,
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[DomainResponse]:
    """Add a sending domain; the answer lists the DNS records to publish."""
    body = mapping_body(input, "input")
    return op("POST", "/domains", body=body, timeout=timeout, idempotency_key=idempotency_key)


def list(
    params: Mapping[str, Any] | None = None, *, timeout: float | None = None
) -> Operation[ListDomainsResponse]:
    """Every domain of the team (the server does not paginate; ``params`` are sent as given)."""
    return op("GET", "/domains", query=query_pairs(params), timeout=timeout)


def get(id: int, *, timeout: float | None = None) -> Operation[DomainResponse]:
    """One domain by its id (``GET /domains/{id}``)."""
    return op("GET", _path(id), timeout=timeout)


def update(
    id: int, input: UpdateDomainParams, *, timeout: float | None = None
) -> Operation[DomainResponse]:
    """Change a domain (``PATCH /domains/{id}``): the fields in ``input``, sent as given."""
    return op("PATCH", _path(id), body=mapping_body(input, "input"), timeout=timeout)


def delete(id: int, *, timeout: float | None = None) -> Operation[SuccessResponse]:
    """Delete a domain (``DELETE /domains/{id}``)."""
    return op("DELETE", _path(id), timeout=timeout)


def verify(
    id: int, *, timeout: float | None = None, idempotency_key: str | None = None
) -> Operation[VerifyDomainResponse]:
    """Check the domain's DNS records again now."""
    return op("POST", _path(id, "/verify"), timeout=timeout, idempotency_key=idempotency_key)


def assign_ip(
    id: int,
    ip_address_id: int,
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[SuccessResponse]:
    """Send the domain's mail from a dedicated IP."""
    body = {"ipAddressId": ip_address_id}
    path = _path(id, "/ip")
    return op("POST", path, body=body, timeout=timeout, idempotency_key=idempotency_key)


def unassign_ip(id: int, *, timeout: float | None = None) -> Operation[SuccessResponse]:
    """Take a dedicated IP off a domain (``DELETE /domains/{id}/ip``)."""
    return op("DELETE", _path(id, "/ip"), timeout=timeout)


def start_dkim_rotation(
    id: int, *, timeout: float | None = None, idempotency_key: str | None = None
) -> Operation[DkimRotationResponse]:
    """Stage a new DKIM key; the answer holds the TXT record to publish."""
    path = _path(id, "/dkim/rotate")
    return op("POST", path, timeout=timeout, idempotency_key=idempotency_key)


def activate_dkim_rotation(
    id: int,
    *,
    force: bool = False,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[DkimRotationResponse]:
    """Cut over to the staged key (409 until DNS shows it; ``force`` skips only the wait)."""
    query = (("force", "true"),) if force else ()
    path = _path(id, "/dkim/rotate/activate")
    return op("POST", path, query=query, timeout=timeout, idempotency_key=idempotency_key)


def cancel_dkim_rotation(
    id: int, *, timeout: float | None = None
) -> Operation[DkimRotationResponse]:
    """Abandon a DKIM rotation in progress (``DELETE /domains/{id}/dkim/rotate``)."""
    return op("DELETE", _path(id, "/dkim/rotate"), timeout=timeout)


def get_dmarc_reports(
    id: int, params: DmarcReportsParams | None = None, *, timeout: float | None = None
) -> Operation[DmarcReportsResponse]:
    """Aggregate DMARC reports, newest first, as ``{"reports", "pagination"}``."""
    query = query_pairs(params, renames=DMARC_RENAMES)
    return op("GET", _path(id, "/dmarc/reports"), query=query, timeout=timeout)


def get_dmarc_stats(
    id: int, days: int | None = None, *, timeout: float | None = None
) -> Operation[DmarcStats]:
    """DMARC pass and fail totals for a domain over ``days`` (``GET /domains/{id}/dmarc/stats``)."""
    return op("GET", _path(id, "/dmarc/stats"), query=optional_query(days=days), timeout=timeout)


def get_dmarc_sources(
    id: int, days: int | None = None, *, timeout: float | None = None
) -> Operation[DmarcSourcesResponse]:
    """The sending sources DMARC reports saw for a domain (``GET /domains/{id}/dmarc/sources``)."""
    path = _path(id, "/dmarc/sources")
    return op("GET", path, query=optional_query(days=days), timeout=timeout)


def get_inbox_placement(
    id: int, days: int | None = None, *, timeout: float | None = None
) -> Operation[InboxPlacement]:
    """What receiving providers did with the domain's mail over the last ``days``."""
    path = _path(id, "/placement")
    return op("GET", path, query=optional_query(days=days), timeout=timeout)


class Domains(Resource[Mode]):
    """``ps.domains``: sending domains, DNS, DKIM rotation and DMARC reports."""

    create: Final = endpoint(create)
    list: Final = endpoint(list)
    get: Final = endpoint(get)
    update: Final = endpoint(update)
    delete: Final = endpoint(delete)
    verify: Final = endpoint(verify)
    assign_ip: Final = endpoint(assign_ip)
    unassign_ip: Final = endpoint(unassign_ip)
    start_dkim_rotation: Final = endpoint(start_dkim_rotation)
    activate_dkim_rotation: Final = endpoint(activate_dkim_rotation)
    cancel_dkim_rotation: Final = endpoint(cancel_dkim_rotation)
    get_dmarc_reports: Final = endpoint(get_dmarc_reports)
    get_dmarc_reports_all: Final = pages(get_dmarc_reports, lambda page: page.get("reports"))
    get_dmarc_stats: Final = endpoint(get_dmarc_stats)
    get_dmarc_sources: Final = endpoint(get_dmarc_sources)
    get_inbox_placement: Final = endpoint(get_inbox_placement)

from __future__ import annotations

from typing import TYPE_CHECKING

from poststack_core.endpoints import domains

from .._resource import Mode, Resource, endpoint, pages

if TYPE_CHECKING:
    from poststack_core.types.domains import DmarcReport
else:
    # Item types only type the walkers; at run time a TypedDict is a plain dict.
    DmarcReport = dict


class Domains(Resource[Mode]):
    """``ps.domains``: sending domains, DNS, DKIM rotation and DMARC reports."""

    create = endpoint(domains.create)
    list = endpoint(domains.list)
    get = endpoint(domains.get)
    update = endpoint(domains.update)
    delete = endpoint(domains.delete)
    verify = endpoint(domains.verify)
    assign_ip = endpoint(domains.assign_ip)
    unassign_ip = endpoint(domains.unassign_ip)
    start_dkim_rotation = endpoint(domains.start_dkim_rotation)
    activate_dkim_rotation = endpoint(domains.activate_dkim_rotation)
    cancel_dkim_rotation = endpoint(domains.cancel_dkim_rotation)
    get_dmarc_reports = endpoint(domains.get_dmarc_reports)
    get_dmarc_reports_all = pages(domains.get_dmarc_reports, "reports", DmarcReport)
    get_dmarc_stats = endpoint(domains.get_dmarc_stats)
    get_dmarc_sources = endpoint(domains.get_dmarc_sources)
    get_inbox_placement = endpoint(domains.get_inbox_placement)

"""The API's resource families, one module each; every route is declared in its module.

Adding a family means adding its module here: the router, the spec-driven
tests and the docs read this list.
"""

from __future__ import annotations

from .._routing import Routes
from . import (
    domains,
    emails,
    inbound_emails,
    notification_channels,
    suppressions,
    templates,
    webhooks,
)

FAMILIES = (
    emails,
    domains,
    webhooks,
    templates,
    suppressions,
    inbound_emails,
    notification_channels,
)


def route_tables() -> list[Routes]:
    return [family.routes for family in FAMILIES]

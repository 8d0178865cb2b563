"""The API's resource families, one module each; every route is declared in its module.

Adding a family means adding its module to ``FAMILIES``: the router, the
spec-driven tests and the docs read this list.
"""

from __future__ import annotations

from .._routing import Routes
from . import (
    api_keys,
    broadcasts,
    contact_properties,
    contacts,
    domains,
    email_validations,
    emails,
    inbound_emails,
    mailboxes,
    notification_channels,
    segments,
    signup_forms,
    subscription_topics,
    suppressions,
    templates,
    webhooks,
    workflows,
)

FAMILIES = (
    api_keys,
    broadcasts,
    contact_properties,
    contacts,
    domains,
    email_validations,
    emails,
    inbound_emails,
    mailboxes,
    notification_channels,
    segments,
    signup_forms,
    subscription_topics,
    suppressions,
    templates,
    webhooks,
    workflows,
)


def route_tables() -> list[Routes]:
    return [family.routes for family in FAMILIES]

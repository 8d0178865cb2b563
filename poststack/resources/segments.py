from __future__ import annotations

from poststack_core.endpoints import segments
from poststack_core.types.contacts import Contact

from .._resource import Mode, Resource, endpoint, pages


class Segments(Resource[Mode]):
    """``ps.segments``: groups of contacts, by rules or by hand."""

    create = endpoint(segments.create)
    list = endpoint(segments.list)
    get = endpoint(segments.get)
    update = endpoint(segments.update)
    delete = endpoint(segments.delete)
    add_contacts = endpoint(segments.add_contacts)
    remove_contact = endpoint(segments.remove_contact)
    members = endpoint(segments.members)
    members_all = pages(segments.members, "contacts", Contact)
    growth = endpoint(segments.growth)
    broadcasts = endpoint(segments.broadcasts)
    preview_rules = endpoint(segments.preview_rules)

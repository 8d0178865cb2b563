from __future__ import annotations

from typing import TYPE_CHECKING

from poststack_core.endpoints import segments

from .._resource import Mode, Resource, endpoint, pages

if TYPE_CHECKING:
    from poststack_core.types.contacts import Contact
else:
    # Item types only type the walkers; at run time a TypedDict is a plain dict.
    Contact = dict


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

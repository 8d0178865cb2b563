from __future__ import annotations

from typing import TYPE_CHECKING

from poststack_core.endpoints import contacts

from .._resource import Mode, Resource, endpoint, pages

if TYPE_CHECKING:
    from poststack_core.types.contacts import Contact
else:
    # Item types only type the walkers; at run time a TypedDict is a plain dict.
    Contact = dict


class Contacts(Resource[Mode]):
    """``ps.contacts``: the people broadcasts and workflows reach."""

    create = endpoint(contacts.create)
    list = endpoint(contacts.list)
    list_all = pages(contacts.list, "contacts", Contact)
    get = endpoint(contacts.get)
    get_by_email = endpoint(contacts.get_by_email)
    update = endpoint(contacts.update)
    delete = endpoint(contacts.delete)
    unsubscribe = endpoint(contacts.unsubscribe)
    import_ = endpoint(contacts.import_)
    export_csv = endpoint(contacts.export_csv)

from __future__ import annotations

from poststack_core.endpoints import contact_properties

from .._resource import Mode, Resource, endpoint


class ContactProperties(Resource[Mode]):
    """``ps.contact_properties``: the custom fields contacts carry."""

    create = endpoint(contact_properties.create)
    list = endpoint(contact_properties.list)
    update = endpoint(contact_properties.update)
    delete = endpoint(contact_properties.delete)
    option_usage = endpoint(contact_properties.option_usage)

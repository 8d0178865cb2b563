from __future__ import annotations

from poststack_core.endpoints import templates
from poststack_core.types.templates import Template

from .._resource import Mode, Resource, endpoint, pages


class Templates(Resource[Mode]):
    """``ps.templates``: reusable email content with ``{{variables}}``."""

    create = endpoint(templates.create)
    list = endpoint(templates.list)
    list_all = pages(templates.list, "templates", Template)
    get = endpoint(templates.get)
    update = endpoint(templates.update)
    delete = endpoint(templates.delete)
    publish = endpoint(templates.publish)
    unpublish = endpoint(templates.unpublish)
    duplicate = endpoint(templates.duplicate)
    render = endpoint(templates.render)
    get_presets = endpoint(templates.get_presets)
    use_preset = endpoint(templates.use_preset)

from __future__ import annotations

from typing import TYPE_CHECKING

from poststack_core.endpoints import templates

from .._resource import Mode, Resource, endpoint, pages

if TYPE_CHECKING:
    from poststack_core.types.templates import Template
else:
    # Item types only type the walkers; at run time a TypedDict is a plain dict.
    Template = dict


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

from __future__ import annotations

from poststack_core.endpoints import workflows

from .._resource import Mode, Resource, endpoint


class Workflows(Resource[Mode]):
    """``ps.workflows``: automations that run contacts through a graph of steps."""

    list = endpoint(workflows.list)
    create = endpoint(workflows.create)
    get = endpoint(workflows.get)
    update = endpoint(workflows.update)
    delete = endpoint(workflows.delete)
    get_graph = endpoint(workflows.get_graph)
    put_graph = endpoint(workflows.put_graph)
    validate_graph = endpoint(workflows.validate_graph)
    activate = endpoint(workflows.activate)
    pause = endpoint(workflows.pause)
    trigger = endpoint(workflows.trigger)
    post_event = endpoint(workflows.post_event)

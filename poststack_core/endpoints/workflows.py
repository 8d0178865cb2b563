"""``workflows``: automations that run contacts through a graph of steps."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from .._operation import Operation, mapping_body, segment
from .._resource import Mode, Resource, endpoint
from ._build import op

if TYPE_CHECKING:
    from ..types.common import SuccessResponse
    from ..types.workflows import (
        CreateWorkflowParams,
        GraphValidation,
        ListWorkflowsResponse,
        PostEventParams,
        PostEventResponse,
        TriggerWorkflowParams,
        TriggerWorkflowResponse,
        UpdateWorkflowParams,
        WorkflowGraph,
        WorkflowGraphResponse,
        WorkflowResponse,
    )


def _path(id: str, action: str = "") -> str:
    return f"/workflows/{segment(id, 'id')}{action}"


def list(*, timeout: float | None = None) -> Operation[ListWorkflowsResponse]:
    """Every workflow (``GET /workflows``)."""
    return op("GET", "/workflows", timeout=timeout)


def create(
    input: CreateWorkflowParams,
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[WorkflowResponse]:
    """Create a workflow (``POST /workflows``); ``input`` is sent as given."""
    body = mapping_body(input, "input")
    return op("POST", "/workflows", body=body, timeout=timeout, idempotency_key=idempotency_key)


def get(id: str, *, timeout: float | None = None) -> Operation[WorkflowResponse]:
    """One workflow by its id (``GET /workflows/{id}``)."""
    return op("GET", _path(id), timeout=timeout)


def update(
    id: str, input: UpdateWorkflowParams, *, timeout: float | None = None
) -> Operation[WorkflowResponse]:
    """Change a workflow (``PATCH /workflows/{id}``): the fields in ``input``, sent as given."""
    return op("PATCH", _path(id), body=mapping_body(input, "input"), timeout=timeout)


def delete(id: str, *, timeout: float | None = None) -> Operation[SuccessResponse]:
    """Delete a workflow (``DELETE /workflows/{id}``)."""
    return op("DELETE", _path(id), timeout=timeout)


def get_graph(id: str, *, timeout: float | None = None) -> Operation[WorkflowGraphResponse]:
    """A workflow's nodes and edges (``GET /workflows/{id}/graph``)."""
    return op("GET", _path(id, "/graph"), timeout=timeout)


def put_graph(
    id: str, input: WorkflowGraph, *, timeout: float | None = None
) -> Operation[WorkflowGraphResponse]:
    """Replace the whole graph (nodes and edges) at once. A PUT."""
    return op("PUT", _path(id, "/graph"), body=mapping_body(input, "input"), timeout=timeout)


def validate_graph(
    id: str, *, timeout: float | None = None, idempotency_key: str | None = None
) -> Operation[GraphValidation]:
    """Check the stored graph without changing it."""
    return op("POST", _path(id, "/validate"), timeout=timeout, idempotency_key=idempotency_key)


def activate(
    id: str, *, timeout: float | None = None, idempotency_key: str | None = None
) -> Operation[WorkflowResponse]:
    """Start running a workflow on its trigger (``POST /workflows/{id}/activate``)."""
    return op("POST", _path(id, "/activate"), timeout=timeout, idempotency_key=idempotency_key)


def pause(
    id: str, *, timeout: float | None = None, idempotency_key: str | None = None
) -> Operation[WorkflowResponse]:
    """Stop a workflow from starting new runs (``POST /workflows/{id}/pause``)."""
    return op("POST", _path(id, "/pause"), timeout=timeout, idempotency_key=idempotency_key)


def trigger(
    id: str,
    input: TriggerWorkflowParams,
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[TriggerWorkflowResponse]:
    """Start a run for one contact (422 unless the workflow is active with a manual trigger)."""
    body = mapping_body(input, "input")
    path = _path(id, "/trigger")
    return op("POST", path, body=body, timeout=timeout, idempotency_key=idempotency_key)


def post_event(
    input: PostEventParams,
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[PostEventResponse]:
    """Post your own event: enrols the contact in every active workflow it triggers."""
    body = mapping_body(input, "input")
    path = "/workflows/events"
    return op("POST", path, body=body, timeout=timeout, idempotency_key=idempotency_key)


class Workflows(Resource[Mode]):
    """``ps.workflows``: automations that run contacts through a graph of steps."""

    list: Final = endpoint(list)
    create: Final = endpoint(create)
    get: Final = endpoint(get)
    update: Final = endpoint(update)
    delete: Final = endpoint(delete)
    get_graph: Final = endpoint(get_graph)
    put_graph: Final = endpoint(put_graph)
    validate_graph: Final = endpoint(validate_graph)
    activate: Final = endpoint(activate)
    pause: Final = endpoint(pause)
    trigger: Final = endpoint(trigger)
    post_event: Final = endpoint(post_event)

"""``workflows``: automations that run contacts through a graph of steps."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._operation import Operation, mapping_body, segment
from ._build import op

if TYPE_CHECKING:
    from ..types._common import SuccessResponse
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
    return op("GET", "/workflows", timeout=timeout)


def create(
    input: CreateWorkflowParams,
    *,
    timeout: float | None = None,
    idempotency_key: str | None = None,
) -> Operation[WorkflowResponse]:
    body = mapping_body(input, "input")
    return op("POST", "/workflows", body=body, timeout=timeout, idempotency_key=idempotency_key)


def get(id: str, *, timeout: float | None = None) -> Operation[WorkflowResponse]:
    return op("GET", _path(id), timeout=timeout)


def update(
    id: str, input: UpdateWorkflowParams, *, timeout: float | None = None
) -> Operation[WorkflowResponse]:
    return op("PATCH", _path(id), body=mapping_body(input, "input"), timeout=timeout)


def delete(id: str, *, timeout: float | None = None) -> Operation[SuccessResponse]:
    return op("DELETE", _path(id), timeout=timeout)


def get_graph(id: str, *, timeout: float | None = None) -> Operation[WorkflowGraphResponse]:
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
    return op("POST", _path(id, "/activate"), timeout=timeout, idempotency_key=idempotency_key)


def pause(
    id: str, *, timeout: float | None = None, idempotency_key: str | None = None
) -> Operation[WorkflowResponse]:
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

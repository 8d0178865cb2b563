"""Types of the ``workflows`` resource."""

from typing import Any, Literal, TypedDict

__all__ = [
    "CreateWorkflowParams",
    "GraphValidation",
    "ListWorkflowsResponse",
    "PostEventParams",
    "PostEventResponse",
    "TriggerType",
    "TriggerWorkflowParams",
    "TriggerWorkflowResponse",
    "UpdateWorkflowParams",
    "Workflow",
    "WorkflowGraph",
    "WorkflowGraphResponse",
    "WorkflowResponse",
    "WorkflowRun",
    "WorkflowStatus",
]


TriggerType = Literal["contact.created", "contact.subscribed", "custom", "manual"]
WorkflowStatus = Literal["draft", "active", "paused"]


class _WorkflowRequired(TypedDict):
    id: int
    publicId: str
    name: str
    triggerType: TriggerType
    status: WorkflowStatus
    createdAt: str
    updatedAt: str


class Workflow(_WorkflowRequired, total=False):
    triggerConfig: dict[str, Any] | None


class _CreateWorkflowRequired(TypedDict):
    name: str
    trigger_type: TriggerType


class CreateWorkflowParams(_CreateWorkflowRequired, total=False):
    trigger_config: dict[str, Any]


class UpdateWorkflowParams(TypedDict, total=False):
    name: str
    trigger_type: TriggerType
    trigger_config: dict[str, Any] | None


class WorkflowResponse(TypedDict):
    workflow: Workflow


class ListWorkflowsResponse(TypedDict):
    data: list[Workflow]


class WorkflowGraph(TypedDict):
    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]


class WorkflowGraphResponse(TypedDict):
    graph: WorkflowGraph


class GraphValidation(TypedDict, total=False):
    valid: bool
    errors: list[str]


class TriggerWorkflowParams(TypedDict):
    contact_id: str
    """The contact's ``con_…`` id."""


class WorkflowRun(TypedDict, total=False):
    id: int
    workflowId: int
    contactId: int
    status: str
    currentNodeId: int | None
    nodesVisited: int
    startedAt: str
    completedAt: str | None


class TriggerWorkflowResponse(TypedDict):
    run: WorkflowRun


class _PostEventRequired(TypedDict):
    event: str
    """Matched exactly (case-sensitive) against ``custom`` triggers."""


class PostEventParams(_PostEventRequired, total=False):
    """Name the contact by ``contact_id`` (``con_…``) or by ``email``."""

    contact_id: str
    email: str


class PostEventResponse(TypedDict):
    event: str
    matched: int
    """How many workflows enrolled the contact: 0 often means a misspelled event."""

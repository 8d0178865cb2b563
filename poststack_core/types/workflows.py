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
    """An automation: its trigger, its status and when it changed."""

    triggerConfig: dict[str, Any] | None


class _CreateWorkflowRequired(TypedDict):
    name: str
    trigger_type: TriggerType


class CreateWorkflowParams(_CreateWorkflowRequired, total=False):
    """The payload of ``workflows.create``."""

    trigger_config: dict[str, Any]


class UpdateWorkflowParams(TypedDict, total=False):
    """The payload of ``workflows.update``."""

    name: str
    trigger_type: TriggerType
    trigger_config: dict[str, Any] | None


class WorkflowResponse(TypedDict):
    """What ``workflows.create``, ``workflows.get``, ``workflows.update``, ``workflows.activate``,
    ``workflows.pause`` answer.
    """

    workflow: Workflow


class ListWorkflowsResponse(TypedDict):
    """What ``workflows.list`` answers."""

    data: list[Workflow]


class WorkflowGraph(TypedDict):
    """The payload of ``workflows.put_graph``."""

    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]


class WorkflowGraphResponse(TypedDict):
    """What ``workflows.get_graph``, ``workflows.put_graph`` answer."""

    graph: WorkflowGraph


class GraphValidation(TypedDict, total=False):
    """What ``workflows.validate_graph`` answers."""

    valid: bool
    errors: list[str]


class TriggerWorkflowParams(TypedDict):
    """The payload of ``workflows.trigger``."""

    contact_id: str
    """The contact's ``con_…`` id."""


class WorkflowRun(TypedDict, total=False):
    """One run of a workflow for a contact, and where it has got to."""

    id: int
    workflowId: int
    contactId: int
    status: str
    currentNodeId: int | None
    nodesVisited: int
    startedAt: str
    completedAt: str | None


class TriggerWorkflowResponse(TypedDict):
    """What ``workflows.trigger`` answers."""

    run: WorkflowRun


class _PostEventRequired(TypedDict):
    event: str
    """Matched exactly (case-sensitive) against ``custom`` triggers."""


class PostEventParams(_PostEventRequired, total=False):
    """Name the contact by ``contact_id`` (``con_…``) or by ``email``."""

    contact_id: str
    email: str


class PostEventResponse(TypedDict):
    """What ``workflows.post_event`` answers."""

    event: str
    matched: int
    """How many workflows enrolled the contact: 0 often means a misspelled event."""

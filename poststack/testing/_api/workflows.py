"""``workflows``: automations started by contact events, custom events or by hand.

A workflow is a trigger plus a graph of nodes and edges. The sandbox checks
graphs (unique node ids, edges between existing nodes, no cycles) and records
a run whenever an active workflow is triggered: ``trigger`` for ``manual``
workflows, ``post_event`` for ``custom`` ones (``trigger_config.event``
matched exactly), creating a contact for ``contact.created`` and subscribing
one for ``contact.subscribed``. A run visits every node reachable from the
graph's first node and completes at once: the sandbox does not carry out the
nodes' actions (it sends no email from a workflow).
"""

from __future__ import annotations

from typing import Any

from .._http import Reply
from .._routing import ApiRequest, Routes, created, ok, success
from .._store import Entity
from .._validation import Fields, JSONObject, conflict, not_found, unprocessable
from ._common import Kind, obj, seq
from .contacts import CONTACT, find_by_email

__all__ = ["enroll", "routes"]

routes = Routes()
WORKFLOW = Kind("workflow", "Workflow", prefix="wf", updated_at=True)
RUN = Kind("workflow_run", "Workflow run")
TRIGGERS = ("contact.created", "contact.subscribed", "custom", "manual")


def _trigger(fields: Fields, current: JSONObject | None = None) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if fields.has("trigger_type") or current is None:
        changes["triggerType"] = fields.required_choice("trigger_type", TRIGGERS)
    if fields.has("trigger_config"):
        changes["triggerConfig"] = fields.mapping("trigger_config")
    merged = {**(current or {}), **changes}
    config = obj(merged.get("triggerConfig"))
    if merged["triggerType"] == "custom" and not isinstance(config.get("event"), str):
        raise unprocessable("A custom trigger needs trigger_config.event, the event's name")
    return changes


def graph_errors(graph: JSONObject) -> list[str]:
    """What is wrong with a graph (empty when it is valid)."""
    nodes = [obj(node) for node in seq(graph.get("nodes"))]
    edges = [obj(edge) for edge in seq(graph.get("edges"))]
    errors: list[str] = []
    if not nodes:
        errors.append("The graph has no nodes")
    ids = [str(node.get("id")) for node in nodes]
    if len(set(ids)) != len(ids):
        errors.append("Node ids must be unique")
    known = set(ids)
    following: dict[str, list[str]] = {node_id: [] for node_id in ids}
    for index, edge in enumerate(edges):
        source, target = _ends(edge)
        if source not in known or target not in known:
            errors.append(f"edges[{index}] joins a node that does not exist")
        else:
            following[source].append(target)
    if _has_cycle(following):
        errors.append("The graph has a cycle")
    return errors


def _ends(edge: JSONObject) -> tuple[str, str]:
    return str(edge.get("from", edge.get("source"))), str(edge.get("to", edge.get("target")))


def _has_cycle(following: dict[str, list[str]]) -> bool:
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str) -> bool:
        state[node] = 1
        for nxt in following.get(node, []):
            if state.get(nxt) == 1 or (nxt not in state and visit(nxt)):
                return True
        state[node] = 2
        return False

    return any(node not in state and visit(node) for node in list(following))


def _reachable(graph: JSONObject) -> int:
    nodes = [obj(node) for node in seq(graph.get("nodes"))]
    if not nodes:
        return 0
    following: dict[str, list[str]] = {}
    for edge in seq(graph.get("edges")):
        source, target = _ends(obj(edge))
        following.setdefault(source, []).append(target)
    seen = {str(nodes[0].get("id"))}
    stack = list(seen)
    while stack:
        for nxt in following.get(stack.pop(), []):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return len(seen)


def _run(call: ApiRequest, workflow: Entity, contact: Entity) -> Entity:
    now = call.backend.now_iso()
    return RUN.create(
        call.backend.store,
        {
            "workflowId": workflow.data["id"],
            "contactId": contact.data["id"],
            "status": "completed",
            "currentNodeId": None,
            "nodesVisited": _reachable(workflow.private.get("graph") or {}),
            "startedAt": now,
            "completedAt": now,
        },
        now=now,
    )


def enroll(call: ApiRequest, trigger: str, contact: Entity, event: str | None = None) -> int:
    """Run every active workflow with this trigger for the contact; how many ran."""
    matched = 0
    for workflow in WORKFLOW.all(call.backend.store):
        data = workflow.data
        if data["status"] != "active" or data["triggerType"] != trigger:
            continue
        if event is not None and obj(data.get("triggerConfig")).get("event") != event:
            continue
        _run(call, workflow, contact)
        matched += 1
    return matched


def _find(call: ApiRequest) -> Entity:
    return WORKFLOW.find(call.backend.store, call.param("id"))


@routes.post("/workflows")
def create(call: ApiRequest) -> Reply:
    fields = call.body()
    name = fields.required_text("name")
    trigger = _trigger(fields)
    workflow = WORKFLOW.create(
        call.backend.store,
        {"name": name, "triggerConfig": None, **trigger, "status": "draft"},
        now=call.backend.now_iso(),
        private={"graph": {"nodes": [], "edges": []}},
    )
    return created({"workflow": workflow.data})


@routes.get("/workflows")
def list_(call: ApiRequest) -> Reply:
    return ok({"data": [w.data for w in WORKFLOW.all(call.backend.store)]})


@routes.get("/workflows/{id}")
def get(call: ApiRequest) -> Reply:
    return ok({"workflow": _find(call).data})


@routes.patch("/workflows/{id}")
def update(call: ApiRequest) -> Reply:
    workflow = _find(call)
    fields = call.body()
    changes = _trigger(fields, workflow.data)
    if fields.has("name"):
        changes["name"] = fields.required_text("name")
    workflow = WORKFLOW.update(call.backend.store, workflow, changes, now=call.backend.now_iso())
    return ok({"workflow": workflow.data})


@routes.delete("/workflows/{id}")
def delete(call: ApiRequest) -> Reply:
    WORKFLOW.remove(call.backend.store, _find(call))
    return success()


@routes.get("/workflows/{id}/graph")
def get_graph(call: ApiRequest) -> Reply:
    return ok({"graph": _find(call).private.get("graph") or {"nodes": [], "edges": []}})


@routes.put("/workflows/{id}/graph")
def put_graph(call: ApiRequest) -> Reply:
    workflow = _find(call)
    fields = call.body()
    nodes = fields.objects("nodes", required=False) or []
    edges = fields.objects("edges", required=False) or []
    for index, node in enumerate(nodes):
        if node.get("id") is None or not isinstance(node.get("type"), str):
            raise unprocessable(f"nodes[{index}] needs an id and a type")
    graph = {"nodes": nodes, "edges": edges}
    problems = [e for e in graph_errors(graph) if e != "The graph has no nodes"]
    if problems:
        raise unprocessable(problems[0])
    WORKFLOW.update(
        call.backend.store, workflow, {}, now=call.backend.now_iso(), private={"graph": graph}
    )
    return ok({"graph": graph})


@routes.post("/workflows/{id}/validate")
def validate_graph(call: ApiRequest) -> Reply:
    errors = graph_errors(_find(call).private.get("graph") or {})
    return ok({"valid": not errors, "errors": errors})


@routes.post("/workflows/{id}/activate")
def activate(call: ApiRequest) -> Reply:
    workflow = _find(call)
    errors = graph_errors(workflow.private.get("graph") or {})
    if errors:
        raise unprocessable(f"The workflow's graph is not valid: {errors[0]}")
    workflow = WORKFLOW.update(
        call.backend.store, workflow, {"status": "active"}, now=call.backend.now_iso()
    )
    return ok({"workflow": workflow.data})


@routes.post("/workflows/{id}/pause")
def pause(call: ApiRequest) -> Reply:
    workflow = _find(call)
    if workflow.data["status"] != "active":
        raise conflict(f"Only an active workflow can be paused (status: {workflow.data['status']})")
    workflow = WORKFLOW.update(
        call.backend.store, workflow, {"status": "paused"}, now=call.backend.now_iso()
    )
    return ok({"workflow": workflow.data})


@routes.post("/workflows/{id}/trigger")
def trigger(call: ApiRequest) -> Reply:
    workflow = _find(call)
    contact = CONTACT.find(call.backend.store, call.body().required_text("contact_id"))
    data = workflow.data
    if data["status"] != "active" or data["triggerType"] != "manual":
        raise unprocessable("Only an active workflow with a manual trigger can be triggered")
    return created({"run": _run(call, workflow, contact).data})


@routes.post("/workflows/events")
def post_event(call: ApiRequest) -> Reply:
    fields = call.body()
    event = fields.required_text("event")
    store = call.backend.store
    contact_id = fields.text("contact_id")
    email = fields.address("email")
    if contact_id is not None:
        contact = CONTACT.find(store, contact_id)
    elif email is not None:
        found = find_by_email(store, email.address)
        if found is None:
            raise not_found("Contact")
        contact = found
    else:
        raise unprocessable("Name the contact with contact_id or email")
    return ok({"event": event, "matched": enroll(call, "custom", contact, event)})

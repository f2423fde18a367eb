"""Routes the web UI adds to the 2021 API (all read-only): check a draft definition, draw a
workflow's graph, read an old revision, and list the states an instance went through."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from dirigent.api.deps import ServerDep, route
from dirigent.api.shapes import WorkflowDetail
from dirigent.api.ui_shapes import GraphOut, InstanceVisitsOut, LintOut
from dirigent.operations import inspection as ops
from dirigent.operations.instances import instance_id
from dirigent.ui.graph import workflow_graph
from dirigent.ui.layout import draw

router = APIRouter(tags=["web UI"])

_YAML_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"text/yaml": {"schema": {"type": "string"}}},
        "description": "A workflow definition (YAML), which is not stored",
    }
}
Revision = Annotated[int, Path(ge=0, description="A revision number (the first is 0)")]


@route(router, "POST", "/api/namespaces/{namespace}/lint", openapi_extra=_YAML_BODY)
async def lint_workflow(server: ServerDep, namespace: str, request: Request) -> LintOut:
    """Check a definition as a push would, without storing it: its problems with their lines
    (an invalid draft is a 200 with `valid: false`), and its graph when it loads."""
    result = await ops.lint_workflow(server, namespace, await request.body())
    graph = (
        None if result.definition is None else GraphOut.of(draw(workflow_graph(result.definition)))
    )
    return LintOut.of(result, graph)


@route(router, "GET", "/api/namespaces/{namespace}/workflows/{workflow}/graph")
async def workflow_graph_route(
    server: ServerDep,
    namespace: str,
    workflow: str,
    revision: Annotated[
        int | None, Query(ge=0, description="A revision; the latest when left out")
    ] = None,
) -> GraphOut:
    """The workflow's graph, drawn in rows from the start state down: each state's box and each
    edge's line."""
    _, definition = await ops.get_definition(server, namespace, workflow, revision)
    return GraphOut.of(draw(workflow_graph(definition)))


@route(router, "GET", "/api/namespaces/{namespace}/workflows/{workflow}/revisions/{revision}")
async def get_revision(
    server: ServerDep, namespace: str, workflow: str, revision: Revision
) -> WorkflowDetail:
    """One revision of the workflow, with its YAML (base64); every update adds one, and old ones
    are kept, so revisions run from 0 to the workflow's `revision`."""
    return WorkflowDetail.of(await ops.get_revision(server, namespace, workflow, revision))


@route(router, "GET", "/api/instances/{namespace}/{workflow}/{id}/visits")
async def instance_visits(
    server: ServerDep, namespace: str, workflow: str, id: str
) -> InstanceVisitsOut:
    """The states the instance went through, read from its log: when each was entered and left,
    its log lines, its error, and its input and output where the store keeps them (see
    docs/ui.md); and the actions of the current state."""
    history = await ops.instance_history(server, instance_id(namespace, workflow, id))
    return InstanceVisitsOut.of(history)

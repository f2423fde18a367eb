"""Routes of workflows: list, push (create), get, update, toggle, delete, download, metrics, and the
workflow's instances."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from dirigent.api.deps import ERRORS, Limit, Offset, ServerDep, page_limit, route
from dirigent.api.instances import StatusFilter
from dirigent.api.shapes import (
    InstanceBrief,
    InstanceList,
    MetricsOut,
    WorkflowDeleted,
    WorkflowDetail,
    WorkflowList,
    WorkflowSummary,
    WorkflowWritten,
)
from dirigent.errors import InvalidInput
from dirigent.operations import instances as instance_ops
from dirigent.operations import workflows as ops
from dirigent.operations.schedules import next_runs

router = APIRouter(prefix="/api/namespaces/{namespace}/workflows", tags=["workflows"])

_YAML_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"text/yaml": {"schema": {"type": "string"}}},
        "description": "The workflow definition (YAML)",
    }
}


async def _yaml(request: Request) -> bytes | None:
    """The request body, or None when it is empty (or blank)."""
    body = await request.body()
    return body if body.strip() else None


@route(router, "GET", "/")
async def list_workflows(
    server: ServerDep, namespace: str, offset: Offset = 0, limit: Limit = 0
) -> WorkflowList:
    """The namespace's workflows by id (their latest revisions)."""
    limit = page_limit(limit, 100)
    records, total = await ops.list_workflows(server, namespace, offset, limit)
    return WorkflowList(
        workflows=[WorkflowSummary.of(r) for r in records],
        offset=offset,
        limit=limit,
        total=total,
    )


@route(router, "POST", "", openapi_extra=_YAML_BODY)
async def push_workflow(server: ServerDep, namespace: str, request: Request) -> WorkflowWritten:
    """Create a workflow from its YAML; its id is the YAML's `id`. Validation errors (400) name the
    line of each problem; 409 if a workflow with that id exists."""
    source = await _yaml(request)
    if source is None:
        raise InvalidInput("body: send the workflow definition (YAML) as the request body")
    return WorkflowWritten.of_pushed(await ops.push_workflow(server, namespace, source))


@route(router, "GET", "/{workflow}")
async def get_workflow(server: ServerDep, namespace: str, workflow: str) -> WorkflowDetail:
    """The workflow with its YAML (base64) as of the latest revision, and for a scheduled workflow
    its next start times."""
    record = await ops.get_workflow(server, namespace, workflow)
    return WorkflowDetail.of(record, await next_runs(server.store, namespace, workflow))


@route(router, "PUT", "/{workflow}", openapi_extra=_YAML_BODY)
async def update_workflow(
    server: ServerDep,
    namespace: str,
    workflow: str,
    request: Request,
    revision: Annotated[
        int | None,
        Query(ge=0, description="Refuse (409) unless this is the latest revision"),
    ] = None,
    active: Annotated[bool | None, Query(description="Activate or deactivate")] = None,
    logEvent: Annotated[  # the 2021 parameter name
        str | None, Query(description="Emit log lines as CloudEvents of this logger; '' is off")
    ] = None,
) -> WorkflowWritten:
    """Store a new revision from the YAML body (its `id` must be the workflow's) and/or change the
    flags. An empty body changes only the flags."""
    source = await _yaml(request)
    pushed = await ops.update_workflow(
        server,
        namespace,
        workflow,
        source,
        revision=revision,
        active=active,
        log_event=logEvent,
    )
    return WorkflowWritten.of_pushed(pushed)


@route(router, "PUT", "/{workflow}/toggle")
async def toggle_workflow(server: ServerDep, namespace: str, workflow: str) -> WorkflowWritten:
    """Flip `active`. Inactive workflows cannot be executed."""
    record = await ops.toggle_workflow(server, namespace, workflow)
    return WorkflowWritten(**WorkflowSummary.of(record).model_dump())


@route(router, "DELETE", "/{workflow}")
async def delete_workflow(server: ServerDep, namespace: str, workflow: str) -> WorkflowDeleted:
    """Delete the workflow, its revisions, instances (running ones are cancelled first) and
    variables."""
    await ops.delete_workflow(server, namespace, workflow)
    server.metrics.forget(namespace, workflow)
    return WorkflowDeleted(id=workflow)


@route(
    router,
    "GET",
    "/{workflow}/download",
    response_class=Response,
    responses={**ERRORS, 200: {"content": {"application/x-yaml": {}}, "description": "The YAML"}},
)
async def download_workflow(server: ServerDep, namespace: str, workflow: str) -> Response:
    """The workflow's YAML as uploaded."""
    record = await ops.get_workflow(server, namespace, workflow)
    return Response(
        record.source,
        media_type="application/x-yaml",
        headers={"Content-Disposition": f'attachment; filename="{record.id}.yaml"'},
    )


@route(router, "GET", "/{workflow}/instances/")
async def list_workflow_instances(
    server: ServerDep,
    namespace: str,
    workflow: str,
    offset: Offset = 0,
    limit: Limit = 0,
    status: StatusFilter = None,
) -> InstanceList:
    """The workflow's instances (with `status`, only those), newest first."""
    limit = page_limit(limit, 100)
    found, total = await instance_ops.list_instances(
        server, namespace, workflow, offset, limit, status
    )
    return InstanceList(
        workflowInstances=[InstanceBrief.of(s) for s in found],
        offset=offset,
        limit=limit,
        total=total,
    )


@route(router, "GET", "/{workflow}/metrics")
async def workflow_metrics(
    server: ServerDep,
    namespace: str,
    workflow: str,
    since: Annotated[
        datetime | None,
        Query(description="Count only instances begun since (RFC 3339, or Unix seconds)"),
    ] = None,
) -> MetricsOut:
    """Counts of the workflow's instances: run, successful, failed, error codes, run times (from
    the store, over the instances begun since `since`); and per state, as this server saw them since
    it started (`statesSince`; kept in memory, per server): executions, times, unhandled errors."""
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    counts = await ops.workflow_metrics(server, namespace, workflow, since)
    metrics = server.metrics
    return MetricsOut.of(counts, metrics.states_of(namespace, workflow), metrics.since)

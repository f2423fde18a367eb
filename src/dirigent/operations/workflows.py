"""Workflow operations: push (create), update, toggle, get, list, delete, metrics.

A workflow is stored as the YAML it was uploaded as, after `load_workflow` accepted it; its id is the
YAML's `id`. Every update adds a revision (old ones stay, so running instances keep their definition);
`active` and `logEvent` are flags of the workflow, not of a revision.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from dirigent.errors import Conflict, InvalidInput, NotFound
from dirigent.operations.events import register_listeners
from dirigent.operations.namespaces import cancel_pending, check_name, get_namespace, note
from dirigent.operations.schedules import register_schedule
from dirigent.spec import DefinitionError, Problem, WorkflowDefinition, load_workflow
from dirigent.spec.limits import long_call_warnings
from dirigent.store.records import WorkflowRecord

if TYPE_CHECKING:
    from dirigent.operations.server import Server

#: Instances read per page when counting metrics.
_METRICS_PAGE = 1000


@dataclass(frozen=True, slots=True)
class PushedWorkflow:
    """A stored revision and the warnings its definition raised (e.g. unreachable states)."""

    record: WorkflowRecord
    warnings: tuple[Problem, ...] = ()


def describe_problems(problems: list[Problem]) -> str:
    """One line per problem: `line 14, column 15: states[2].action.function: no function 'x'`."""
    lines = []
    for problem in problems:
        parts = []
        if problem.line is not None:
            column = f", column {problem.column}" if problem.column is not None else ""
            parts.append(f"line {problem.line}{column}")
        if problem.path:
            parts.append(problem.path)
        parts.append(problem.message)
        text = ": ".join(parts)
        lines.append(f"warning: {text}" if problem.severity == "warning" else text)
    return "\n".join(lines)


def parse_workflow(source: bytes, file: str = "workflow.yaml") -> WorkflowDefinition:
    """Load and check a definition; InvalidInput listing every problem with its line otherwise."""
    try:
        return load_workflow(source, file)
    except DefinitionError as error:
        errors = error.errors or error.problems
        raise InvalidInput(
            "the workflow definition is not valid:\n" + describe_problems(errors)
        ) from None


async def push_workflow(server: Server, namespace: str, source: bytes) -> PushedWorkflow:
    """Create a workflow from its YAML (revision 0, active). Its id is the YAML's `id`.

    NotFound without the namespace, InvalidInput for a definition that does not load, Conflict when a
    workflow with that id exists.
    """
    await get_namespace(server, namespace)
    definition = parse_workflow(source)
    now = server.runtime.clock.now()
    record = await server.store.create_workflow(
        WorkflowRecord(
            namespace=namespace,
            id=definition.id,
            revision=0,
            source=source,
            active=True,
            description=definition.workflow.description or "",
            created_at=now,
            updated_at=now,
        )
    )
    await _register_starts(server, record, definition)
    await note(server, namespace, f"workflow '{definition.id}' created")
    return PushedWorkflow(record, _warnings(server, definition))


async def update_workflow(
    server: Server,
    namespace: str,
    workflow: str,
    source: bytes | None,
    *,
    revision: int | None = None,
    active: bool | None = None,
    log_event: str | None = None,
) -> PushedWorkflow:
    """Store a new revision from `source` (if given) and change the flags (those not None).

    `revision` is an optimistic lock: the update is refused with Conflict unless it is the latest
    revision. The YAML's `id` must be `workflow` (renaming is not an update). Nothing at all to change
    is InvalidInput.
    """
    current = await get_workflow(server, namespace, workflow)
    if revision is not None and revision != current.revision:
        raise Conflict(
            f"revision: workflow '{workflow}' is at revision {current.revision}, not {revision}"
        )
    if source is None and active is None and log_event is None:
        raise InvalidInput(
            "body: nothing to update: send the workflow's YAML, or set active= or logEvent="
        )
    warnings: tuple[Problem, ...] = ()
    record = current
    definition: WorkflowDefinition | None = None
    if source is not None:
        definition = parse_workflow(source)
        if definition.id != workflow:
            raise InvalidInput(
                f"id: the definition's id '{definition.id}' is not '{workflow}' "
                "(a workflow cannot be renamed; push it as a new one)"
            )
        warnings = _warnings(server, definition)
        record = await server.store.update_workflow(
            namespace,
            workflow,
            source=source,
            description=definition.workflow.description or "",
            now=server.runtime.clock.now(),
            expected_revision=current.revision if revision is not None else None,
        )
    if active is not None or log_event is not None:
        record = await server.store.set_workflow_flags(
            namespace, workflow, active=active, log_to_events=log_event
        )
    await _register_starts(server, record, definition)
    changes = [f"revision {record.revision}"] if source is not None else []
    if active is not None:
        changes.append("active" if record.active else "inactive")
    if log_event is not None:
        changes.append(f"logEvent '{log_event}'" if log_event else "no logEvent")
    await note(server, namespace, f"workflow '{workflow}' updated: {', '.join(changes)}")
    return PushedWorkflow(record, warnings)


async def toggle_workflow(server: Server, namespace: str, workflow: str) -> WorkflowRecord:
    """Flip `active`: an inactive workflow cannot be executed."""
    current = await get_workflow(server, namespace, workflow)
    record = await server.store.set_workflow_flags(
        namespace, workflow, active=not current.active, log_to_events=None
    )
    await _register_starts(server, record)
    state = "activated" if record.active else "deactivated"
    await note(server, namespace, f"workflow '{workflow}' {state}")
    return record


async def _register_starts(
    server: Server, record: WorkflowRecord, definition: WorkflowDefinition | None = None
) -> None:
    """Event listeners and the schedule of the workflow as its latest revision and `active` say."""
    if definition is None:
        found = await server.workflows.get_workflow(record.namespace, record.id)
        definition = found.definition if found is not None else None
    await register_listeners(server.store, record, definition)
    zone = server.config.schedule_time_zone
    await register_schedule(server.store, record, definition, zone, server.runtime.clock.now())
    if server.scheduler is not None:
        server.scheduler.wake()


async def get_workflow(server: Server, namespace: str, workflow: str) -> WorkflowRecord:
    """The latest revision; NotFound naming the namespace or the workflow that is missing."""
    check_name(namespace, "namespace")
    check_name(workflow, "workflow")
    record = await server.store.get_workflow(namespace, workflow)
    if record is None:
        await get_namespace(server, namespace)
        raise NotFound(f"workflow '{workflow}' does not exist in namespace '{namespace}'")
    return record


async def list_workflows(
    server: Server, namespace: str, offset: int = 0, limit: int = 100
) -> tuple[list[WorkflowRecord], int]:
    """A page of the namespace's workflows (latest revisions, by id) and how many there are."""
    await get_namespace(server, namespace)
    return await server.store.list_workflows(namespace, offset, limit)


async def delete_workflow(server: Server, namespace: str, workflow: str) -> None:
    """Delete a workflow with its revisions, instances and variables. Running instances are
    cancelled first."""
    await get_workflow(server, namespace, workflow)
    await cancel_pending(server, namespace, workflow)
    await server.store.delete_workflow(namespace, workflow)
    server.workflows.forget(namespace, workflow)
    await note(server, namespace, f"workflow '{workflow}' deleted")


@dataclass(frozen=True, slots=True)
class WorkflowMetrics:
    """Counts over a workflow's instances (those begun at or after `since`, if given)."""

    total: int = 0
    pending: int = 0
    complete: int = 0
    failed: int = 0
    total_milliseconds: int = 0
    error_codes: dict[str, int] = field(default_factory=dict)

    @property
    def ended(self) -> int:
        return self.total - self.pending

    @property
    def mean_milliseconds(self) -> float:
        return self.total_milliseconds / self.ended if self.ended else 0.0

    @property
    def success_rate(self) -> float:
        return self.complete / self.ended if self.ended else 0.0

    @property
    def failure_rate(self) -> float:
        return self.failed / self.ended if self.ended else 0.0


async def workflow_metrics(
    server: Server, namespace: str, workflow: str, since: datetime | None = None
) -> WorkflowMetrics:
    """Count the workflow's instances by outcome and error code, and their run times.

    `failed` counts every instance that ended other than `complete` (failed, crashed, cancelled).
    """
    await get_workflow(server, namespace, workflow)
    total = pending = complete = failed = milliseconds = 0
    codes: Counter[str] = Counter()
    offset = 0
    while True:
        page, _ = await server.store.list_instances(
            namespace, workflow=workflow, offset=offset, limit=_METRICS_PAGE
        )
        for summary in page:
            if since is not None and summary.created_at < since:
                continue
            total += 1
            if summary.status == "pending":
                pending += 1
                continue
            if summary.status == "complete":
                complete += 1
            else:
                failed += 1
                codes[summary.error_code or summary.status] += 1
            if summary.ended_at is not None:
                milliseconds += int((summary.ended_at - summary.created_at).total_seconds() * 1000)
        # Newest first: once a page reaches past `since`, older pages cannot count.
        if len(page) < _METRICS_PAGE or (since is not None and page[-1].created_at < since):
            break
        offset += _METRICS_PAGE
    return WorkflowMetrics(total, pending, complete, failed, milliseconds, dict(codes))


def _warnings(server: Server, definition: WorkflowDefinition) -> tuple[Problem, ...]:
    """The definition's own warnings and those of this server's limits."""
    limit = timedelta(seconds=server.config.max_function_seconds)
    return (*definition.warnings, *long_call_warnings(definition, limit))

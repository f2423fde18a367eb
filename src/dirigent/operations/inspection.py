"""Read-only operations the web UI needs besides the 2021 API: check a draft definition, read any
revision of a workflow with its loaded definition, and read an instance with its whole log.

Nothing here changes anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dirigent.engine import Instance
from dirigent.errors import Internal, NotFound
from dirigent.operations.instances import get_instance
from dirigent.operations.namespaces import get_namespace
from dirigent.operations.workflows import get_workflow
from dirigent.spec import DefinitionError, Problem, WorkflowDefinition, load_workflow
from dirigent.store.records import LogEntry, WorkflowRecord

if TYPE_CHECKING:
    from dirigent.operations.server import Server

#: Log lines read per store query, and at most for one instance's history.
_LOG_PAGE = 1000
MAX_HISTORY_LINES = 20_000


@dataclass(frozen=True, slots=True)
class LintResult:
    """What the load-time checks found: the definition if it loads, and every problem (errors
    first, then warnings, each with its line and column)."""

    definition: WorkflowDefinition | None
    problems: tuple[Problem, ...]


async def lint_workflow(server: Server, namespace: str, source: bytes) -> LintResult:
    """Check a definition as a push would, without storing anything. NotFound without the
    namespace; problems of the definition are the result, not an error."""
    await get_namespace(server, namespace)
    try:
        definition = load_workflow(source, "workflow.yaml")
    except DefinitionError as error:
        return LintResult(None, tuple(error.problems))
    return LintResult(definition, tuple(definition.warnings))


async def get_revision(
    server: Server, namespace: str, workflow: str, revision: int | None = None
) -> WorkflowRecord:
    """Revision `revision` of the workflow (the latest when None); NotFound naming what is missing."""
    latest = await get_workflow(server, namespace, workflow)
    if revision is None or revision == latest.revision:
        return latest
    record = await server.store.get_workflow(namespace, workflow, revision)
    if record is None:
        raise NotFound(
            f"workflow '{workflow}' has no revision {revision} (the latest is {latest.revision})"
        )
    return record


async def get_definition(
    server: Server, namespace: str, workflow: str, revision: int | None = None
) -> tuple[WorkflowRecord, WorkflowDefinition]:
    """A revision and its loaded definition (parsed once per revision and kept)."""
    record = await get_revision(server, namespace, workflow, revision)
    loaded = await server.workflows.get_workflow(namespace, workflow, record.revision)
    if loaded is None:
        raise Internal(f"workflow '{workflow}' revision {record.revision} does not load")
    return record, loaded.definition


@dataclass(frozen=True, slots=True)
class InstanceHistory:
    """An instance as last committed, and its log from the first line (at most
    `MAX_HISTORY_LINES`; `complete` is False when there are more)."""

    instance: Instance
    log: tuple[LogEntry, ...]
    complete: bool


async def instance_history(server: Server, instance_id: str) -> InstanceHistory:
    """The instance and its log; NotFound if there is no such instance.

    The record is read first, so the log holds every line its steps wrote (and maybe lines of
    steps committed since).
    """
    instance = await get_instance(server, instance_id)
    lines: list[LogEntry] = []
    while len(lines) < MAX_HISTORY_LINES:
        page = await server.store.list_logs(instance_id, len(lines), _LOG_PAGE)
        lines.extend(page)
        if len(page) < _LOG_PAGE:
            break
    complete = len(lines) < MAX_HISTORY_LINES
    return InstanceHistory(instance, tuple(lines), complete)

"""In-process sources for the embedded engine: workflows from files, secrets, events."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from dirigent.operations.ports import EventSink, WorkflowRevision
from dirigent.spec import DefinitionError, WorkflowDefinition, load_workflow_file
from dirigent.types import JSONObject


class WorkflowFiles:
    """Workflows of one namespace, found in YAML files; each is known by its `id`.

    Files that fail to load are remembered with their problems and named when a workflow is missing.
    """

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self._workflows: dict[str, WorkflowDefinition] = {}
        self.broken: dict[Path, DefinitionError] = {}

    def add(self, definition: WorkflowDefinition) -> None:
        self._workflows[definition.workflow.id] = definition

    def add_directory(self, directory: Path, skip: Iterable[Path] = ()) -> None:
        """Load every *.yaml / *.yml file of `directory` (not recursing), except those in `skip`."""
        skipped = {p.resolve() for p in skip}
        for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
            if path.resolve() in skipped:
                continue
            try:
                definition = load_workflow_file(path)
            except DefinitionError as error:
                self.broken[path] = error
                continue
            self._workflows.setdefault(definition.workflow.id, definition)

    async def get_workflow(
        self, namespace: str, workflow: str, revision: int | None = None
    ) -> WorkflowRevision | None:
        definition = self._workflows.get(workflow) if namespace == self.namespace else None
        return WorkflowRevision(definition) if definition else None


class SecretMap:
    """Secrets given on the command line or by a test; one namespace."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)

    async def get_secret(self, namespace: str, name: str) -> str | None:
        return self._values.get(name)


class EventLog:
    """Keeps emitted events in memory and tells listeners, then hands each to `forward` (the event
    intake of the embedded engine, which wakes its waiting instances), if given."""

    def __init__(self, forward: EventSink | None = None) -> None:
        self.events: list[tuple[str, JSONObject]] = []
        self.listeners: list[Callable[[str, JSONObject], None]] = []
        self.forward = forward

    async def emit(self, namespace: str, event: JSONObject) -> None:
        self.events.append((namespace, event))
        for listener in self.listeners:
            listener(namespace, event)
        if self.forward is not None:
            await self.forward.emit(namespace, event)

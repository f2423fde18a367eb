"""In-process sources for the embedded engine: workflows from files, services, secrets, events."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from dirigent.errors import Code, WorkflowError
from dirigent.operations.ports import WorkflowRevision
from dirigent.spec import DefinitionError, WorkflowDefinition, load_workflow_file
from dirigent.spec.functions import (
    FunctionDefinition,
    KnativeGlobalFunction,
    KnativeNamespaceFunction,
    SubflowFunction,
)
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


class ServiceMap:
    """Maps functions to URLs: by function id first, then by service name or image.

    This is how `dirigent run --service NAME=URL` reaches functions that run elsewhere.
    """

    def __init__(self, urls: Mapping[str, str]) -> None:
        self.urls = {name: url if url.endswith("/") else url + "/" for name, url in urls.items()}

    def url_for(self, namespace: str, function: FunctionDefinition) -> str:
        if isinstance(function, SubflowFunction):  # never called over HTTP
            raise WorkflowError(Code.INTERNAL, "a subflow is not an HTTP function", catchable=False)
        if function.id in self.urls:
            return self.urls[function.id]
        if isinstance(function, KnativeNamespaceFunction | KnativeGlobalFunction):
            name = function.service
        else:
            name = function.image
        if name in self.urls:
            return self.urls[name]
        raise WorkflowError(
            Code.INTERNAL,
            f"function '{function.id}' ({name}) has no address; "
            f"give one with --service {function.id}=http://host:port",
            catchable=False,
        )


class SecretMap:
    """Secrets given on the command line or by a test; one namespace."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)

    async def get_secret(self, namespace: str, name: str) -> str | None:
        return self._values.get(name)


class EventLog:
    """Keeps emitted events in memory and tells listeners; the embedded engine has no event intake."""

    def __init__(self) -> None:
        self.events: list[tuple[str, JSONObject]] = []
        self.listeners: list[Callable[[str, JSONObject], None]] = []

    async def emit(self, namespace: str, event: JSONObject) -> None:
        self.events.append((namespace, event))
        for listener in self.listeners:
            listener(namespace, event)

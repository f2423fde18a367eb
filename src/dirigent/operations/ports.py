"""The narrow interfaces the runtime reaches the outside through."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from dirigent.spec import WorkflowDefinition
from dirigent.types import JSONObject


@dataclass(frozen=True, slots=True)
class WorkflowRevision:
    """A loaded workflow definition and which revision of it this is."""

    definition: WorkflowDefinition
    revision: int = 0
    active: bool = True
    #: The workflow's `logEvent` setting: `log:` output also goes out as events of this logger.
    log_to_events: str = ""


class WorkflowSource(Protocol):
    async def get_workflow(
        self, namespace: str, workflow: str, revision: int | None = None
    ) -> WorkflowRevision | None:
        """The latest revision, or the one asked for (an instance runs the revision it started on)."""
        ...


class SecretSource(Protocol):
    async def get_secret(self, namespace: str, name: str) -> str | None: ...


class EventSink(Protocol):
    async def emit(self, namespace: str, event: JSONObject) -> None: ...

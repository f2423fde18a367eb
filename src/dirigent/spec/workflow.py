"""The workflow document (workflow-language.md §1) and its start definitions (§7)."""

# Pydantic copies mutable defaults (`= []`) for each instance; they are not shared.
# ruff: noqa: RUF012

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag

from dirigent.spec.base import Definition, type_field
from dirigent.spec.fields import Cron, Duration, StateId, WorkflowId
from dirigent.spec.functions import FunctionDefinition
from dirigent.spec.states import State


class StartEvent(Definition):
    """An event that starts an instance: its type and glob filters on context attributes."""

    type: str
    filters: dict[str, str] = {}


class DefaultStart(Definition):
    type: Literal["default"] = "default"
    state: StateId | None = None


class ScheduledStart(Definition):
    type: Literal["scheduled"]
    cron: Cron
    state: StateId | None = None


class EventStart(Definition):
    type: Literal["event"]
    event: StartEvent
    state: StateId | None = None


class EventsXorStart(Definition):
    type: Literal["eventsXor"]
    events: list[StartEvent] = Field(min_length=1)
    state: StateId | None = None


class EventsAndStart(Definition):
    type: Literal["eventsAnd"]
    events: list[StartEvent] = Field(min_length=1)
    correlate: list[str] = []
    lifespan: Duration | None = None
    state: StateId | None = None


Start = Annotated[
    Annotated[DefaultStart, Tag("default")]
    | Annotated[ScheduledStart, Tag("scheduled")]
    | Annotated[EventStart, Tag("event")]
    | Annotated[EventsXorStart, Tag("eventsXor")]
    | Annotated[EventsAndStart, Tag("eventsAnd")],
    Discriminator(type_field("default")),
]


class Timeouts(Definition):
    """Whole-instance limits: `interrupt` is catchable in the current state, `kill` is not."""

    interrupt: Duration | None = None
    kill: Duration | None = None


class SchemaDefinition(Definition):
    id: str
    schema_: dict[str, Any] | bool = Field(alias="schema")


class Workflow(Definition):
    """A workflow definition as written by users, validated field by field."""

    id: WorkflowId
    name: str | None = None
    description: str | None = None
    version: str | None = None
    singular: bool = False
    functions: list[FunctionDefinition] = []
    schemas: list[SchemaDefinition] = []
    states: list[State] = Field(min_length=1)
    timeouts: Timeouts | None = None
    start: Start | None = None

    @property
    def start_state_id(self) -> str:
        if self.start is not None and self.start.state is not None:
            return self.start.state
        return self.states[0].id

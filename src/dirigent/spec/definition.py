"""`WorkflowDefinition`: a loaded, checked workflow, in the form the engine consumes."""

from __future__ import annotations

from dataclasses import dataclass

from dirigent.spec.functions import FunctionDefinition
from dirigent.spec.json_schemas import SchemaValidator
from dirigent.spec.problems import Problem
from dirigent.spec.states import State
from dirigent.spec.workflow import Workflow


@dataclass(frozen=True)
class WorkflowDefinition:
    """A workflow that passed every load-time check.

    Invariants: state, function and schema ids are unique; every transition, `start.state`, action
    `function` and validate `schema` id names something that exists; every jq template, duration,
    cron expression, regex and JSON Schema is compiled. `states` and `functions` are keyed by id in
    definition order; `schemas` holds the compiled validator of each validate state, by state id.
    `warnings` are findings that do not stop the workflow (unreachable states).
    """

    workflow: Workflow
    file: str
    source: str
    states: dict[str, State]
    functions: dict[str, FunctionDefinition]
    schemas: dict[str, SchemaValidator]
    warnings: list[Problem]
    start_state: str

    @property
    def id(self) -> str:
        return self.workflow.id

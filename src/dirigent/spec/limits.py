"""Checks of a definition against a server's limits (function-contract.md §6), as warnings."""

from __future__ import annotations

from datetime import timedelta

from dirigent.spec.definition import WorkflowDefinition
from dirigent.spec.problems import Problem
from dirigent.spec.source import parse_document
from dirigent.spec.states import ActionState, ForeachState, ParallelState


def long_call_warnings(
    definition: WorkflowDefinition, max_function_time: timedelta
) -> list[Problem]:
    """A warning for each state that gives its function calls more time than the platform allows:
    the calls are stopped at the platform's limit whatever the state's `timeout` says."""
    document = None
    warnings: list[Problem] = []
    for index, state in enumerate(definition.workflow.states):
        if not isinstance(state, ActionState | ParallelState | ForeachState):
            continue
        if state.timeout is None or state.timeout <= max_function_time:
            continue
        document = document or parse_document(definition.source, definition.file)
        warnings.append(
            document.problem(
                ("states", index, "timeout"),
                f"function calls are stopped after {max_function_time.total_seconds():g} s "
                "(the server's max_function_seconds), before this timeout",
                "warning",
            )
        )
    return warnings

"""Checks across the document: unique ids, names that must exist, reachable states."""

from __future__ import annotations

import pytest

from dirigent.spec import load_workflow

from .support import at, errors_of, only_error, problems_of, where, yaml


def test_duplicate_ids_are_reported_at_the_second_one() -> None:
    text = yaml(
        """
        id: flow
        functions:
          - id: f
            image: i
          - id: f
            type: subflow
            workflow: other
        schemas:
          - id: s
            schema: {type: object}
          - id: s
            schema: true
        states:
          - id: a
            type: action
            action: {function: f}
            transition: a2
          - id: a2
            type: noop
          - id: a
            type: noop
        """
    )
    problems = errors_of(text)
    assert [(p.path, at(p), p.message) for p in problems] == [
        ("functions[1].id", where(text, "f", 4), "duplicate function id 'f': functions[0] has it too (line 3)"),
        ("schemas[1].id", (where(text, "id: s", 2)[0], 9), "duplicate schema id 's': schemas[0] has it too (line 9)"),
        ("states[2].id", (where(text, "id: a", 3)[0], 9), "duplicate state id 'a': states[0] has it too (line 14)"),
    ]  # fmt: skip
    assert problems[0].column == 9  # the id's value, not the start of the entry


@pytest.mark.parametrize(
    ("state", "path", "needle"),
    [
        ("type: noop\n    transition: nowhere", "states[1].transition", "nowhere"),
        (
            "type: noop\n    catch:\n      - error: '*'\n        transition: nowhere",
            "states[1].catch[0].transition",
            "nowhere",
        ),
        (
            "type: switch\n    conditions:\n      - condition: true\n        transition: start\n"
            "      - condition: false\n        transition: nowhere",
            "states[1].conditions[1].transition",
            "nowhere",
        ),
        (
            "type: switch\n    conditions:\n      - condition: true\n    defaultTransition: nowhere",
            "states[1].defaultTransition",
            "nowhere",
        ),
        (
            "type: eventXor\n    events:\n      - event: {type: t}\n        transition: nowhere",
            "states[1].events[0].transition",
            "nowhere",
        ),
    ],
)
def test_every_kind_of_transition_must_name_a_state(state: str, path: str, needle: str) -> None:
    text = f"id: flow\nstates:\n  - id: start\n    type: noop\n    transition: s\n  - id: s\n    {state}\n"
    problem = only_error(text)
    assert (problem.path, at(problem), problem.message) == (
        path,
        where(text, needle),
        "no state 'nowhere'",
    )


def test_start_state_must_exist_and_a_close_name_is_suggested() -> None:
    text = "id: flow\nstart:\n  state: frist\nstates:\n  - id: first\n    type: noop\n"
    problem = only_error(text)
    assert (problem.path, at(problem)) == ("start.state", (3, 10))
    assert problem.message == "no state 'frist'; did you mean 'first'?"


@pytest.mark.parametrize(
    ("state", "path"),
    [
        ("type: action\n    action:\n      function: greter", "states[0].action.function"),
        (
            "type: foreach\n    array: 'jq(.items)'\n    action: {function: greter}",
            "states[0].action.function",
        ),
        (
            "type: parallel\n    actions:\n      - function: greeter\n      - function: greter",
            "states[0].actions[1].function",
        ),
    ],
)
def test_actions_must_name_a_function(state: str, path: str) -> None:
    text = f"id: flow\nfunctions:\n  - id: greeter\n    image: i\nstates:\n  - id: a\n    {state}\n"
    problem = only_error(text)
    assert (problem.path, at(problem)) == (path, where(text, "greter"))
    assert problem.message == "no function 'greter'; did you mean 'greeter'?"


def test_subflow_shorthand_and_subflow_functions_need_no_other_function() -> None:
    definition = load_workflow(
        yaml(
            """
            id: flow
            functions:
              - id: child
                type: subflow
                workflow: child
            states:
              - id: a
                type: action
                async: true
                action: {workflow: child}
                transition: b
              - id: b
                type: action
                async: true
                action: {function: child}
            """
        )
    )
    assert list(definition.states) == ["a", "b"]


def test_validate_state_must_name_a_schema() -> None:
    text = yaml(
        """
        id: flow
        schemas:
          - id: person
            schema: {type: object}
        states:
          - id: a
            type: validate
            schema: persn
        """
    )
    problem = only_error(text)
    assert (problem.path, at(problem)) == ("states[0].schema", where(text, "persn"))
    assert problem.message == "no schema 'persn'; did you mean 'person'?"


def test_unreachable_states_are_warnings() -> None:
    text = yaml(
        """
        id: flow
        states:
          - id: a
            type: noop
            catch:
              - error: '*'
                transition: c
          - id: b
            type: noop
          - id: c
            type: noop
        """
    )
    definition = load_workflow(text, "flow.yaml")
    assert [(str(w), w.severity) for w in definition.warnings] == [
        (f"flow.yaml:{where(text, 'id: b')[0]}:5: states[1]: state 'b' is unreachable from the start state", "warning")
    ]  # fmt: skip


def test_a_name_already_reported_by_the_model_is_not_reported_again() -> None:
    # `no state 'bad id'` would say the same thing about the same place once more.
    text = "id: flow\nstates:\n  - id: a\n    type: noop\n    transition: bad id\n"
    problem = only_error(text)
    assert problem.path == "states[0].transition"
    assert problem.message.startswith("'bad id' is not a valid name here")


def test_names_are_checked_even_when_the_model_has_errors_elsewhere() -> None:
    text = yaml(
        """
        id: flow
        states:
          - id: a
            type: delay
            duration: 5 minutes
            transition: b
          - id: c
            type: noop
        """
    )
    problems = problems_of(text)
    assert [(p.path, p.severity, p.message) for p in problems] == [
        ("states[0].duration", "error", "not an ISO 8601 duration: '5 minutes' (examples: PT30S, PT5M, P1D)"),
        ("states[0].transition", "error", "no state 'b'"),
        ("states[1]", "warning", "state 'c' is unreachable from the start state"),
    ]  # fmt: skip


def test_no_name_checks_against_a_part_of_the_wrong_shape() -> None:
    # `functions` is broken; saying that `f` does not exist as well would be noise.
    text = (
        "id: flow\nfunctions: 5\nstates:\n  - id: a\n    type: action\n    action: {function: f}\n"
    )
    problem = only_error(text)
    assert (problem.path, problem.message) == ("functions", "expected a list, not 5")

"""Errors found by the model (pydantic), in the language's words, at their path, line and column."""

from __future__ import annotations

import pytest

from dirigent.spec.problems import Problem

from .support import at, errors_of, only_error, problems_of, where, yaml

STATE_TYPES_LISTED = (
    "noop, action, parallel, foreach, switch, validate, delay, error, getter, setter, "
    "generateEvent, consumeEvent, eventXor, eventAnd"
)


def test_unknown_state_type() -> None:
    text = yaml(
        """
        id: flow
        states:
          - id: a
            type: sleep
        """
    )
    problem = only_error(text)
    assert problem.path == "states[0].type"
    assert at(problem) == where(text, "sleep")
    assert problem.message == f"unknown state type 'sleep'; expected one of: {STATE_TYPES_LISTED}"


def test_callback_state_is_refused_with_a_pointer_to_consume_event() -> None:
    text = "id: flow\nstates:\n  - id: a\n    type: callback\n"
    problem = only_error(text)
    assert (problem.path, at(problem)) == ("states[0].type", (4, 11))
    assert problem.message == (
        "the callback state had no behaviour in Direktiv and is not supported; "
        "use consumeEvent to wait for an event"
    )


def test_state_without_type_or_not_a_map() -> None:
    text = "id: flow\nstates:\n  - id: a\n    transition: a\n  - just text\n"
    first, second = errors_of(text)
    assert (first.path, at(first)) == ("states[0]", (3, 5))
    assert first.message == f"missing required field 'type'; expected one of: {STATE_TYPES_LISTED}"
    assert (second.path, at(second)) == ("states[1]", (5, 5))
    assert second.message == "a state is a map with 'id' and 'type', not 'just text'"


@pytest.mark.parametrize(
    ("text", "path", "needle"),
    [
        ("id: flow\nfoo: 1\nstates:\n  - id: a\n    type: noop\n", "foo", "foo"),
        ("id: flow\nstates:\n  - id: a\n    type: noop\n    foo: 1\n", "states[0].foo", "foo"),
        (
            "id: flow\nfunctions:\n  - id: f\n    image: i\n    foo: 1\nstates:\n  - id: a\n"
            "    type: action\n    action: {function: f}\n",
            "functions[0].foo",
            "foo",
        ),
        (
            "id: flow\nfunctions:\n  - id: f\n    image: i\nstates:\n  - id: a\n    type: action\n"
            "    action:\n      function: f\n      retries:\n        max_attempts: 1\n"
            "        codes: ['*']\n        foo: 1\n",
            "states[0].action.retries.foo",
            "foo",
        ),
        (
            "id: flow\nstates:\n  - id: a\n    type: eventXor\n    events:\n      - event:\n"
            "          type: t\n          foo: 1\n",
            "states[0].events[0].event.foo",
            "foo",
        ),
        (
            "id: flow\nstart:\n  type: event\n  event: {type: t, foo: 1}\nstates:\n  - id: a\n"
            "    type: noop\n",
            "start.event.foo",
            "foo",
        ),
    ],
)
def test_unknown_keys_at_several_depths(text: str, path: str, needle: str) -> None:
    problem = only_error(text)
    assert problem.path == path
    assert problem.message == "unknown field 'foo'"
    assert at(problem) == where(text, needle)


def test_unknown_key_suggests_the_field_meant() -> None:
    text = "id: flow\nstates:\n  - id: a\n    type: noop\n    tranistion: b\n  - id: b\n    type: noop\n"
    problem = only_error(text)
    assert problem.path == "states[0].tranistion"
    assert problem.message == "unknown field 'tranistion'; did you mean 'transition'?"
    assert at(problem) == (5, 5)


def test_python_field_names_are_not_the_language() -> None:
    # The models call them `async_`, `schema_` and `as_`; only the language's spelling is accepted.
    text = yaml(
        """
        id: flow
        functions:
          - id: f
            image: i
            files:
              - key: k
                as_: name
        states:
          - id: a
            type: action
            async_: true
            action: {function: f}
        """
    )
    first, second = errors_of(text)
    assert (first.path, first.message) == (
        "functions[0].files[0].as_",
        "unknown field 'as_'; did you mean 'as'?",
    )
    assert (second.path, second.message) == (
        "states[0].async_",
        "unknown field 'async_'; did you mean 'async'?",
    )


def test_missing_field_points_at_the_map_that_lacks_it() -> None:
    text = yaml(
        """
        id: flow
        functions:
          - id: f
            type: isolated
        states:
          - id: a
            type: delay
        """
    )
    first, second = errors_of(text)
    assert (first.path, at(first), first.message) == (
        "functions[0]",
        (3, 5),
        "missing required field 'image'",
    )
    assert (second.path, at(second), second.message) == (
        "states[0]",
        (6, 5),
        "missing required field 'duration'",
    )


def test_missing_top_level_fields() -> None:
    problem = only_error("id: flow\n")
    assert (problem.path, at(problem), problem.message) == (
        "",
        (1, 1),
        "missing required field 'states'",
    )


def test_unquoted_jq_map_on_its_own_line() -> None:
    text = "id: flow\nstates:\n  - id: a\n    type: noop\n    transform:\n      jq({a: .b})\n"
    problem = only_error(text)
    assert (problem.path, at(problem)) == ("states[0].transform", (5, 5))
    assert problem.message == (
        "this jq(...) was read as a YAML map because it is not quoted; "
        "write it in quotes: 'jq({a: .b})'"
    )


def test_jq_that_does_not_compile_points_inside_the_template() -> None:
    text = yaml(
        """
        id: flow
        functions:
          - id: f
            image: i
        states:
          - id: a
            type: action
            action:
              function: f
              input:
                names: ['ok', 'jq(.a | )']
            transform: 'jq(.x'
        """
    )
    first, second = errors_of(text)
    assert first.path == "states[0].action.input.names[1]"
    assert at(first) == where(text, "'jq(.a")
    assert (
        first.message
        == "jq does not compile: .a |: syntax error, unexpected end of query (column 4)"
    )
    assert (second.path, at(second)) == ("states[0].transform", where(text, "'jq(.x"))
    assert (
        second.message
        == "unbalanced parentheses: the jq( at offset 0 of 'jq(.x' has no closing ')'"
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("5s", "not an ISO 8601 duration: '5s' (examples: PT30S, PT5M, P1D)"),
        ("PT", "not an ISO 8601 duration: 'PT' (examples: PT30S, PT5M, P1D)"),
        ("P1M", "duration 'P1M' uses years or months; use days (P30D) instead"),
        ("30", "a duration is an ISO 8601 string such as PT30S"),
    ],
)
def test_bad_duration(value: str, message: str) -> None:
    text = f"id: flow\nstates:\n  - id: a\n    type: delay\n    duration: {value}\n"
    problem = only_error(text)
    assert (problem.path, at(problem), problem.message) == ("states[0].duration", (5, 15), message)


def test_bad_cron() -> None:
    text = "id: flow\nstart:\n  type: scheduled\n  cron: every day\nstates:\n  - id: a\n    type: noop\n"
    problem = only_error(text)
    assert (problem.path, at(problem)) == ("start.cron", (4, 9))
    assert problem.message == "not a 5-field cron expression: 'every day' (example: '*/5 * * * *')"


def test_bad_retry_regex() -> None:
    text = yaml(
        """
        id: flow
        states:
          - id: a
            type: action
            action:
              workflow: child
              retries: {max_attempts: 1, codes: ['ok', '(']}
        """
    )
    problem = only_error(text)
    assert problem.path == "states[0].action.retries.codes[1]"
    assert at(problem) == where(text, "'('")
    assert problem.message == (
        "not a valid regular expression: '(' (missing ), unterminated subpattern at position 0)"
    )


def test_action_needs_exactly_one_target() -> None:
    text = "id: flow\nstates:\n  - id: a\n    type: action\n    action:\n      input: 1\n"
    problem = only_error(text)
    assert (problem.path, at(problem)) == ("states[0].action", (5, 5))
    assert problem.message == "an action names exactly one of 'function' or 'workflow'"


@pytest.mark.parametrize(
    ("line", "path", "message"),
    [
        ("singular: maybe", "singular", "expected true or false, not 'maybe'"),
        ("version: [1]", "version", "expected a string, not a list"),
        ("timeouts: 5", "timeouts", "expected a map, not 5"),
        ("functions: {id: f}", "functions", "expected a list, not a map"),
        ("id: Flow", "id", "'Flow' is not a valid name here; use lower-case letters, digits, '_' "
         "and '-', starting with a letter and ending with a letter or digit"),
        ("id: " + "a" * 65, "id", "longer than 64 characters"),
    ],
)  # fmt: skip
def test_type_errors_are_worded_for_authors(line: str, path: str, message: str) -> None:
    text = f"id: flow\n{line}\nstates:\n  - id: a\n    type: noop\n".replace("id: flow\nid:", "id:")
    problem = only_error(text)
    assert (problem.path, problem.message) == (path, message)
    key, value = line.split(": ", 1)
    # A scalar is pointed at itself; a map or list at the key that introduces it.
    assert at(problem) == where(text, key if value[0] in "[{" else value)


def test_enum_bounds_and_list_lengths() -> None:
    text = yaml(
        """
        id: flow
        functions:
          - id: f
            image: i
            size: huge
            scale: -1
        states:
          - id: a
            type: parallel
            mode: xor
            actions: []
        """
    )
    problems = {p.path: p for p in errors_of(text)}
    assert (
        problems["functions[0].size"].message == "expected 'small', 'medium' or 'large', not 'huge'"
    )
    assert problems["functions[0].scale"].message == "must be at least 0, not -1"
    assert problems["states[0].mode"].message == "expected 'and' or 'or', not 'xor'"
    assert problems["states[0].actions"].message == "needs at least 1 entry"
    assert at(problems["states[0].actions"]) == where(text, "actions")
    assert len(problems) == 4


def test_a_union_type_error_is_one_problem() -> None:
    text = "id: flow\nstates:\n  - id: a\n    type: validate\n    schema: 5\n"
    problem = only_error(text)
    assert (problem.path, at(problem)) == ("states[0].schema", (5, 13))
    assert problem.message == "expected a map, a boolean or a string, not 5"


def test_unknown_function_and_start_types() -> None:
    text = yaml(
        """
        id: flow
        functions:
          - id: f
            type: lambda
        start:
          type: webhook
        states:
          - id: a
            type: noop
        """
    )
    first, second = errors_of(text)
    assert (first.path, at(first)) == ("functions[0].type", where(text, "lambda"))
    assert first.message == (
        "unknown function type 'lambda'; expected one of: "
        "reusable, isolated, knative-namespace, knative-global, subflow"
    )
    assert (second.path, at(second)) == ("start.type", where(text, "webhook"))
    assert second.message == (
        "unknown start type 'webhook'; expected one of: default, scheduled, event, eventsXor, eventsAnd"
    )


def test_many_errors_are_reported_together_in_text_order() -> None:
    text = yaml(
        """
        id: Bad_
        functions:
          - id: greeter
        states:
          - id: a
            type: delay
            duration: soon
            transition: nowhere
          - id: b
            type: sleep
          - id: c
            type: noop
            transform: 'jq(.'
            extra: 1
        start:
          type: scheduled
          cron: 61 * * * *
        """
    )
    problems = problems_of(text)
    assert [(p.path, at(p)) for p in problems] == [
        ("id", where(text, "Bad_")),
        ("functions[0]", where(text, "id: greeter")),
        ("states[0].duration", where(text, "soon")),
        ("states[0].transition", where(text, "nowhere")),
        ("states[1].type", where(text, "sleep")),
        ("states[2].transform", where(text, "'jq(.'")),
        ("states[2].extra", where(text, "extra")),
        ("start.cron", where(text, "61 *")),
        # Warnings come after the errors.
        ("states[1]", where(text, "id: b")),
        ("states[2]", where(text, "id: c")),
    ]
    assert [p.severity for p in problems].count("error") == 8
    assert problems[3].message == "no state 'nowhere'"
    line, column = where(text, "id: c")
    assert problems[-1] == Problem(
        "flow.yaml",
        line,
        column,
        "states[2]",
        "state 'c' is unreachable from the start state",
        "warning",
    )


def test_catch_patterns_are_strings_and_odd_keys_are_quoted_in_paths() -> None:
    text = yaml(
        """
        id: flow
        start:
          type: event
          event:
            type: com.example.go
            filters: {ce-source: 5}
        states:
          - id: a
            type: noop
            catch:
              - error: 404
        """
    )
    first, second = errors_of(text)
    assert (first.path, at(first), first.message) == (
        'start.event.filters["ce-source"]',
        where(text, "5}"),
        "expected a string, not 5",
    )
    assert (second.path, at(second), second.message) == (
        "states[0].catch[0].error",
        where(text, "404"),
        "expected a string, not 404",
    )

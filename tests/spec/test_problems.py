"""`Problem`, `DefinitionError` and paths."""

from __future__ import annotations

import pytest

from dirigent.errors import Category, InvalidInput
from dirigent.spec import DefinitionError, Problem
from dirigent.spec.problems import format_path, parse_path

from .support import problems_of


@pytest.mark.parametrize(
    ("problem", "text"),
    [
        (
            Problem("hello.yaml", 14, 15, "states[2].action.function", "no function 'greeter'"),
            "hello.yaml:14:15: states[2].action.function: no function 'greeter'",
        ),
        (Problem("hello.yaml", 3, None, "id", "bad"), "hello.yaml:3: id: bad"),
        (Problem("hello.yaml", 1, 1, "", "not a map"), "hello.yaml:1:1: not a map"),
        (Problem("<workflow>", None, None, "", "empty"), "<workflow>: empty"),
        (Problem("f.yaml", None, None, "states", "x", "warning"), "f.yaml: states: x"),
    ],
)
def test_str(problem: Problem, text: str) -> None:
    assert str(problem) == text


def test_definition_error_lists_errors_then_warnings() -> None:
    warning = Problem(
        "f.yaml", 2, 5, "states[1]", "state 'b' is unreachable from the start state", "warning"
    )
    late = Problem("f.yaml", 9, 3, "states[3].transition", "no state 'x'")
    early = Problem("f.yaml", 4, 7, "states[0].type", "unknown state type 'sleep'")
    error = DefinitionError([warning, late, early])
    assert error.problems == [early, late, warning]
    assert error.errors == [early, late]
    assert str(error) == (
        "f.yaml:4:7: states[0].type: unknown state type 'sleep'\n"
        "f.yaml:9:3: states[3].transition: no state 'x'\n"
        "warning: f.yaml:2:5: states[1]: state 'b' is unreachable from the start state"
    )
    assert isinstance(error, InvalidInput)
    assert error.category is Category.INVALID_INPUT
    assert error.message == str(error)


def test_problems_name_the_file() -> None:
    (problem,) = problems_of("id: flow\n", file="flows/hello.yaml")
    assert str(problem) == "flows/hello.yaml:1:1: missing required field 'states'"


@pytest.mark.parametrize(
    ("path", "text"),
    [
        (("states", 2, "action", "function"), "states[2].action.function"),
        (("start", "event", "filters", "ce-source"), 'start.event.filters["ce-source"]'),
        (("states", 0, "transform", "a b", 3), 'states[0].transform["a b"][3]'),
        (("x y",), '["x y"]'),
        ((), ""),
    ],
)
def test_paths(path: tuple[str | int, ...], text: str) -> None:
    assert format_path(path) == text


@pytest.mark.parametrize(
    ("text", "path"),
    [
        (".input.names[2]", ("input", "names", 2)),
        ('["a b"].c', ("a b", "c")),
        ('["say \\"hi\\""]', ('say "hi"',)),
        ("", ()),
    ],
)
def test_template_paths_are_read_back(text: str, path: tuple[str | int, ...]) -> None:
    assert parse_path(text) == path

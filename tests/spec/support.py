"""Helpers for definition tests: load expecting problems, and find where text is in a document."""

from __future__ import annotations

import textwrap

import pytest

from dirigent.spec import DefinitionError, Problem, load_workflow


def yaml(text: str) -> str:
    """`text` without the common indentation and the first newline (tests write YAML indented)."""
    return textwrap.dedent(text).lstrip("\n")


def where(text: str, needle: str, nth: int = 1) -> tuple[int, int]:
    """1-based line and column of the `nth` occurrence of `needle` in `text`."""
    start = -1
    for _ in range(nth):
        start = text.index(needle, start + 1)
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    return line, column


def problems_of(text: str, file: str = "flow.yaml") -> list[Problem]:
    """Every problem of a definition that must fail to load."""
    with pytest.raises(DefinitionError) as caught:
        load_workflow(text, file)
    return caught.value.problems


def errors_of(text: str, file: str = "flow.yaml") -> list[Problem]:
    return [p for p in problems_of(text, file) if p.severity == "error"]


def only_error(text: str, file: str = "flow.yaml") -> Problem:
    """The single error of a definition (warnings aside); fails if there are several."""
    errors = errors_of(text, file)
    assert len(errors) == 1, "\n".join(map(str, errors))
    return errors[0]


def at(problem: Problem) -> tuple[int | None, int | None]:
    return problem.line, problem.column

"""Pydantic's validation errors, in the language's words and at their place in the YAML text.

A pydantic error has a `loc` in pydantic's terms: it names the member of a union it tried (`('states',
2, 'action', 'action', 'function')`: the second `action` is the tag of the state union) and, for
unions without a tag, the type it tried (`'dict[str,any]'`). `problems_from` turns each error into
a `Problem` whose path is in the language's terms (`states[2].action.function`) with the line and
column of that place, and whose message is worded for a workflow author.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, Tag, ValidationError
from pydantic_core import ErrorDetails

from dirigent.jq import TemplateSyntaxError
from dirigent.spec.fields import STATE_ID_PATTERN, VARIABLE_KEY_PATTERN, WORKFLOW_ID_PATTERN
from dirigent.spec.functions import FunctionDefinition
from dirigent.spec.problems import Path, Problem, parse_path
from dirigent.spec.source import Document
from dirigent.spec.states import STATE_TYPES
from dirigent.spec.workflow import Start, Workflow

CALLBACK = (
    "the callback state had no behaviour in Direktiv and is not supported; "
    "use consumeEvent to wait for an event"
)

# Where a tagged union sits; in `loc` the member's tag follows these places.
_UNION_SITES = {("states", int), ("functions", int), ("start",)}

_PATTERNS = {
    WORKFLOW_ID_PATTERN: (
        "lower-case letters, digits, '_' and '-', starting with a letter "
        "and ending with a letter or digit"
    ),
    STATE_ID_PATTERN: "letters, digits, '.', '_' and '-'",
    VARIABLE_KEY_PATTERN: (
        "letters, digits, '_' and '-', starting with a letter and ending with a letter or digit"
    ),
}

# What a type error expected, by pydantic error type.
_EXPECTED = {
    "dict_type": "a map",
    "model_type": "a map",
    "model_attributes_type": "a map",
    "list_type": "a list",
    "string_type": "a string",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
}


def problems_from(error: ValidationError, document: Document) -> list[Problem]:
    """Every error of `error` as a `Problem`. Errors that a plain union gives once per member
    (`schema: 5` is neither a map, a boolean nor a string) become one problem."""
    problems: list[Problem] = []
    union_errors: dict[Path, list[ErrorDetails]] = {}
    for details in error.errors(include_url=False):
        path, is_union_member = _clean(details["loc"], document.data)
        if is_union_member and details["type"] in _EXPECTED:
            union_errors.setdefault(path, []).append(details)
            continue
        problems.append(_problem(details, path, document))
    for path, group in union_errors.items():
        expected = list(dict.fromkeys(_EXPECTED[d["type"]] for d in group))
        expected = ["a boolean" if e == "true or false" else e for e in expected]
        listed = (
            ", ".join(expected[:-1]) + f" or {expected[-1]}" if len(expected) > 1 else expected[0]
        )
        message = f"expected {listed}, not {_describe(group[0]['input'])}"
        problems.append(document.problem(path, message))
    return problems


def _clean(loc: tuple[int | str, ...], data: Any) -> tuple[Path, bool]:
    """The path of `loc` in the document, without union members; and whether one was dropped."""
    path: list[str | int] = []
    node = data
    dropped = False
    skip_tag = False
    for position, segment in enumerate(loc):
        if skip_tag:
            skip_tag = False
            if isinstance(segment, str):
                continue
        if isinstance(segment, int):
            path.append(segment)
            node = node[segment] if isinstance(node, list) and segment < len(node) else None
        elif isinstance(node, dict) and segment in node:
            path.append(segment)
            node = node[segment]
        elif isinstance(node, dict) and position == len(loc) - 1:
            path.append(segment)  # a missing field
            node = None
        else:
            dropped = True  # the name of a union member that was tried
            continue
        shape = tuple(int if isinstance(s, int) else s for s in path)
        skip_tag = shape in _UNION_SITES
    return tuple(path), dropped


def _problem(details: ErrorDetails, path: Path, document: Document) -> Problem:
    kind = details["type"]
    value = details["input"]
    if kind == "missing":
        return document.problem(path[:-1], f"missing required field '{path[-1]}'")
    if kind == "extra_forbidden":
        message = f"unknown field '{path[-1]}'"
        allowed = _fields_at(details["loc"][:-1])
        close = difflib.get_close_matches(str(path[-1]), allowed, n=1, cutoff=0.7)
        if close:
            message += f"; did you mean '{close[0]}'?"
        return document.problem(path, message, key=True)
    if kind == "state_type":
        return _state_type_problem(value, path, document)
    if kind == "union_tag_invalid":
        what = "function" if path[:1] == ("functions",) else "start"
        kinds = tags_of(FunctionDefinition if what == "function" else Start)
        given = value.get("type") if isinstance(value, dict) else value
        return document.problem(
            (*path, "type"),
            f"unknown {what} type {_describe(given)}; expected one of: {', '.join(kinds)}",
        )
    if kind in ("value_error", "assertion_error"):
        cause = (details.get("ctx") or {}).get("error")
        if isinstance(cause, TemplateSyntaxError):
            return document.problem((*path, *parse_path(cause.path)), cause.message)
        return document.problem(path, str(cause) if cause is not None else details["msg"])
    return document.problem(path, _message(details))


def _state_type_problem(value: Any, path: Path, document: Document) -> Problem:
    expected = f"expected one of: {', '.join(STATE_TYPES)}"
    if not isinstance(value, dict):
        return document.problem(
            path, f"a state is a map with 'id' and 'type', not {_describe(value)}"
        )
    if "type" not in value:
        return document.problem(path, f"missing required field 'type'; {expected}")
    if value["type"] == "callback":
        return document.problem((*path, "type"), CALLBACK)
    return document.problem(
        (*path, "type"), f"unknown state type {_describe(value['type'])}; {expected}"
    )


def _message(details: ErrorDetails) -> str:
    kind = details["type"]
    value = details["input"]
    ctx = details.get("ctx") or {}
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, not {_describe(value)}"
    if kind == "literal_error":
        return f"expected {ctx['expected']}, not {_describe(value)}"
    if kind == "string_pattern_mismatch":
        allowed = _PATTERNS.get(ctx["pattern"], f"text matching {ctx['pattern']}")
        return f"{_describe(value)} is not a valid name here; use {allowed}"
    if kind == "string_too_long":
        return f"longer than {ctx['max_length']} characters"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "too_short":
        count = ctx["min_length"]
        return f"needs at least {count} {'entry' if count == 1 else 'entries'}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = next(iter(ctx.values()))
        relation = {
            "greater_than_equal": "at least",
            "greater_than": "more than",
            "less_than_equal": "at most",
            "less_than": "less than",
        }[kind]
        return f"must be {relation} {bound}, not {_describe(value)}"
    message = details["msg"]
    return message[:1].lower() + message[1:]


def _describe(value: Any) -> str:
    """A value as an error message shows it: scalars as YAML would, containers by kind."""
    if isinstance(value, dict):
        return "a map"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return repr(shown)
    return str(value)


def tags_of(union: Any) -> list[str]:
    """The tags of a tagged union such as `FunctionDefinition`, in definition order."""
    return [
        m.tag
        for member in _members(union)
        for m in typing.get_args(member)[1:]
        if isinstance(m, Tag)
    ]


def _fields_at(loc: tuple[int | str, ...]) -> list[str]:
    """The field names (aliases) of the model that pydantic's `loc` points into, if it is one."""
    model = _resolve(Workflow, loc)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return [info.alias or name for name, info in model.model_fields.items()]
    return []


def _resolve(annotation: Any, loc: tuple[int | str, ...]) -> Any:
    """Follow `loc` (pydantic's, with union tags) through type annotations from `annotation`."""
    current = annotation
    for segment in loc:
        current = _step(current, segment)
        if current is None:
            return None
    return current


def _step(annotation: Any, segment: int | str) -> Any:
    for member in _members(annotation):
        if isinstance(member, type) and issubclass(member, BaseModel) and isinstance(segment, str):
            for name, info in member.model_fields.items():
                if segment in (name, info.alias):
                    return info.annotation
        origin = typing.get_origin(member)
        arguments = typing.get_args(member)
        if origin is typing.Annotated:
            if any(isinstance(m, Tag) and m.tag == segment for m in arguments[1:]):
                return arguments[0]
            continue
        if origin is list and isinstance(segment, int):
            return arguments[0]
        if origin is dict and isinstance(segment, str):
            return arguments[1]
    return None


def _members(annotation: Any) -> Iterator[Any]:
    """`annotation` without `Annotated` wrappers and `None`, with unions spread into members
    (tagged members stay `Annotated[M, Tag(...)]` so that a tag can pick them)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        inner, *metadata = typing.get_args(annotation)
        if any(isinstance(m, Tag) for m in metadata):
            yield annotation  # a union member that only its tag selects
        else:
            yield from _members(inner)
    elif origin in (typing.Union, types.UnionType):
        for member in typing.get_args(annotation):
            if member is not type(None):
                yield from _members(member)
    else:
        yield annotation

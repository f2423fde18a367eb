"""Compiling a template value into a node tree and the list of queries it runs.

Runs once per template, at definition load time: checks that the value is JSON, snapshots it into
plain dicts, lists and scalars (so changing the source afterwards changes nothing), finds and
compiles every `jq(...)`, and turns the parts without jq into static nodes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import orjson

from dirigent.jq.errors import TemplateSyntaxError
from dirigent.jq.nodes import (
    Constant,
    Exact,
    Interpolation,
    ListNode,
    MapNode,
    Node,
    StaticCopy,
    StaticJSON,
)
from dirigent.jq.query import Query, jq_query
from dirigent.jq.scanner import split_template
from dirigent.types import JSON

_OPEN = "jq("


@dataclass(frozen=True, slots=True)
class Compiled:
    """A compiled template: `root` builds the result from one value per query of `queries`, which
    are in the order they appear in the template (depth first, map values in key order)."""

    root: Node
    queries: tuple[Query, ...]


def compile_template(value: JSON) -> Compiled:
    """Compile `value`. Raises `TemplateSyntaxError` (with the path of the offending part)."""
    plain = _plain(value, "")
    queries: list[Query] = []
    root = _node(plain, "", queries)
    return Compiled(root, tuple(queries))


def has_jq(value: JSON) -> bool:
    """Whether any string value inside `value` (not a map key) contains `jq(`."""
    if isinstance(value, str):
        return _OPEN in value
    if isinstance(value, dict):
        return any(has_jq(item) for item in value.values())
    if isinstance(value, list):
        return any(has_jq(item) for item in value)
    return False


def _node(value: JSON, path: str, queries: list[Query]) -> Node:
    if not has_jq(value):
        return _static(value)
    if isinstance(value, str):
        return _string(value, path, queries)
    if isinstance(value, dict):
        return MapNode(
            tuple((key, _node(item, _key_path(path, key), queries)) for key, item in value.items())
        )
    return ListNode(tuple(_node(item, f"{path}[{i}]", queries) for i, item in enumerate(value)))


def _static(value: JSON) -> Node:
    if not isinstance(value, dict | list):
        return Constant(value)
    try:
        return StaticJSON(orjson.dumps(value))
    except orjson.JSONEncodeError:
        return StaticCopy(value)


def _string(value: str, path: str, queries: list[Query]) -> Node:
    try:
        split = split_template(value)
        indexes: list[int] = []
        for text in split.queries:
            indexes.append(len(queries))
            queries.append(jq_query(text))
    except TemplateSyntaxError as error:
        raise TemplateSyntaxError(error.message, path) from None
    if split.is_exact:
        return Exact(indexes[0])
    return Interpolation(split.texts, tuple(indexes))


def _plain(value: JSON, path: str) -> JSON:
    """`value` rebuilt from plain JSON types (YAML loaders give subclasses); rejects the rest."""
    if value is None or value is True or value is False:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TemplateSyntaxError(f"{value} is not a JSON number", path)
        return float(value)
    if isinstance(value, dict):
        return _plain_map(value, path)
    if isinstance(value, list | tuple):
        return [_plain(item, f"{path}[{i}]") for i, item in enumerate(value)]
    raise TemplateSyntaxError(f"{type(value).__name__} is not a JSON value: {value!r}", path)


def _plain_map(value: dict[object, JSON], path: str) -> dict[str, JSON]:
    if len(value) == 1:
        (key,) = value
        if isinstance(key, str) and key.lstrip().startswith(_OPEN):
            raise TemplateSyntaxError(
                f"a map whose only key is {key!r}: this looks like jq(...) written without quotes, "
                "which YAML reads as a map; put the whole jq(...) in quotes",
                path,
            )
    plain: dict[str, JSON] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise TemplateSyntaxError(f"map keys must be strings, not {key!r}", path)
        plain[str(key)] = _plain(item, _key_path(path, key))
    return plain


def _key_path(path: str, key: str) -> str:
    return f"{path}.{key}" if key.isidentifier() else f"{path}[{orjson.dumps(key).decode()}]"

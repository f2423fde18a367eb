"""The JSON Schemas of validate states, checked and compiled at load.

A validate state's `schema` is an inline schema or the id of an entry of `schemas`. Each schema is
checked against its metaschema (Draft 2020-12 unless it names another draft with `$schema`) and
compiled once into a validator; states naming the same entry share it. Validators assert `format`
(an email must look like one), and they never fetch anything: a `$ref` must point inside the schema
(`#/$defs/...`) or to a standard metaschema, which is checked here rather than failing at run time.

jsonschema and referencing are imported by the first schema compiled: a server whose workflows have
none does without them (about 2 MB of memory).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeAlias

from dirigent.spec.problems import Path, Problem
from dirigent.spec.source import Document

#: A compiled jsonschema validator (`iter_errors`, `is_valid`); jsonschema ships no type information.
SchemaValidator: TypeAlias = Any


def compile_schemas(document: Document) -> tuple[dict[str, SchemaValidator], list[Problem]]:
    """A validator per validate state id, and the problems of every schema (inline or named).

    Named schemas are checked even when no state uses them.
    """
    data = document.data if isinstance(document.data, dict) else {}
    problems: list[Problem] = []
    named: dict[str, SchemaValidator] = {}
    entries = data.get("schemas")
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        if not isinstance(entry, dict) or not isinstance(entry.get("schema"), dict | bool):
            continue
        validator = _compile(entry["schema"], ("schemas", index, "schema"), document, problems)
        if validator is not None and isinstance(entry.get("id"), str):
            named.setdefault(entry["id"], validator)
    validators: dict[str, SchemaValidator] = {}
    states = data.get("states")
    for index, state in enumerate(states if isinstance(states, list) else []):
        if not isinstance(state, dict) or state.get("type") != "validate":
            continue
        schema = state.get("schema")
        if isinstance(schema, str):
            validator = named.get(schema)
        elif isinstance(schema, dict | bool):
            validator = _compile(schema, ("states", index, "schema"), document, problems)
        else:
            validator = None
        if validator is not None and isinstance(state.get("id"), str):
            validators[state["id"]] = validator
    return validators, problems


def _compile(
    schema: dict[str, Any] | bool, path: Path, document: Document, problems: list[Problem]
) -> SchemaValidator | None:
    import referencing
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
    from jsonschema.exceptions import SchemaError  # type: ignore[import-untyped]
    from jsonschema.validators import validator_for  # type: ignore[import-untyped]

    found = len(problems)
    cls = Draft202012Validator
    if isinstance(schema, dict) and "$schema" in schema:
        cls = validator_for(schema, default=None)
        if cls is None:
            problems.append(
                document.problem(
                    (*path, "$schema"),
                    f"unknown $schema {schema['$schema']!r}; use a JSON Schema draft such as "
                    "https://json-schema.org/draft/2020-12/schema, or leave it out",
                )
            )
            return None
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        inside = tuple(exc.path)
        problems.append(
            document.problem((*path, *inside), f"not a valid JSON Schema: {exc.message}")
        )
        return None
    if isinstance(schema, dict):
        _check_references(schema, cls, path, document, problems)
    if len(problems) > found:
        return None
    # No retrieval: a reference that is neither local nor a metaschema cannot be resolved.
    return cls(schema, registry=referencing.Registry(), format_checker=cls.FORMAT_CHECKER)


def _check_references(
    schema: dict[str, Any], cls: Any, path: Path, document: Document, problems: list[Problem]
) -> None:
    """Each `$ref` must resolve without fetching anything."""
    import referencing.exceptions
    import referencing.jsonschema
    from jsonschema_specifications import REGISTRY as METASCHEMAS  # type: ignore[import-untyped]

    dialect = cls.META_SCHEMA.get("$id") or cls.META_SCHEMA.get("id") or ""
    specification = referencing.jsonschema.specification_with(
        dialect, default=referencing.jsonschema.DRAFT202012
    )
    resolver = METASCHEMAS.resolver_with_root(specification.create_resource(schema))
    references = list(_references(schema, ()))
    # An `$id` below the root changes what relative references mean; then only remote ones are
    # checked, which need no resolution to be refused.
    nested_ids = any(key == "$id" and at for at, key, _ in references)
    for at, key, target in references:
        if key != "$ref" or not isinstance(target, str):
            continue
        local = target.startswith("#")
        if not local and target.split("#")[0] not in METASCHEMAS:
            problems.append(
                document.problem(
                    (*path, *at, key),
                    f"$ref {target!r} points outside the schema; schemas are never fetched, "
                    "so put the definition under $defs and refer to it as '#/$defs/...'",
                )
            )
        elif local and not nested_ids:
            try:
                resolver.lookup(target)
            except referencing.exceptions.Unresolvable:
                problems.append(
                    document.problem((*path, *at, key), f"$ref {target!r} points to nothing")
                )


def _references(value: Any, at: Path) -> Iterator[tuple[Path, str, Any]]:
    """`(path, key, value)` of every `$ref` and `$id` in a schema, `path` being the map's."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("$ref", "$id"):
                yield at, key, item
            yield from _references(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _references(item, (*at, index))

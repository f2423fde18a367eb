"""JSON Schemas of validate states: checked against their metaschema, compiled once, never fetched."""

from __future__ import annotations

from dirigent.spec import load_workflow

from .support import at, errors_of, only_error, where, yaml


def validate_state(schema: str) -> str:
    return f"id: flow\nstates:\n  - id: check\n    type: validate\n    schema:\n{schema}"


def test_an_invalid_schema_is_reported_where_it_is_wrong() -> None:
    text = validate_state("      type: object\n      properties:\n        name: {type: strin}\n")
    problem = only_error(text)
    assert problem.path == "states[0].schema.properties.name.type"
    assert at(problem) == where(text, "strin")
    assert (
        problem.message
        == "not a valid JSON Schema: 'strin' is not valid under any of the given schemas"
    )


def test_a_named_schema_is_checked_even_when_unused() -> None:
    text = yaml(
        """
        id: flow
        schemas:
          - id: broken
            schema: {minLength: -1}
        states:
          - id: a
            type: noop
        """
    )
    problem = only_error(text)
    assert (problem.path, at(problem)) == ("schemas[0].schema.minLength", where(text, "-1"))
    assert problem.message.startswith("not a valid JSON Schema: -1 is less than the minimum of 0")


def test_the_schema_dialect_follows_dollar_schema() -> None:
    definition = load_workflow(
        validate_state(
            "      $schema: http://json-schema.org/draft-07/schema#\n"
            "      type: array\n      items: [{type: string}]\n      additionalItems: false\n"
        )
    )
    validator = definition.schemas["check"]
    assert type(validator).__name__ == "Draft7Validator"
    assert validator.is_valid(["a"])
    assert not validator.is_valid(["a", "b"])  # additionalItems is a draft-07 keyword


def test_an_unknown_dialect_is_refused() -> None:
    text = validate_state("      $schema: https://example.com/my-dialect\n      type: object\n")
    problem = only_error(text)
    assert (problem.path, at(problem)) == ('states[0].schema["$schema"]', where(text, "https://"))
    assert problem.message.startswith("unknown $schema 'https://example.com/my-dialect'")


def test_remote_references_are_refused_local_ones_resolved() -> None:
    text = validate_state(
        "      properties:\n"
        "        a: {$ref: 'https://example.com/schemas/a.json'}\n"
        "        b: {$ref: '#/$defs/missing'}\n"
        "        c: {$ref: '#/$defs/known'}\n"
        "        d: {$ref: 'https://json-schema.org/draft/2020-12/schema'}\n"
        "      $defs:\n        known: {type: integer}\n"
    )
    first, second = errors_of(text)
    assert (first.path, at(first)) == (
        'states[0].schema.properties.a["$ref"]',
        where(text, "'https"),
    )
    assert first.message.startswith(
        "$ref 'https://example.com/schemas/a.json' points outside the schema"
    )
    assert (second.path, second.message) == (
        'states[0].schema.properties.b["$ref"]',
        "$ref '#/$defs/missing' points to nothing",
    )


def test_local_references_and_formats_are_used() -> None:
    definition = load_workflow(
        validate_state(
            "      type: object\n      properties:\n        n: {$ref: '#/$defs/count'}\n"
            "        mail: {type: string, format: email}\n"
            "      $defs:\n        count: {type: integer, minimum: 1}\n"
        )
    )
    validator = definition.schemas["check"]
    assert validator.is_valid({"n": 2, "mail": "ada@example.com"})
    assert not validator.is_valid({"n": 0})
    # Formats are asserted, not just annotations.
    assert not validator.is_valid({"mail": "not an address"})


def test_boolean_schemas() -> None:
    definition = load_workflow(validate_state("      false\n"))
    assert not definition.schemas["check"].is_valid({})

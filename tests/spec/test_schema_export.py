"""`workflow_json_schema()`: the language as JSON Schema for editors, tested with a validator."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from ruamel.yaml import YAML

from dirigent.spec import DefinitionError, load_workflow, workflow_json_schema
from dirigent.spec.fields import DURATION_PATTERN
from dirigent.spec.states import STATE_TYPES

from .test_load_valid import EVERYTHING

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = workflow_json_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def data(text: str) -> Any:
    return YAML(typ="safe").load(text)


def test_it_is_a_draft_2020_12_schema_with_a_title() -> None:
    schema = workflow_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "Direktiv workflow (Dirigent)"
    assert schema["required"] == ["id", "states"]
    assert schema["additionalProperties"] is False


def test_each_call_returns_a_fresh_copy() -> None:
    first = workflow_json_schema()
    first["properties"].clear()
    assert workflow_json_schema()["properties"]


def test_valid_workflows_validate(validator: Draft202012Validator) -> None:
    examples = sorted((ROOT / "examples").glob("*/*.yaml"))
    assert examples
    for path in examples:
        assert list(validator.iter_errors(data(path.read_text()))) == [], path
    assert list(validator.iter_errors(data(EVERYTHING))) == []


STATE = {"id": "a", "type": "noop"}


@pytest.mark.parametrize(
    "document",
    [
        {"states": [STATE]},  # no id
        {"id": "flow"},  # no states
        {"id": "flow", "states": []},
        {"id": "Flow", "states": [STATE]},
        {"id": "flow", "states": [STATE], "extra": 1},
        {"id": "flow", "states": [{"id": "a", "type": "sleep"}]},
        {"id": "flow", "states": [{"id": "a", "type": "callback"}]},
        {"id": "flow", "states": [{"id": "a"}]},
        {"id": "flow", "states": [{**STATE, "tranistion": "b"}]},
        {"id": "flow", "states": [{"id": "a", "type": "delay", "duration": "5s"}]},
        {"id": "flow", "states": [{"id": "a", "type": "delay"}]},
        {"id": "flow", "states": [{"id": "a", "type": "action", "action": {"function": "f"}, "async": "x"}]},
        {"id": "flow", "states": [{"id": "a", "type": "parallel", "actions": [], "mode": "and"}]},
        {"id": "flow", "states": [STATE], "functions": [{"id": "f", "type": "lambda", "image": "i"}]},
        {"id": "flow", "states": [STATE], "functions": [{"id": "f"}]},
        {"id": "flow", "states": [STATE], "start": {"type": "webhook"}},
        {"id": "flow", "states": [STATE], "start": {"type": "scheduled"}},
        {"id": "flow", "states": [STATE], "timeouts": {"interrupt": "P1M"}},
        {"id": "flow", "states": [STATE], "singular": "maybe"},
    ],
)  # fmt: skip
def test_wrong_documents_fail(validator: Draft202012Validator, document: Any) -> None:
    assert not validator.is_valid(document)
    # The loader refuses them too (JSON is YAML).
    with pytest.raises(DefinitionError):
        load_workflow(json.dumps(document))


def test_the_unions_list_their_type_values() -> None:
    schema = workflow_json_schema()
    states = schema["properties"]["states"]["items"]
    assert states["properties"]["type"]["enum"] == list(STATE_TYPES)
    assert states["required"] == ["type"]
    members = [schema["$defs"][ref["$ref"].split("/")[-1]] for ref in states["oneOf"]]
    assert [m["properties"]["type"]["const"] for m in members] == list(STATE_TYPES)
    assert [m["title"] for m in members][:2] == ["noop state", "action state"]
    functions = schema["properties"]["functions"]["items"]
    assert functions["properties"]["type"]["enum"] == [
        "reusable", "isolated", "knative-namespace", "knative-global", "subflow",
    ]  # fmt: skip
    start = next(m for m in schema["properties"]["start"]["anyOf"] if "oneOf" in m)
    assert start["properties"]["type"]["enum"] == [
        "default",
        "scheduled",
        "event",
        "eventsXor",
        "eventsAnd",
    ]


def test_fields_have_descriptions_not_generated_titles() -> None:
    schema = workflow_json_schema()
    switch = schema["$defs"]["SwitchState"]["properties"]
    assert "title" not in switch["defaultTransition"]
    assert switch["defaultTransition"]["description"] == "Where to go when no condition is truthy."
    action = schema["$defs"]["ActionState"]["properties"]
    assert action["async"]["description"] == "Fire and forget: no .return, transition at once."
    # A template takes any value: no type constraint at all.
    assert set(action["transform"]) == {"default", "description"}


@pytest.mark.parametrize(
    "value",
    ["PT30S", "P1D", "PT1H30M", "P2W", "P1W2D", "PT0.5S", "PT1,5S", "P1DT2H", "PT", "P", "P1M",
     "P1Y", "5s", "PT30s", "P1DT", "-PT5S", "PT5S ", "P1.5D"],
)  # fmt: skip
def test_the_duration_pattern_agrees_with_the_loader(value: str) -> None:
    text = f"id: flow\nstates:\n  - id: a\n    type: delay\n    duration: '{value}'\n"
    try:
        load_workflow(text)
        loads = True
    except DefinitionError:
        loads = False
    assert bool(re.search(DURATION_PATTERN, value)) is loads

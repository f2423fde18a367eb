"""Reading the YAML text: syntax errors, documents that are not workflows, values that are not JSON."""

from __future__ import annotations

import pytest

from dirigent.spec import load_workflow
from dirigent.spec.source import _for_ruamel, parse_document

from .support import at, only_error

STATES = "states:\n  - id: a\n    type: noop\n"


def test_yaml_syntax_error_has_its_line_and_column() -> None:
    problem = only_error("id: flow\nstates:\n  - id: a\n    type: [noop\n")
    assert problem.path == ""
    assert problem.line == 5
    assert problem.message.startswith("expected ',' or ']'")


def test_unquoted_jq_with_a_colon_gets_a_hint() -> None:
    problem = only_error(
        "id: flow\nstates:\n  - id: a\n    type: noop\n    transform: jq({a: 1})\n"
    )
    assert at(problem) == (5, 21)
    assert problem.message == (
        "mapping values are not allowed here; a value with jq(...) that contains ': ' must be "
        "quoted: transform: 'jq({a: 1})'"
    )


def test_the_quoted_form_shown_keeps_quotes_inside_the_query() -> None:
    text = "id: flow\nstates:\n  - id: a\n    type: noop\n    log: jq({a: 'x'})\n"
    assert only_error(text).message.endswith("must be quoted: log: 'jq({a: ''x''})'")


def test_duplicate_keys_are_an_error() -> None:
    problem = only_error("id: flow\nid: other\n" + STATES)
    assert problem.line == 2
    assert 'duplicate key "id"' in problem.message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a\n- b\n", "a workflow is a map with at least 'id' and 'states', not a list"),
        ("just text\n", "a workflow is a map with at least 'id' and 'states', not a string"),
        ("", "the document is empty; a workflow is a map with at least 'id' and 'states'"),
        ("# only a comment\n", "the document is empty; a workflow is a map with at least 'id' and 'states'"),
    ],
)  # fmt: skip
def test_documents_that_are_not_maps(text: str, message: str) -> None:
    assert only_error(text).message == message


def test_several_documents_are_refused() -> None:
    problem = only_error("id: flow\n" + STATES + "---\nid: other\n" + STATES)
    assert problem.line == 5
    assert "expected a single document" in problem.message


def test_bytes_that_are_not_utf8() -> None:
    problem = only_error(b"id: flow\nstates:\n  - id: \xff\n")
    assert (problem.line, problem.column, problem.path) == (3, 9, "")
    assert problem.message == "not UTF-8 text: byte 0xff"


def test_yaml_1_2_scalars_and_dates_become_json_data() -> None:
    definition = load_workflow(
        "id: flow\nstates:\n  - id: a\n    type: noop\n"
        "    transform: {on: yes, off: no, day: 2021-03-04, at: 2021-03-04T05:06:07Z, "
        "octal: 0o17, n: 017, f: 1.5, t: true}\n"
    )
    transform = definition.states["a"].transform
    assert transform is not None
    source = transform.source
    # YAML 1.2: yes/no/on/off are strings; unquoted dates are read as dates, kept as ISO text.
    assert source == {
        "on": "yes",
        "off": "no",
        "day": "2021-03-04",
        "at": "2021-03-04T05:06:07+00:00",
        "octal": 15,
        "n": 17,
        "f": 1.5,
        "t": True,
    }
    assert [type(v) for v in source.values()] == [str, str, str, str, int, int, float, bool]


def test_boolean_fields_still_take_yes_and_no() -> None:
    # Direktiv read YAML 1.1; a boolean field accepts its spellings (pydantic's lax booleans).
    definition = load_workflow("id: flow\nsingular: yes\n" + STATES)
    assert definition.workflow.singular is True


def test_anchors_and_merge_keys() -> None:
    definition = load_workflow(
        "id: flow\nstates:\n  - &base\n    id: a\n    type: noop\n    log: &msg hello\n"
        "    transition: b\n  - <<: *base\n    id: b\n    log: *msg\n    transition: null\n"
    )
    b = definition.states["b"]
    assert (b.type, b.transition) == ("noop", None)
    assert b.log is not None
    assert b.log.source == "hello"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (".inf", "inf is not a JSON number"),
        ("!!binary aGVsbG8=", "binary data (!!binary) is not supported; values are JSON data"),
        ("!secret token", "the YAML tag !secret is not supported; values are JSON data"),
        ("{1: one}", "a map key must be a string, not 1; write it in quotes"),
        ("!!set {a, b}", "a set (!!set) is not supported; values are JSON data"),
    ],
)
def test_values_that_are_not_json(value: str, message: str) -> None:
    problem = only_error(f"id: flow\nstates:\n  - id: a\n    type: noop\n    transform: {value}\n")
    assert problem.line == 5
    assert problem.path.startswith("states[0].transform")
    assert problem.message == message


def test_deep_nesting_is_a_problem_not_a_crash() -> None:
    deep = "[" * 400 + "]" * 400
    problem = only_error(f"id: flow\nstates:\n  - id: a\n    type: noop\n    transform: {deep}\n")
    assert problem.message == "nested too deeply"


def test_both_yaml_readers_give_the_same_document() -> None:
    # libyaml reads most texts; ruamel's pure-Python reader those with a tab (and a few others).
    text = (
        "id: flow  # comment\n"
        "base: &base\n  type: noop\n  log: >\n    folded\n    text\n\n    more\n"
        "states:\n  - <<: *base\n    id: a\n    transform: {day: 2021-03-04, n: [0x1F, 0o17, 017, 1.5]}\n"
        "  - id: b\n    data:\n      - |\n        literal\n      - ~\n      -\n      - 'it''s'\n"
        '      - "\\u00e9 é"\n'
    )
    with_tab = text + "# a tab:\t\n"
    assert not _for_ruamel(text)
    assert _for_ruamel(with_tab)
    first, second = parse_document(text, "f.yaml"), parse_document(with_tab, "f.yaml")
    assert (first.data, first.values, first.keys) == (second.data, second.values, second.keys)
    assert first.data["states"][0]["log"] == "folded text\nmore\n"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2021-13-45", "not a valid date: '2021-13-45'"),
        ("!!int abc", "not a valid integer: 'abc'"),
        ("!secret {a: 1}", "the YAML tag !secret is not supported; values are JSON data"),
    ],
)
def test_values_that_cannot_be_read(value: str, message: str) -> None:
    problem = only_error(f"id: flow\nstates:\n  - id: a\n    type: noop\n    transform: {value}\n")
    assert (problem.line, problem.path, problem.message) == (5, "states[0].transform", message)


def test_core_tags() -> None:
    definition = load_workflow(
        STATES.replace("noop\n", "noop\n    log: !!str 017\n") + "id: !!str flow\n"
    )
    log = definition.states["a"].log
    assert log is not None
    assert (definition.workflow.id, log.source) == ("flow", "017")

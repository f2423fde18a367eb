"""Templates (workflow-language.md §2): literals, exact queries, interpolation, errors, identity."""

from __future__ import annotations

import copy
import pickle
from collections import OrderedDict
from typing import Any

import pytest

from dirigent.errors import Code, WorkflowError
from dirigent.jq import Template, TemplateSyntaxError, jq_query
from dirigent.jq.query import cache_info, clear_cache

DATA: dict[str, Any] = {
    "s": "text",
    "i": 42,
    "f": 2.5,
    "t": True,
    "no": False,
    "n": None,
    "o": {"k": "v", "list": [1, 2]},
    "a": [1, "two", None],
    "e": {},
    "paren": "a)b",
}


def evaluate(source: Any, data: Any = DATA) -> Any:
    return Template.compile(source).evaluate(data)


def error_of(source: Any, data: Any = DATA) -> WorkflowError:
    template = Template.compile(source)
    with pytest.raises(WorkflowError) as caught:
        template.evaluate(data)
    return caught.value


# Literals


@pytest.mark.parametrize("value", [0, -3, 2.5, True, False, "plain text", ".foo", "jq", "jq (.a)"])
def test_scalars_and_strings_without_jq_are_literals(value: Any) -> None:
    result = evaluate(value)
    assert result == value
    assert type(result) is type(value)


def test_null_inside_a_template_is_a_literal() -> None:
    assert evaluate({"x": None, "y": [None, ""]}) == {"x": None, "y": [None, ""]}


def test_static_containers_come_back_as_fresh_equal_copies() -> None:
    source = {"a": [1, {"b": "c"}], "d": 1.0}
    template = Template.compile(source)
    first = template.evaluate(DATA)
    assert first == source
    assert type(first["d"]) is float  # not run through jq: 1.0 stays a float
    first["a"][1]["b"] = "changed"
    assert template.evaluate(DATA) == {"a": [1, {"b": "c"}], "d": 1.0}
    assert source == {"a": [1, {"b": "c"}], "d": 1.0}


def test_static_containers_with_huge_integers_are_copied_too() -> None:
    template = Template.compile({"big": [2**70]})
    first = template.evaluate(DATA)
    assert first == {"big": [2**70]}
    first["big"].append(1)
    assert template.evaluate(DATA) == {"big": [2**70]}


def test_changing_the_source_after_compiling_changes_nothing() -> None:
    source: dict[str, Any] = {"x": "jq(.i)", "y": [1]}
    template = Template.compile(source)
    source["x"] = "changed"
    source["y"].append(2)
    assert template.evaluate(DATA) == {"x": 42, "y": [1]}
    assert template.source is source


# Maps and lists


def test_maps_and_lists_are_evaluated_element_by_element() -> None:
    source = {
        "exact": "jq(.o)",
        "literal": ".s",
        "nested": {"list": ["jq(.i)", "x jq(.s) y", 7, None, {"deep": "jq(.a[1])"}]},
        "static": {"k": [1, 2]},
        "jq(.s)": "key is not a template",
    }
    assert evaluate(source) == {
        "exact": {"k": "v", "list": [1, 2]},
        "literal": ".s",
        "nested": {"list": [42, "x text y", 7, None, {"deep": "two"}]},
        "static": {"k": [1, 2]},
        "jq(.s)": "key is not a template",
    }


def test_map_key_order_is_kept() -> None:
    result = evaluate({"z": "jq(.i)", "a": 1, "m": "jq(.s)"})
    assert list(result) == ["z", "a", "m"]


def test_top_level_list() -> None:
    assert evaluate(["jq(.i)", "jq(.t)", "lit"]) == [42, True, "lit"]


def test_mapping_and_sequence_subclasses_become_plain_json() -> None:
    result = evaluate(OrderedDict(a="jq(.i)", b=("x", "jq(.s)")))
    assert result == {"a": 42, "b": ["x", "text"]}
    assert type(result) is dict
    assert type(result["b"]) is list


def test_results_of_queries_are_not_aliased() -> None:
    result = evaluate({"x": "jq(.o)", "y": "jq(.o)"})
    assert result["x"] == result["y"]
    assert result["x"] is not result["y"]
    assert result["x"] is not DATA["o"]


# Exactly jq(Q)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (".s", "text"),
        (".i", 42),
        (".f", 2.5),
        (".t", True),
        (".no", False),
        (".n", None),
        (".o", {"k": "v", "list": [1, 2]}),
        (".a", [1, "two", None]),
        (".e", {}),
        ("[]", []),
        ('""', ""),
        (".missing", None),
        ("{x: .i, y: [.s]}", {"x": 42, "y": ["text"]}),
    ],
)
def test_exact_jq_gives_a_value_of_any_type(query: str, expected: Any) -> None:
    result = evaluate(f"jq({query})")
    assert result == expected
    assert type(result) is type(expected)


def test_blanks_around_exact_jq_are_ignored() -> None:
    assert evaluate("  jq(.o)\n") == {"k": "v", "list": [1, 2]}
    assert evaluate("jq(  .i  )") == 42


def test_numbers_from_jq_are_ints_when_integral() -> None:
    result = evaluate("jq(.f * 2)")
    assert result == 5
    assert type(result) is int


# Parentheses in jq strings


def test_parenthesis_inside_a_jq_string() -> None:
    assert evaluate('jq("a)")') == "a)"
    assert evaluate('jq("(")') == "("
    assert evaluate('jq(.paren | split(")"))') == ["a", "b"]


def test_nested_string_interpolation() -> None:
    assert evaluate('jq("x\\("(")y")') == "x(y"
    assert evaluate('jq("<\\(.s + ")" + "\\(.i)")>")') == "<text)42>"
    assert evaluate('before jq("\\(")")") after') == "before ) after"


def test_escaped_quotes_inside_a_jq_string() -> None:
    assert evaluate('jq("say \\")")') == 'say ")'
    assert evaluate('jq("back\\\\") jq(.i)') == "back\\ 42"


# Interpolation


@pytest.mark.parametrize(
    ("query", "inserted"),
    [
        (".s", "text"),
        (".i", "42"),
        (".f", "2.5"),
        (".t", "true"),
        (".no", "false"),
        (".n", "null"),
        (".missing", "null"),
        (".o", '{"k":"v","list":[1,2]}'),
        (".a", '[1,"two",null]'),
        (".e", "{}"),
        ('"quote \\" in"', 'quote " in'),
        ('{u: "ü"}', '{"u":"ü"}'),
    ],
)
def test_interpolation_inserts_strings_raw_and_the_rest_as_compact_json(
    query: str, inserted: str
) -> None:
    assert evaluate(f"<jq({query})>") == f"<{inserted}>"


BIG = 20_000_000_000_000_000_000  # jq(2e19): beyond 64 bits
HUGE = int(1e300)  # jq(1e300): 301 digits


def test_interpolation_of_numbers_beyond_64_bits() -> None:
    # libjq gives large doubles back as Python ints, which orjson cannot write: the stdlib does.
    assert jq_query("2e19").one(None) == BIG
    assert jq_query("1e300").one(None) == HUGE
    assert len(str(HUGE)) == 301
    assert evaluate("n=jq(2e19)") == "n=20000000000000000000"
    assert evaluate("n=jq(1e300)") == f"n={HUGE}"
    assert evaluate("jq(-1e300) jq([2e19, {a: 1e300}])") == f'-{HUGE} [{BIG},{{"a":{HUGE}}}]'
    assert evaluate("jq(2e19)") == BIG
    assert evaluate(" jq(1e300) ") == HUGE
    assert Template.compile("jq(1e300, 2e19)").evaluate_all(None) == [HUGE, BIG]


def test_numbers_beyond_64_bits_in_the_combined_program() -> None:
    template = Template.compile(
        {
            "big": "jq(2e19)",
            "huge": "jq(1e300)",
            "text": "big=jq(2e19) huge=jq(1e300)",
            "nested": ["jq([1e300, {b: 2e19}])", "in text: jq({h: [1e300]})"],
        }
    )
    assert template._combined is not None
    result = template.evaluate(DATA)
    assert result == {
        "big": BIG,
        "huge": HUGE,
        "text": f"big={BIG} huge={HUGE}",
        "nested": [[HUGE, {"b": BIG}], f'in text: {{"h":[{HUGE}]}}'],
    }
    # The results go back into jq as data (the stdlib encodes them; jq reads them as doubles).
    again = Template.compile({"a": "jq(.big) jq(.huge)", "b": "jq(.nested[0][1].b)"})
    assert again._combined is not None
    assert again.evaluate(result) == {"a": f"{BIG} {HUGE}", "b": BIG}


def test_interpolation_of_several_queries() -> None:
    assert evaluate("jq(.s)-jq(.i)-jq(.n)") == "text-42-null"
    assert evaluate("jq(.s) jq(.s)") == "text text"


def test_interpolation_result_is_trimmed() -> None:
    assert evaluate("  value: jq(.s)  \n") == "value: text"
    assert evaluate("jq(.s) jq(.pad)", {"s": "x", "pad": "  "}) == "x"
    assert evaluate("jq(.pad)jq(.s)", {"s": "x", "pad": "\t "}) == "x"


def test_interpolation_keeps_inner_blanks() -> None:
    assert evaluate("a  jq(.s)  b") == "a  text  b"


# Errors at compile time


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("jq(.a", "unbalanced parentheses: the jq( at offset 0 of 'jq(.a' has no closing ')'"),
        (
            'x jq("a)',
            "unbalanced parentheses: the jq( at offset 2 of 'x jq(\"a)' has no closing ')'"
            " (a jq string literal is not closed)",
        ),
        (
            "jq(.a | | .b)",
            "jq does not compile: .a | | .b: syntax error, unexpected '|' (column 6)",
        ),
        ("text jq(nope) text", "jq does not compile: nope: nope/0 is not defined (column 1)"),
        ("jq()", 'jq does not compile: (empty query): Top-level program not given (try ".")'),
    ],
)
def test_compile_errors(source: str, message: str) -> None:
    with pytest.raises(TemplateSyntaxError) as caught:
        Template.compile(source)
    assert str(caught.value) == message
    assert caught.value.path == ""


def test_compile_errors_name_the_path_inside_the_template() -> None:
    with pytest.raises(TemplateSyntaxError) as caught:
        Template.compile({"a": {"b-c": ["ok", "jq(.x | | .y)"]}})
    assert caught.value.path == '.a["b-c"][1]'
    assert caught.value.message == (
        "jq does not compile: .x | | .y: syntax error, unexpected '|' (column 6)"
    )
    assert str(caught.value).startswith('.a["b-c"][1]: jq does not compile')


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"a": object()}, ".a: object is not a JSON value"),
        ({1: "x"}, "map keys must be strings, not 1"),
        ([float("nan")], "[0]: nan is not a JSON number"),
        ({"x": {"jq(.a": "1)"}}, ".x: a map whose only key is 'jq(.a': this looks like jq(...)"),
    ],
)
def test_values_that_are_not_json_are_rejected(source: Any, message: str) -> None:
    with pytest.raises(TemplateSyntaxError) as caught:
        Template.compile(source)
    assert str(caught.value).startswith(message)


# Errors at run time


def test_a_query_without_value_is_not_object() -> None:
    for source in ("jq(empty)", "x jq(empty) y", {"k": ["jq(.a[] | select(. == 0))"]}):
        error = error_of(source)
        assert error.code == Code.JQ_NOT_OBJECT
        assert error.catchable is True
    assert error_of("jq(empty)").message == "jq(empty) gave no value; exactly one is needed"


def test_a_query_with_several_values_is_not_object() -> None:
    error = error_of("jq(.a[])")
    assert error.code == Code.JQ_NOT_OBJECT
    assert error.message == "jq(.a[]) gave 3 values; exactly one is needed"
    assert error_of("n: jq(.o.list[])").message == (
        "jq(.o.list[]) gave 2 values; exactly one is needed"
    )


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("jq(.s.x)", 'jq(.s.x) failed: Cannot index string with string ("x")'),
        ('jq(error("custom"))', 'jq(error("custom")) failed: custom'),
        (
            "id: jq(.i | ascii_downcase)",
            "jq(.i | ascii_downcase) failed: explode input must be a string",
        ),
        ({"a": "jq(.i)", "b": "jq(.o | tonumber)"}, "jq(.o | tonumber) failed: object ("),
    ],
)
def test_jq_runtime_errors_are_bad_command(source: Any, message: str) -> None:
    error = error_of(source)
    assert error.code == Code.JQ_BAD_COMMAND
    assert error.message.startswith(message)
    assert error.catchable is True


def test_the_first_failing_query_in_order_is_reported() -> None:
    # With several queries, one combined jq program runs them; errors must still come out as if the
    # queries ran one by one, in the order they appear.
    both = {"a": "jq(empty)", "b": 'jq(error("second"))'}
    assert error_of(both).code == Code.JQ_NOT_OBJECT
    reverse = {"b": 'jq(error("first"))', "a": "jq(empty)"}
    assert error_of(reverse) == WorkflowError(
        Code.JQ_BAD_COMMAND, 'jq(error("first")) failed: first'
    )
    many = ["jq(.i)", "jq(.a[])", "jq(empty)"]
    assert error_of(many).message == "jq(.a[]) gave 3 values; exactly one is needed"


def test_halt_inside_a_template_with_several_queries_is_refused() -> None:
    # `halt` would stop the whole combined program; it is refused when the template is compiled.
    with pytest.raises(TemplateSyntaxError) as caught:
        Template.compile(["jq(.i)", "jq(halt)"])
    assert caught.value.path == "[1]"
    assert caught.value.message.startswith("jq(halt): `halt` and `halt_error` are not available")


def test_comments_in_queries() -> None:
    # libjq continues a comment ending in a backslash onto the next line; queries with comments run
    # one by one, so nothing after them is swallowed.
    for source in (
        {"x": "jq(.i # the answer\n)", "y": "jq(.s)"},
        {"x": "jq(.i # note \\)", "y": "jq(.s)"},
        {"y": "jq(.s)", "x": "jq(.i # note \\)"},
    ):
        template = Template.compile(source)
        assert template._combined is None
        assert template.evaluate(DATA) == {"x": 42, "y": "text"}


def test_several_queries_run_as_one_program() -> None:
    template = Template.compile({"x": "jq(.i)", "y": "n=jq(.s)"})
    assert template._combined is jq_query("[(.i\n)], [(.s\n)]")
    assert template.evaluate(DATA) == {"x": 42, "y": "n=text"}


def test_definitions_inside_queries_of_a_map() -> None:
    source = {"a": "jq(def twice: . * 2; .i | twice)", "b": "jq(.s)"}
    assert evaluate(source) == {"a": 84, "b": "text"}


# evaluate_all


def test_evaluate_all_gives_every_value_of_an_exact_query() -> None:
    assert Template.compile("jq(.a[])").evaluate_all(DATA) == [1, "two", None]
    assert Template.compile(" jq(.o.list[]) ").evaluate_all(DATA) == [1, 2]
    assert Template.compile("jq(empty)").evaluate_all(DATA) == []
    assert Template.compile("jq(.o)").evaluate_all(DATA) == [{"k": "v", "list": [1, 2]}]


def test_evaluate_all_of_other_templates_is_a_single_evaluation() -> None:
    assert Template.compile("n=jq(.i)").evaluate_all(DATA) == ["n=42"]
    assert Template.compile({"x": "jq(.i)"}).evaluate_all(DATA) == [{"x": 42}]
    assert Template.compile("lit").evaluate_all(DATA) == ["lit"]
    assert Template.compile(None).evaluate_all(DATA) == [None]
    assert Template.compile("").evaluate_all(DATA) == [""]
    [same] = Template.compile(" jq(.) ").evaluate_all(DATA)
    assert same is DATA
    with pytest.raises(WorkflowError) as caught:
        Template.compile("n=jq(.a[])").evaluate_all(DATA)
    assert caught.value.code == Code.JQ_NOT_OBJECT


def test_evaluate_all_runtime_error_is_bad_command() -> None:
    with pytest.raises(WorkflowError) as caught:
        Template.compile("jq(.s[])").evaluate_all(DATA)
    assert caught.value.code == Code.JQ_BAD_COMMAND


# Identity and dynamic


@pytest.mark.parametrize("source", [None, "", "   "])
def test_absent_and_empty_templates_are_identity_but_evaluate_to_themselves(source: Any) -> None:
    # §2: a string without jq( is a literal; callers skip identity templates where "absent or empty"
    # means "the data as it is" (a transform), so `evaluate` itself gives the literal.
    template = Template.compile(source)
    assert template.is_identity is True
    assert template.is_dynamic is False
    result = template.evaluate(DATA)
    assert result == source
    assert type(result) is type(source)
    assert template.evaluate({"other": 1}) == source
    assert template.evaluate_all(DATA) == [source]


@pytest.mark.parametrize("source", ["jq(.)", "  jq( . )\n", "jq(.) "])
def test_jq_dot_is_identity_and_evaluates_to_the_data_itself(source: Any) -> None:
    template = Template.compile(source)
    assert template.is_identity is True
    assert template.evaluate(DATA) is DATA
    data = [1.0, {"a": None}]
    assert template.evaluate(data) is data  # not run through jq: 1.0 stays a float
    assert template.evaluate(None) is None


@pytest.mark.parametrize(
    "source", [".", "x jq(.)", "jq(. )jq(.)", "jq(.|.)", {"a": "jq(.)"}, [None], 0, False]
)
def test_not_identity(source: Any) -> None:
    assert Template.compile(source).is_identity is False


def test_null_and_empty_inside_a_larger_template_are_literals() -> None:
    source = {"none": None, "empty": "", "same": "jq(.)", "list": [None, "", " "]}
    assert Template.compile(source).is_identity is False
    assert evaluate(source, {"a": 1}) == {
        "none": None,
        "empty": "",
        "same": {"a": 1},
        "list": [None, "", " "],
    }


@pytest.mark.parametrize(
    ("source", "dynamic"),
    [
        ("jq(.a)", True),
        ("text jq(.a)", True),
        ({"x": [1, {"y": "jq(.a)"}]}, True),
        ("jq(.)", True),
        ({"jq(.a)": 1, "b": 2}, False),
        ("jq (.a)", False),
        ({"x": [1, "text"]}, False),
        (None, False),
        ("", False),
        (3, False),
    ],
)
def test_is_dynamic(source: Any, dynamic: bool) -> None:
    assert Template.compile(source).is_dynamic is dynamic


# The compiled object


def test_same_query_is_compiled_once() -> None:
    clear_cache()
    first = Template.compile("jq(.cached_once)")
    second = Template.compile({"x": "jq( .cached_once )", "y": "a jq(.cached_once) b"})
    info = cache_info()
    assert info.misses == 2  # .cached_once, then the combined program of `second`
    assert info.hits == 2
    assert first._queries[0] is second._queries[0] is second._queries[1]
    assert first._queries[0] is jq_query(".cached_once")


def test_template_is_immutable_and_compares_by_source() -> None:
    template = Template.compile({"a": "jq(.i)"})
    with pytest.raises(AttributeError):
        template.source = "other"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del template.source
    assert template == Template.compile({"a": "jq(.i)"})
    assert template != Template.compile({"a": "jq(.s)"})
    assert template != {"a": "jq(.i)"}
    assert repr(template) == "Template({'a': 'jq(.i)'})"
    with pytest.raises(TypeError):
        hash(template)
    assert not hasattr(template, "__dict__")


def test_copies_share_the_template_and_pickling_recompiles() -> None:
    template = Template.compile({"a": "x jq(.s)"})
    assert copy.copy(template) is template
    assert copy.deepcopy(template) is template
    restored = pickle.loads(pickle.dumps(template))
    assert restored == template
    assert restored.evaluate(DATA) == {"a": "x text"}

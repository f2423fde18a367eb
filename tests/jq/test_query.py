"""Raw jq programs: compile errors, run-time errors, the cache, and how libjq's values come back."""

from __future__ import annotations

import copy
import pickle

import pytest

from dirigent.errors import Code, WorkflowError
from dirigent.jq import Query, TemplateSyntaxError, jq_query
from dirigent.jq.errors import describe_compile_error
from dirigent.jq.query import cache_info, clear_cache


def test_all_gives_every_result_in_order() -> None:
    assert jq_query(".[] | . * 2").all([1, 2, 3]) == [2, 4, 6]
    assert jq_query("empty").all({"a": 1}) == []


def test_first_stops_at_the_first_result() -> None:
    # A later error does not matter: the program is not run past the first value.
    assert jq_query('1, error("late")').first(None) == 1
    assert jq_query(".a").first({"a": {"b": [1]}}) == {"b": [1]}


def test_first_without_result_is_not_object() -> None:
    with pytest.raises(WorkflowError) as caught:
        jq_query("empty").first({})
    assert caught.value.code == Code.JQ_NOT_OBJECT
    assert caught.value.message == "jq(empty) gave no value; exactly one is needed"
    assert caught.value.catchable is True


def test_one_needs_exactly_one_value() -> None:
    assert jq_query(".a").one({"a": None}) is None
    with pytest.raises(WorkflowError) as caught:
        jq_query(".[]").one([1, 2, 3])
    assert caught.value.code == Code.JQ_NOT_OBJECT
    assert caught.value.message == "jq(.[]) gave 3 values; exactly one is needed"


@pytest.mark.parametrize(
    ("query", "data", "message"),
    [
        (".a.b", {"a": "text"}, 'jq(.a.b) failed: Cannot index string with string ("b")'),
        ('error("boom")', None, 'jq(error("boom")) failed: boom'),
        ('1 + "a"', None, 'jq(1 + "a") failed: number (1) and string ("a") cannot be added'),
        (".[]", 5, "jq(.[]) failed: Cannot iterate over number (5)"),
    ],
)
def test_runtime_errors_are_bad_command(query: str, data: object, message: str) -> None:
    for run in (jq_query(query).all, jq_query(query).first):
        with pytest.raises(WorkflowError) as caught:
            run(data)
        assert caught.value.code == Code.JQ_BAD_COMMAND
        assert caught.value.message == message
        assert caught.value.catchable is True


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            ".a | | .b",
            "jq does not compile: .a | | .b: syntax error, unexpected '|' (column 6)",
        ),
        ("foo(1)", "jq does not compile: foo(1): foo/1 is not defined (column 1)"),
        (".a[", "jq does not compile: .a[: syntax error, unexpected end of query (column 3)"),
        (
            "if . then 1",
            "jq does not compile: if . then 1: syntax error, unexpected end of query (column 11); "
            "Possibly unterminated 'if' statement (column 1)",
        ),
        (
            ".a\n| | .b",
            "jq does not compile: .a\n| | .b: syntax error, unexpected '|' (line 2, column 3)",
        ),
        ("", 'jq does not compile: (empty query): Top-level program not given (try ".")'),
    ],
)
def test_compile_errors_carry_libjq_message(query: str, message: str) -> None:
    with pytest.raises(TemplateSyntaxError) as caught:
        jq_query(query)
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)


def test_compile_error_wording_without_position_is_kept() -> None:
    raw = "jq: error: module not found: a\n\njq: 1 compile error"
    assert describe_compile_error('import "a" as a; .', raw) == (
        'jq does not compile: import "a" as a; .: module not found: a'
    )
    # Unrecognised text is passed on rather than lost.
    assert (
        describe_compile_error(".", "something else\n") == "jq does not compile: .: something else"
    )
    # jq 1.6's shell hint is noise here; token names become words.
    raw = (
        "jq: error: syntax error, unexpected IDENT, expecting $end (Unix shell quoting issues?)"
        " at <top-level>, line 1:\na b\njq: 1 compile error"
    )
    assert describe_compile_error("a b", raw) == (
        "jq does not compile: a b: syntax error, unexpected name, expecting $end"
    )


def test_the_cache_compiles_each_text_once() -> None:
    clear_cache()
    first = jq_query(".cache_probe")
    assert (cache_info().hits, cache_info().misses, cache_info().currsize) == (0, 1, 1)
    again = jq_query(".cache_probe")
    assert again is first
    assert (cache_info().hits, cache_info().misses) == (1, 1)
    other = jq_query(".cache_probe2")
    assert other is not first
    assert cache_info().misses == 2


def test_failures_are_not_cached() -> None:
    clear_cache()
    for _ in range(2):
        with pytest.raises(TemplateSyntaxError):
            jq_query(".a | | .b")
    assert cache_info().currsize == 0


def test_query_is_immutable_and_shared_by_copies() -> None:
    query = jq_query(".a")
    with pytest.raises(AttributeError):
        query.text = ".b"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del query.text
    assert copy.copy(query) is query
    assert copy.deepcopy(query) is query
    assert pickle.loads(pickle.dumps(query)) is query  # through the cache
    assert repr(query) == "jq_query('.a')"
    assert query == Query(".a")
    assert query != jq_query(".b")
    assert query != ".a"
    assert hash(query) == hash(Query(".a"))


def test_numbers_come_back_as_libjq_sees_them() -> None:
    # libjq keeps numbers as doubles; the bindings give integral doubles back as int.
    assert jq_query(".").all([1.0, 2.5, -0.0, 1e2]) == [[1, 2.5, 0, 100]]
    assert jq_query("3 / 2, 4 / 2").all(None) == [1.5, 2]
    # Beyond 2**53 the double is what survives, not the integer that went in.
    assert jq_query(".").one(2**53 + 1) == 2**53
    # Large doubles become (large) ints.
    assert jq_query("2e19").one(None) == 20_000_000_000_000_000_000


def test_data_orjson_cannot_encode_still_goes_in() -> None:
    # Integers beyond 64 bits and non-string keys fall back to the stdlib encoder.
    assert jq_query(". > 1").one(2**70) is True
    assert jq_query('.["1"]').one({1: "one"}) == "one"


def test_data_that_is_not_json_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        jq_query(".").all({"a": object()})

"""Finding `jq(...)` in template strings: parentheses count only in jq code, not in jq strings."""

from __future__ import annotations

import pytest

from dirigent.jq import TemplateSyntaxError
from dirigent.jq.scanner import Split, split_template


@pytest.mark.parametrize(
    ("text", "texts", "queries"),
    [
        ("no jq here", ("no jq here",), ()),
        ("", ("",), ()),
        ("jq(.a)", ("", ""), (".a",)),
        ("  jq( .a | .b )  ", ("  ", "  "), (".a | .b",)),
        ("a jq(.x) b jq(.y) c", ("a ", " b ", " c"), (".x", ".y")),
        ("jq(.x)jq(.y)", ("", "", ""), (".x", ".y")),
        ("jq((1 + 2) * (3))", ("", ""), ("(1 + 2) * (3)",)),
        ('jq("a)")', ("", ""), ('"a)"',)),
        ('jq("(")', ("", ""), ('"("',)),
        ('jq("a\\")b")', ("", ""), ('"a\\")b"',)),  # escaped quote: the string goes on
        ('jq("a\\\\")', ("", ""), ('"a\\\\"',)),  # escaped backslash: the string ends
        ('jq("x\\("(")y")', ("", ""), ('"x\\("(")y"',)),
        ('jq("\\(.a | ("b") + ")")")!', ("", "!"), ('"\\(.a | ("b") + ")")"',)),
        (
            'jq("\\("\\(")")")")',
            ("", ""),
            ('"\\("\\(")")")"',),
        ),  # interpolation inside interpolation
        ('jq(.a | test("\\\\d)")) tail', ("", " tail"), ('.a | test("\\\\d)")',)),
        ("xjq(.a)", ("x", ""), (".a",)),
    ],
)
def test_split(text: str, texts: tuple[str, ...], queries: tuple[str, ...]) -> None:
    assert split_template(text) == Split(texts, queries)


@pytest.mark.parametrize(
    ("text", "exact"),
    [
        ("jq(.a)", True),
        ("  jq(.a)\n", True),
        ("jq(.a) ", True),
        ("x jq(.a)", False),
        ("jq(.a) jq(.b)", False),
        ("jq(.a)jq(.b)", False),
        ("plain", False),
    ],
)
def test_is_exact(text: str, exact: bool) -> None:
    assert split_template(text).is_exact is exact


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("jq(.a", "unbalanced parentheses: the jq( at offset 0 of 'jq(.a' has no closing ')'"),
        (
            "x jq((.a)",
            "unbalanced parentheses: the jq( at offset 2 of 'x jq((.a)' has no closing ')'",
        ),
        (
            'jq("a)',
            "unbalanced parentheses: the jq( at offset 0 of 'jq(\"a)' has no closing ')'"
            " (a jq string literal is not closed)",
        ),
        (
            'jq(.a) jq("\\(")',
            "unbalanced parentheses: the jq( at offset 7 of 'jq(.a) jq(\"\\\\(\")' has no closing ')'"
            " (a jq string literal is not closed)",
        ),
    ],
)
def test_unbalanced(text: str, message: str) -> None:
    with pytest.raises(TemplateSyntaxError) as caught:
        split_template(text)
    assert str(caught.value) == message

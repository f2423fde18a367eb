"""Builtins that would reach into the server are refused at compile time; look-alikes are not."""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import jq
import pytest

from dirigent.jq import Template, TemplateSyntaxError, jq_query
from dirigent.jq.sandbox import forbidden_uses, tokenize

ENVIRONMENT = (
    "`env` and `$ENV` are not available in workflow templates "
    "(they would expose the server's environment)"
)
MODULES = (
    "`import` and `include` are not available in workflow templates "
    "(they would read modules and data files from the server's disk)"
)
INPUTS = (
    "`input` and `inputs` are not available in workflow templates "
    "(a template has one input, the data it runs on: `.`)"
)
INPUT_FILENAME = (
    "`input_filename` is not available in workflow templates (a template has no input file)"
)
OUTPUT = (
    "`debug` and `stderr` are not available in workflow templates "
    "(they would write to the server's stderr)"
)
HALT = (
    "`halt` and `halt_error` are not available in workflow templates "
    '(they would stop the jq program; use `error("...")` to fail)'
)


def refusal(query: str) -> str:
    with pytest.raises(TemplateSyntaxError) as caught:
        jq_query(query)
    assert caught.value.path == ""
    return str(caught.value)


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("env", ENVIRONMENT),
        ("env.HOME", ENVIRONMENT),
        ("env | .HOME", ENVIRONMENT),
        ("$ENV", ENVIRONMENT),
        ("$ENV.PATH", ENVIRONMENT),
        ("{$ENV}", ENVIRONMENT),
        ('"home: \\(env.HOME)"', ENVIRONMENT),  # string interpolations are jq code
        ('"a \\("b \\($ENV.HOME)")"', ENVIRONMENT),
        ('@base64 "\\(env)"', ENVIRONMENT),
        ("{a: env}", ENVIRONMENT),
        ("{env: env}", ENVIRONMENT),  # the key is fine, the value is not
        ("{(env | keys[0]): 1}", ENVIRONMENT),
        ("[1, env][1]", ENVIRONMENT),
        ("{a: if . then 1, env else 2 end}", ENVIRONMENT),  # `,` inside if ... end
        (".a // env", ENVIRONMENT),
        ("reduce env as $x (0; 1)", ENVIRONMENT),
        ("1 # comment\n| env", ENVIRONMENT),
        ("1 # an escaped backslash ends the comment: \\\\\n| env", ENVIRONMENT),
        ("def env: 1; env", ENVIRONMENT),  # reserved even when redefined
        ("def f(env): env; f(1)", ENVIRONMENT),
        (". as $ENV | 1", ENVIRONMENT),
        ('import "secrets" as $s; $s', MODULES),
        ('include "lib"; .', MODULES),
        ("input", INPUTS),
        ("[inputs]", INPUTS),
        ("first(inputs)", INPUTS),
        ("input_filename", INPUT_FILENAME),
        ("debug", OUTPUT),
        ('debug("x")', OUTPUT),
        (".a | stderr", OUTPUT),
        ("halt", HALT),
        ("halt_error", HALT),
        ('"bye" | halt_error(1)', HALT),
    ],
)
def test_forbidden_builtins_are_refused(query: str, reason: str) -> None:
    assert refusal(query) == f"jq({query}): {reason}"


def test_the_message_names_the_query() -> None:
    assert refusal("env.HOME") == (
        "jq(env.HOME): `env` and `$ENV` are not available in workflow templates "
        "(they would expose the server's environment)"
    )


def test_the_first_forbidden_use_is_reported() -> None:
    assert refusal("debug | env") == f"jq(debug | env): {OUTPUT}"
    assert [token.text for token in forbidden_uses("debug | env | .a | $ENV")] == [
        "debug",
        "env",
        "$ENV",
    ]


def test_templates_refuse_them_at_load_time_with_the_path() -> None:
    with pytest.raises(TemplateSyntaxError) as caught:
        Template.compile({"x": ["ok jq(.a)", "home is jq(env.HOME)"]})
    assert caught.value.path == ".x[1]"
    assert caught.value.message == f"jq(env.HOME): {ENVIRONMENT}"
    assert str(caught.value) == f".x[1]: jq(env.HOME): {ENVIRONMENT}"
    with pytest.raises(TemplateSyntaxError) as caught:
        Template.compile("jq($ENV)")
    assert str(caught.value) == f"jq($ENV): {ENVIRONMENT}"


def test_refused_even_where_jq_would_not_compile() -> None:
    # The check comes first: the message is the same whether or not the rest is valid jq.
    assert refusal("env | | .a") == f"jq(env | | .a): {ENVIRONMENT}"


def test_imports_are_refused_before_anything_is_read(tmp_path: Path) -> None:
    # libjq loads imported modules and data files while compiling, from any `search` directory.
    # Refusing before compiling means nothing is read, and whether the file exists does not show.
    (tmp_path / "secret.json").write_text('{"password": "hunter2"}')
    (tmp_path / "lib.jq").write_text('def hello: "hello";')
    search = f'{{search: "{tmp_path}"}}'
    exists = f'import "secret" as $s {search}; $s'
    missing = f'import "missing" as $s {search}; $s'
    assert jq.compile(exists).input_value(None).first() == [{"password": "hunter2"}]
    assert refusal(exists) == f"jq({exists}): {MODULES}"
    assert refusal(missing) == f"jq({missing}): {MODULES}"
    library = f'include "lib" {search}; hello'
    assert jq.compile(library).input_value(None).first() == "hello"
    assert refusal(library) == f"jq({library}): {MODULES}"


DATA: dict[str, Any] = {"a": 1, "env": "field", "debug": True, "if": "kw"}


@pytest.mark.parametrize(
    ("query", "result"),
    [
        (".env", "field"),
        ('."env"', "field"),
        ('.["env"]', "field"),
        (".env?", "field"),
        ("{env: .a}", {"env": 1}),
        ('{"env": .a}', {"env": 1}),
        ("{env}", {"env": "field"}),
        ("{a, env}", {"a": 1, "env": "field"}),
        ("{a: .a, env, debug}", {"a": 1, "env": "field", "debug": True}),
        ("{a: if . then 1 else 2 end, env}", {"a": 1, "env": "field"}),
        ("{a: try .a, env}", {"a": 1, "env": "field"}),
        ("{env: {env: .a}}", {"env": {"env": 1}}),
        (".a as $env | $env + 1", 2),
        ("label $env | 1", 1),
        (". as {env: $e} | $e", "field"),
        (". as {$env} | $env", "field"),
        ('"env $ENV input halt debug"', "env $ENV input halt debug"),
        ('"\\(.env) \\("env")"', "field env"),
        ('"say \\"env\\""', 'say "env"'),
        (
            "{if: 1, end: 2, import: 3, input: 4, halt: 5}",
            {
                "if": 1,
                "end": 2,
                "import": 3,
                "input": 4,
                "halt": 5,
            },
        ),
        ("{if}", {"if": "kw"}),
        (".a # env and $ENV in a comment", 1),
        (".a # a comment goes on after a backslash \\\n| env", 1),
        (".a # also after a backslash before CR LF \\\r\n| env", 1),
        ("$__loc__.line", 1),
        ('@text "\\(.env)"', "field"),
        ("[paths] | length", 4),
        ("{debug: .debug, stderr: 0} | keys", ["debug", "stderr"]),
    ],
)
def test_look_alikes_are_allowed(query: str, result: Any) -> None:
    assert jq_query(query).one(DATA) == result
    assert Template.compile(f"jq({query})").evaluate(DATA) == result


def test_look_alikes_in_templates_with_several_queries() -> None:
    template = Template.compile(
        {"field": "jq(.env)", "key": "jq({env: .a})", "text": "env=jq(.env) $ENV jq(.a)"}
    )
    assert template._combined is not None
    assert template.evaluate(DATA) == {
        "field": "field",
        "key": {"env": 1},
        "text": "env=field $ENV 1",
    }


def test_names_that_only_start_like_forbidden_ones_are_other_names() -> None:
    for query in ("envy", "_env", "ENV", "env2", "env::x", "$ENVIRONMENT", "debugging"):
        assert forbidden_uses(query) == []
    assert "envy/0 is not defined" in refusal("envy")


def test_tokens() -> None:
    tokens = tokenize('{env: .a, "s\\(1)": $x} # c\n| @base64 "\\")"')
    assert [(token.kind, token.text) for token in tokens] == [
        ("open", "{"),
        ("name", "env"),
        ("other", ":"),
        ("other", ".a"),
        ("other", ","),
        ("string", '"'),
        ("open", "\\("),
        ("other", "1"),
        ("close", ")"),
        ("string", '"'),
        ("other", ":"),
        ("variable", "$x"),
        ("close", "}"),
        ("other", "|"),
        ("other", "@base64"),
        ("string", '"'),
        ("string", '"'),
    ]
    assert [token.offset for token in tokens[:3]] == [0, 1, 4]


@pytest.mark.parametrize(
    "text",
    ['"\\', '")]}', "]]", "((", "\\", "# \\", '"\\(', "\x00", "é", "end", "(if 1)", "{if 1}"],
)
def test_the_tokenizer_never_fails_on_what_is_not_jq(text: str) -> None:
    tokenize(text)
    assert forbidden_uses(text) == []


def test_nothing_after_a_nul_character_is_jq() -> None:
    # libjq reads the query as a C string: the rest is ignored, by libjq and by the check.
    assert jq_query(".a\x00 | env").one(DATA) == 1


# The check against libjq itself: an occurrence of `env` is a call of the builtin exactly when
# renaming just that occurrence to an undefined name makes libjq fail with "envQ/0 is not defined"
# (fields, keys, strings and comments rename without harm); `$ENV` likewise. Programs are built at
# random from forms around the tricky places: keys, shorthand keys, if ... end, interpolations,
# comments, patterns.

_ATOMS = [
    ".",
    "1",
    '"s"',
    ".a",
    "env",
    ".env",
    '."env"',
    "$ENV",
    "(1 as $env | $env)",
    "{env}",
    "{env: 1}",
    "$__loc__",
    '"env"',
    '"a\\"env"',
    "{$__loc__, env}",
    "{if}",
    "{end: env}",
    '.["env"]',
    "$ENV.HOME",
    "env.HOME",
    "{$ENV}",
    "(. as {env: $q} | $q)",
    "null",
    ".a.env",
]
_FORMS = [
    "E | E",
    "E, E",
    "[E]",
    "(E)",
    "{a: E}",
    "{a: E, env}",
    "{env: E, b: E}",
    "{(E): 1}",
    '"x\\(E)y"',
    "if E then E else E end",
    "if E then E end",
    "if E then E elif E then E else E end",
    "{a: if E then E, E else E end, env}",
    "{a: if E then E, env else E end}",
    "{a: if E then E elif E then {env: E} else E end, env: E}",
    "try E catch E",
    "{a: try E, env}",
    "reduce E as $x (E; E)",
    "E // E",
    "{a: -E, env}",
    ".[E]",
    ".[E:E]",
    "E as {env: $y} | E",
    "E as {a: $p, env: [$r]} | E",
    "E as $z | {$z, env, c: E}",
    '{"k": E}',
    '{"\\(E)": E}',
    '@base64 "\\(E)"',
    "{a: E, if: E, end: E}",
    'E # c env "\n| E',
    "E # c \\\n env\n| E",
    "E # c \\\\\n| E",
    "E # c \\\r\n env\n, E",
    "def f: E; f",
    "E and E",
    "{a: E}.env",
    "{a: .b?, env}",
]


def _program(rng: random.Random, depth: int) -> str:
    if depth <= 0 or rng.random() < 0.25:
        return rng.choice(_ATOMS)
    parts = re.split("(E)", rng.choice(_FORMS))
    return "".join(_program(rng, depth - 1) if part == "E" else part for part in parts)


def _compile_error(text: str) -> str | None:
    try:
        jq.compile(text)
    except ValueError as error:
        return str(error)
    return None


def _calls_by_libjq(text: str) -> set[int]:
    calls = set()
    for name, marker in (("env", "envQ/"), ("$ENV", "$ENVQ is not defined")):
        for match in re.finditer(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", text):
            start, end = match.span()
            error = _compile_error(f"{text[:start]}{name}Q{text[end:]}")
            if error is not None and marker in error:
                calls.add(start)
    return calls


def test_the_check_agrees_with_libjq_on_random_programs() -> None:
    rng = random.Random(20240611)
    checked = calls = others = 0
    while checked < 150:
        text = _program(rng, 4)
        if _compile_error(text) is not None:
            continue
        checked += 1
        expected = _calls_by_libjq(text)
        assert {token.offset for token in forbidden_uses(text)} == expected, text
        calls += len(expected)
        others += len(re.findall(r"\benv\b|\$ENV\b", text)) - len(expected)
    # Both kinds were exercised.
    assert calls > 50
    assert others > 50

"""What jq may not do in a workflow template: reach outside the instance data, into the server.

libjq has builtins made for the jq command line that make no sense inside a server, and some are
dangerous there: `env` and `$ENV` read the server's environment (credentials, secrets);
`import` and `include` read modules and JSON data files from any directory named in their
`{search: ...}`; `debug` and `stderr` write to the server's stderr; `halt` and `halt_error` stop the
program; `input`, `inputs` and `input_filename` are about further inputs and an input file, which a
template does not have. `check_query` rejects a query that uses any of them, when it is compiled.
(libjq 1.8 has no `$__prog_args`; `$ARGS` and `$__prog_name` belong to the jq command line, not to
libjq, so they are undefined here and fail to compile anyway.)

The names are found as jq tokens, cut the way libjq 1.8's lexer cuts the text: not inside string
literals (but inside their `\\(...)` interpolations, which are jq code), not in comments (which end
at a newline unless a backslash escapes it), and not as a field (`.env`, `."env"`), a variable
(`$env`) or an object key (`{env: 1}`, `{env}`, `. as {env: $x}`), which have nothing to do with the
builtins. Any other use is rejected, including a definition, parameter or variable of that name
(`def env: 1;`, `. as $ENV`): reserved names that read like the builtins would only confuse.

The check runs before libjq compiles the query, because compiling already loads the modules and
data files a query imports. For valid jq the cut agrees with libjq's; in particular, an identifier
right after `{` or `,` directly inside an object construction (or object pattern), and followed by
`:`, `,` or `}`, is a key: the one construct in which an unbracketed `,` there does not separate
entries, `if ... end`, is tracked like a bracket. Text that is not valid jq may be refused here
rather than by libjq; the tokenizer itself never fails.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dirigent.jq.errors import TemplateSyntaxError

_ENVIRONMENT = (
    "`env` and `$ENV` are not available in workflow templates "
    "(they would expose the server's environment)"
)
_MODULES = (
    "`import` and `include` are not available in workflow templates "
    "(they would read modules and data files from the server's disk)"
)
_INPUTS = (
    "`input` and `inputs` are not available in workflow templates "
    "(a template has one input, the data it runs on: `.`)"
)
_INPUT_FILENAME = (
    "`input_filename` is not available in workflow templates (a template has no input file)"
)
_OUTPUT = (
    "`debug` and `stderr` are not available in workflow templates "
    "(they would write to the server's stderr)"
)
_HALT = (
    "`halt` and `halt_error` are not available in workflow templates "
    '(they would stop the jq program; use `error("...")` to fail)'
)

#: Builtin functions and keywords that templates may not use, with why.
FORBIDDEN_NAMES: dict[str, str] = {
    "env": _ENVIRONMENT,
    "import": _MODULES,
    "include": _MODULES,
    "input": _INPUTS,
    "inputs": _INPUTS,
    "input_filename": _INPUT_FILENAME,
    "debug": _OUTPUT,
    "stderr": _OUTPUT,
    "halt": _HALT,
    "halt_error": _HALT,
}
#: Builtin variables that templates may not use, with why.
FORBIDDEN_VARIABLES: dict[str, str] = {"$ENV": _ENVIRONMENT}

_IDENT = r"(?:[a-zA-Z_][a-zA-Z_0-9]*::)*[a-zA-Z_][a-zA-Z_0-9]*"
# jq code, one token per match; the first alternative that matches wins, which for valid jq gives
# the same cut as libjq's longest match. `punct` is any other single character.
_CODE = re.compile(
    r"(?P<space>[ \t\r\n]+)"
    r"|(?P<comment>#(?:[^\\\n]|\\(?:\r?\n|.)?)*)"
    r"|(?P<field>\.[a-zA-Z_][a-zA-Z_0-9]*)"
    r"|(?P<number>[0-9.]+(?:[eE][+-]?[0-9]+)?)"
    rf"|(?P<variable>\${_IDENT})"
    r"|(?P<format>@[a-zA-Z0-9_]+)"
    rf"|(?P<name>{_IDENT})"
    r"|(?P<punct>.)",
    re.DOTALL,
)
# Inside a string literal: `\(` starts an interpolation, `"` ends the string, the rest is text.
_STRING = re.compile(r'(?P<interpolation>\\\()|(?P<end>")|\\.|[^\\"]+|.', re.DOTALL)

_OPENERS = {"(": ")", "[": "]", "{": "}"}
_KEY_BEFORE = frozenset({"{", ","})
_KEY_AFTER = frozenset({":", ",", "}"})
_IF = "if"
_INTERPOLATION = "\\("


@dataclass(frozen=True, slots=True)
class Token:
    """A jq token: `kind` is "name" (identifiers and keywords), "variable", "open" (`(`, `[`, `{`,
    and `\\(` in strings), "close" (the matching `)`, `]`, `}`), "string" (the quotes of a string
    literal) or "other"; `text` is the token itself."""

    kind: str
    text: str
    offset: int


def check_query(text: str) -> None:
    """Raise `TemplateSyntaxError` if the jq `text` uses a builtin that templates may not use
    (the first one, in the order of the text)."""
    for token in forbidden_uses(text):
        reason = FORBIDDEN_VARIABLES.get(token.text) or FORBIDDEN_NAMES[token.text]
        raise TemplateSyntaxError(f"jq({text}): {reason}")


def forbidden_uses(text: str) -> list[Token]:
    """The tokens of `text` that use a forbidden builtin, in order."""
    tokens = tokenize(text)
    found: list[Token] = []
    # One entry per open context: "(", "[", "{", "\\(" or "if".
    stack: list[str] = []
    for index, token in enumerate(tokens):
        kind = token.kind
        if kind == "open":
            stack.append(token.text)
        elif kind == "close":
            while stack and stack.pop() == _IF:
                pass
        elif kind == "variable":
            if token.text in FORBIDDEN_VARIABLES:
                found.append(token)
        elif kind == "name" and not _is_key(tokens, index, stack):
            if token.text == _IF:
                stack.append(_IF)
            elif token.text == "end":
                if stack and stack[-1] == _IF:
                    stack.pop()
            elif token.text in FORBIDDEN_NAMES:
                found.append(token)
    return found


def _is_key(tokens: list[Token], index: int, stack: list[str]) -> bool:
    """Whether the name at `index` is an object key (`{env: 1}`, `{a, env}`), not a call."""
    if not stack or stack[-1] != "{" or index == 0 or index + 1 == len(tokens):
        return False
    return tokens[index - 1].text in _KEY_BEFORE and tokens[index + 1].text in _KEY_AFTER


def tokenize(text: str) -> list[Token]:
    """The significant tokens of the jq `text` (no blanks, no comments, no string contents).

    libjq reads the text as a C string, so nothing after a NUL character is part of the query."""
    text = text.partition("\0")[0]
    tokens: list[Token] = []
    # One entry per open context; True for a string literal, else the closing text of jq code
    # (")" also for a string interpolation, which then returns to its string).
    modes: list[str | bool] = []
    position = 0
    length = len(text)
    while position < length:
        if modes and modes[-1] is True:  # inside a string literal
            match = _STRING.match(text, position)
            assert match is not None  # `.` matches any character
            if match["interpolation"]:
                modes.append(_INTERPOLATION)
                tokens.append(Token("open", _INTERPOLATION, position))
            elif match["end"]:
                modes.pop()
                tokens.append(Token("string", '"', position))
            position = match.end()
            continue
        match = _CODE.match(text, position)
        assert match is not None
        kind = match.lastgroup
        token = match.group()
        if kind == "name" or kind == "variable":
            tokens.append(Token(kind, token, position))
        elif kind == "punct":
            tokens.append(_punctuation(token, position, modes))
        elif kind in ("field", "number", "format"):
            tokens.append(Token("other", token, position))
        position = match.end()
    return tokens


def _punctuation(char: str, position: int, modes: list[str | bool]) -> Token:
    if char == '"':
        modes.append(True)
        return Token("string", char, position)
    if char in _OPENERS:
        modes.append(char)
        return Token("open", char, position)
    if char in ")]}" and modes:
        modes.pop()
        return Token("close", char, position)
    return Token("other", char, position)

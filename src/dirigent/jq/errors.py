"""How jq problems are reported: a load-time `TemplateSyntaxError`, run-time `WorkflowError`s.

Load-time problems (a template that cannot be parsed, jq that does not compile) are failures of the
definition and raise `TemplateSyntaxError`. Run-time problems are workflow errors, catchable by
`catch`: `direktiv.jq.notObject` when a query gives no value or several where exactly one is needed,
and `direktiv.jq.badCommand` when jq itself fails (`error("x")`, indexing a string, ...).
"""

from __future__ import annotations

import re

from dirigent.errors import Code, WorkflowError


class TemplateSyntaxError(ValueError):
    """A template or jq query that cannot be loaded: unbalanced `jq(`, jq that does not compile, a
    value that is not JSON. The message is readable on its own and names the offending query or
    string.

    `path` locates the offending part inside the template (`.input.names[2]`; empty for the template
    itself) and prefixes the string form, so a caller can prepend where the template is
    (`states[2].transform`); `message` is the rest.
    """

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.message = message
        self.path = path


# One libjq compile error: "jq: error: <message> at <top-level>, line 1, column 6:" followed by the
# query and a caret line (noise for us); the last line counts the errors ("jq: 2 compile errors").
_ERROR_LINE = re.compile(
    r"^jq: error: (?P<message>.*?)"
    r"(?: at <top-level>, line (?P<line>\d+)(?:, column (?P<column>\d+))?:?)?$"
)
# jq 1.6 added this hint to every syntax error; it is about shells, not about us.
_SHELL_HINT = " (Unix shell quoting issues?)"
# Parser token names that libjq puts in syntax errors, in words a workflow author knows.
_TOKEN_WORDS = {
    "end of file": "end of query",
    "INVALID_CHARACTER": "invalid character",
    "IDENT": "name",
    "FIELD": "field",
    "BINDING": "$variable",
    "FORMAT": "@format",
    "LITERAL": "literal",
    "QQSTRING_START": "'\"'",
    "QQSTRING_END": "'\"'",
    "QQSTRING_TEXT": "string text",
    "QQSTRING_INTERP_START": "'\\('",
    "QQSTRING_INTERP_END": "')'",
}
_TOKEN = re.compile("|".join(rf"\b{re.escape(token)}\b" for token in _TOKEN_WORDS))


def describe_compile_error(query: str, raw: str) -> str:
    """Turn libjq's compile error text for `query` into one readable line (message and position)."""
    multiline = "\n" in query
    details: list[str] = []
    for line in raw.splitlines():
        match = _ERROR_LINE.match(line)
        if match is None:
            continue
        message = _TOKEN.sub(lambda m: _TOKEN_WORDS[m.group(0)], match["message"])
        message = message.replace(_SHELL_HINT, "")
        if match["column"] is not None:
            where = f"column {match['column']}"
            message += f" (line {match['line']}, {where})" if multiline else f" ({where})"
        details.append(message)
    detail = "; ".join(details) if details else raw.strip()
    return f"jq does not compile: {query or '(empty query)'}: {detail}"


def bad_command(query: str, message: str) -> WorkflowError:
    """jq failed running `query` (libjq's `message` says why): `direktiv.jq.badCommand`."""
    return WorkflowError(Code.JQ_BAD_COMMAND, f"jq({query}) failed: {message}")


def not_one_value(query: str, count: int) -> WorkflowError:
    """`query` gave `count` values (0 or more than 1) where exactly one is needed: catchable
    `direktiv.jq.notObject`."""
    got = "no value" if count == 0 else f"{count} values"
    return WorkflowError(Code.JQ_NOT_OBJECT, f"jq({query}) gave {got}; exactly one is needed")

"""Finding the `jq(...)` queries inside a template string.

A query runs from `jq(` to the parenthesis that closes it, counting parentheses only in jq code, not
in jq string literals: `jq("a)")` is the query `"a)"`. Inside a string literal, `\\(` opens a string
interpolation, which is jq code again (and may hold strings of its own) until its matching `)`. (The
2021 engine counted every parenthesis, so `jq("a)")` broke.) Comments (`#`) are not recognised: a
template is one line of text, and `)` inside a comment would be ambiguous anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

from dirigent.jq.errors import TemplateSyntaxError

_OPEN = "jq("


@dataclass(frozen=True, slots=True)
class Split:
    """A template string cut into literal text and queries, alternating: `texts[0]`, `queries[0]`,
    `texts[1]`, ..., `queries[-1]`, `texts[-1]`; so `len(texts) == len(queries) + 1`. Queries are
    the text between `jq(` and its closing `)`, with surrounding blanks removed."""

    texts: tuple[str, ...]
    queries: tuple[str, ...]

    @property
    def is_exact(self) -> bool:
        """The whole string, blanks around ignored, is one `jq(Q)`."""
        return len(self.queries) == 1 and not self.texts[0].strip() and not self.texts[1].strip()


def split_template(text: str) -> Split:
    """Cut `text` at its `jq(...)` queries; `TemplateSyntaxError` when a `jq(` is not closed."""
    texts: list[str] = []
    queries: list[str] = []
    position = 0
    while (start := text.find(_OPEN, position)) >= 0:
        body = start + len(_OPEN)
        end = _find_close(text, body)
        texts.append(text[position:start])
        queries.append(text[body:end].strip())
        position = end + 1
    texts.append(text[position:])
    return Split(tuple(texts), tuple(queries))


def _find_close(text: str, start: int) -> int:
    """Index of the `)` that closes the jq code beginning at `start` (just after `jq(`).

    `stack` holds one entry per open context: an int is jq code with that many unclosed `(`, `None`
    is a string literal. The bottom entry is the `jq(` itself; a `)` at depth 0 closes the innermost
    code, which is either that `jq(` (done) or a `\\(` interpolation (back into its string).
    """
    stack: list[int | None] = [0]
    index = start
    length = len(text)
    while index < length:
        char = text[index]
        depth = stack[-1]
        if depth is None:  # inside a jq string literal
            if char == "\\":
                if text.startswith("(", index + 1):
                    stack.append(0)
                index += 2
                continue
            if char == '"':
                stack.pop()
        elif char == '"':
            stack.append(None)
        elif char == "(":
            stack[-1] = depth + 1
        elif char == ")":
            if depth > 0:
                stack[-1] = depth - 1
            elif len(stack) == 1:
                return index
            else:
                stack.pop()
        index += 1
    inside = " (a jq string literal is not closed)" if None in stack else ""
    raise TemplateSyntaxError(
        f"unbalanced parentheses: the jq( at offset {start - len(_OPEN)} of {text!r} has no "
        f"closing ')'{inside}"
    )

"""What is wrong with a definition: `Problem` (one finding, with its place) and `DefinitionError`.

A place has three parts: the file, the 1-based line and column in the YAML text, and a path in the
language's own terms (`states[2].action.function`). Paths are tuples of keys and list indexes inside
the loader and become text only when shown; the text form writes keys the way jq does (`.key`, or
`["odd key"]` when the key is not an identifier), so a path inside a jq template appends cleanly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, TypeAlias

from dirigent.errors import InvalidInput

#: A place inside the document: map keys and list indexes from the root.
Path: TypeAlias = tuple[str | int, ...]

Severity: TypeAlias = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One finding about a definition: an error (the definition is refused) or a warning.

    `line` and `column` are 1-based and `None` when unknown; `path` is "" when the finding is about
    the document as a whole.
    """

    file: str
    line: int | None
    column: int | None
    path: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        """`hello.yaml:14:15: states[2].action.function: no function 'greeter'`, leaving out the
        parts that are unknown."""
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        if self.path:
            return f"{where}: {self.path}: {self.message}"
        return f"{where}: {self.message}"

    @property
    def sort_key(self) -> tuple[int, int, int, str]:
        """Errors before warnings, then by position in the text (unknown positions first)."""
        return (
            0 if self.severity == "error" else 1,
            self.line or 0,
            self.column or 0,
            self.path,
        )


class DefinitionError(InvalidInput):
    """A definition that cannot be loaded. `problems` holds every error found (not just the first),
    followed by the warnings; `str()` shows one problem per line."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: p.sort_key)
        super().__init__(
            "\n".join(str(p) if p.severity == "error" else f"warning: {p}" for p in self.problems)
        )

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def format_path(path: Path) -> str:
    """`('states', 2, 'action', 'function')` → `states[2].action.function`."""
    parts: list[str] = []
    for segment in path:
        if isinstance(segment, int):
            parts.append(f"[{segment}]")
        elif segment.isidentifier():
            parts.append(f".{segment}" if parts else segment)
        else:
            parts.append(f"[{json.dumps(segment)}]")
    return "".join(parts)


_SEGMENT = re.compile(r'\.(?P<key>[^.\[]+)|\[(?P<index>\d+)\]|\[(?P<quoted>"(?:[^"\\]|\\.)*")\]')


def parse_path(text: str) -> Path:
    """The inverse of `format_path` for the jq-style paths of `TemplateSyntaxError`
    (`.input.names[2]`, `["a b"]`); stops at the first part it cannot read."""
    segments: list[str | int] = []
    position = 0
    while position < len(text):
        match = _SEGMENT.match(text, position)
        if match is None:
            break
        if match["key"] is not None:
            segments.append(match["key"])
        elif match["index"] is not None:
            segments.append(int(match["index"]))
        else:
            segments.append(str(json.loads(match["quoted"])))
        position = match.end()
    return tuple(segments)

"""YAML text → plain JSON values, remembering where in the text every key and list item was.

The text is read with ruamel.yaml's round-trip loader, which records the line and column of every map
key, map value and list item. The loaded tree is then copied into plain Python values (dict, list,
str, int, float, bool, None: JSON data, which is what pydantic and jq are given), and the positions
into a side table keyed by path, so that every later problem can name its line.

Choices (docs/workflow-definitions.md): YAML 1.2, as ruamel reads it by default, so `yes`, `no`,
`on` and `off` are strings and only `true`/`false` are booleans; dates and timestamps, which YAML
reads as such when unquoted, become their ISO 8601 strings; anything else that is not JSON
(`.inf`, `!!binary`, custom tags, sets, non-string map keys) is a problem.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import TaggedScalar
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarbool import ScalarBoolean

from dirigent.spec.problems import DefinitionError, Path, Problem, Severity, format_path
from dirigent.types import JSON

Position = tuple[int, int]  # 0-based line and column, as ruamel gives them


@dataclass
class Document:
    """A parsed definition: its JSON `data`, and where each part of it is in the text.

    `values[path]` is where the value at `path` is written: a scalar's own position, or, for a map
    or list under a key, the key's (the line that introduces it); `keys[path]` is where the key
    itself is written (for "unknown field" problems).
    """

    file: str
    data: JSON
    values: dict[Path, Position] = field(default_factory=dict)
    keys: dict[Path, Position] = field(default_factory=dict)

    def position(self, path: Path, *, key: bool = False) -> Position | None:
        """Where `path` (or, failing that, its deepest existing parent) is written."""
        if key and path in self.keys:
            return self.keys[path]
        for end in range(len(path), -1, -1):
            found = self.values.get(path[:end])
            if found is not None:
                return found
        return None

    def problem(
        self, path: Path, message: str, severity: Severity = "error", *, key: bool = False
    ) -> Problem:
        """A `Problem` at `path`, with the line and column of that place in the text."""
        position = self.position(path, key=key)
        line, column = (position[0] + 1, position[1] + 1) if position is not None else (None, None)
        return Problem(self.file, line, column, format_path(path), message, severity)


def decode(source: str | bytes, file: str) -> str:
    """The text of `source`; bytes must be UTF-8 (a byte order mark is dropped)."""
    if isinstance(source, str):
        return source
    try:
        return source.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = source[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise DefinitionError(
            [Problem(file, line, column, "", f"not UTF-8 text: byte {source[exc.start]:#04x}")]
        ) from None


def parse_document(text: str, file: str) -> Document:
    """Parse one YAML document into a `Document`. Raises `DefinitionError` for YAML syntax errors
    and for values that are not JSON."""
    yaml = YAML(typ="rt")
    try:
        tree = yaml.load(text)
    except MarkedYAMLError as exc:
        raise DefinitionError([_syntax_problem(exc, text, file)]) from None
    except YAMLError as exc:
        raise DefinitionError([Problem(file, None, None, "", str(exc))]) from None
    except RecursionError:
        raise DefinitionError([Problem(file, None, None, "", "nested too deeply")]) from None
    document = Document(file, None)
    lc = getattr(tree, "lc", None)
    if lc is not None:
        document.values[()] = (lc.line, lc.col)
    problems: list[Problem] = []
    try:
        document.data = _Converter(document, problems).convert(tree, ())
    except RecursionError:
        problems.append(Problem(file, None, None, "", "nested too deeply"))
    if problems:
        raise DefinitionError(problems)
    return document


def _syntax_problem(exc: MarkedYAMLError, text: str, file: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    message = exc.problem or exc.context or "invalid YAML"
    # ruamel words some messages with a link to its own docs; the first line is what matters here.
    message = str(message).splitlines()[0].strip()
    if exc.context and exc.problem and "duplicate key" not in message:
        message = f"{message} ({exc.context})"
    if mark is None:
        return Problem(file, None, None, "", message)
    lines = text.splitlines()
    line_text = lines[mark.line] if mark.line < len(lines) else ""
    if "mapping values are not allowed" in message and "jq(" in line_text[: mark.column]:
        # `transform: jq({a: 1})`: the ': ' inside the query starts a map. Show the quoted form.
        key, _, value = line_text.strip().lstrip("- ").partition(": ")
        quoted = value.strip().replace("'", "''")
        message += f"; a value with jq(...) that contains ': ' must be quoted: {key}: '{quoted}'"
    return Problem(file, mark.line + 1, mark.column + 1, "", message)


class _Converter:
    """Copies a ruamel tree into plain values, filling the position tables of `document`."""

    def __init__(self, document: Document, problems: list[Problem]) -> None:
        self.document = document
        self.problems = problems

    def convert(self, value: Any, path: Path) -> JSON:
        # ruamel does not build cyclic values (an alias inside its own anchor reads as null), and
        # too deep a nesting ends in the RecursionError that `parse_document` reports.
        if isinstance(value, Mapping):
            return self._map(value, path)
        if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
            return self._list(value, path)
        return self._scalar(value, path)

    def _map(self, value: Mapping[Any, Any], path: Path) -> JSON:
        lc = getattr(value, "lc", None)
        places: dict[Any, list[int]] = lc.data if lc is not None else {}
        values, keys = self.document.values, self.document.keys
        result: dict[str, JSON] = {}
        for key, item in value.items():
            place = places.get(key)
            if not isinstance(key, str):
                where = path if place is None else (*path, str(key))
                if place is not None:
                    values[where] = (place[0], place[1])
                self._fail(where, f"a map key must be a string, not {key!r}; write it in quotes")
                continue
            child = (*path, str(key))
            if place is not None:
                keys[child] = (place[0], place[1])
                scalar = item is not None and not isinstance(item, (Mapping, list))
                values[child] = (place[2], place[3]) if scalar else (place[0], place[1])
            result[str(key)] = self.convert(item, child)
        return result

    def _list(self, value: Sequence[Any], path: Path) -> JSON:
        lc = getattr(value, "lc", None)
        places: dict[int, list[int]] = lc.data if lc is not None else {}
        values = self.document.values
        result: list[JSON] = []
        for index, item in enumerate(value):
            child = (*path, index)
            place = places.get(index)
            if place is not None:
                values[child] = (place[0], place[1])
            result.append(self.convert(item, child))
        return result

    def _scalar(self, value: Any, path: Path) -> JSON:
        if value is None or type(value) in (str, int, bool):
            return value
        if isinstance(value, (bool, ScalarBoolean)):
            return bool(value)  # ScalarBoolean (an anchored boolean) is an int subclass
        if isinstance(value, str):
            return str(value)  # ruamel's string subclasses (quoted, literal, folded) → str
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float):
            if math.isfinite(value):
                return float(value)
            self._fail(path, f"{value} is not a JSON number")
            return None
        if isinstance(value, (datetime.date, datetime.datetime)):
            # Unquoted dates are timestamps in YAML; as data they are their ISO 8601 text.
            return value.isoformat()
        if isinstance(value, bytes):
            self._fail(path, "binary data (!!binary) is not supported; values are JSON data")
            return None
        if isinstance(value, TaggedScalar):
            self._fail(path, f"the YAML tag {value.tag} is not supported; values are JSON data")
            return None
        self._fail(path, f"a {type(value).__name__} is not a JSON value; values are JSON data")
        return None

    def _fail(self, path: Path, message: str) -> None:
        self.problems.append(self.document.problem(path, message))

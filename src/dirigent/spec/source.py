"""YAML text → plain JSON values, remembering where in the text every key and list item was.

The text is composed into ruamel.yaml's node tree, in which every node has its line and column and
its tag (the resolver's reading of a plain scalar: `12` an int, `true` a bool, `yes` a string). The
tree is walked here into plain Python values (dict, list, str, int, float, bool, None: JSON data,
which is what pydantic and jq are given), and the positions into a side table keyed by path, so
that every later problem can name its line. The walk does what ruamel's round-trip constructor,
which this module used before, did: the same values, positions and errors.

libyaml composes the tree (through ruamel.yaml.clib: ~3 ms for a 360-line workflow, against ~33 ms
for ruamel's pure-Python round-trip reader). Where the two read a text differently, ruamel's reader
reads it, as before: when libyaml refuses the text (ruamel then words the error, or reads YAML 1.2
that libyaml refuses, such as `{a:1}`), and for the texts `_for_ruamel` picks out. Without
ruamel.yaml.clib, `YAML(pure=False)` would quietly use the pure-Python parser, with the same nodes;
ruamel's round-trip reader is then used for every text.

Choices (docs/workflow-definitions.md): YAML 1.2, as ruamel reads it by default, so `yes`, `no`,
`on` and `off` are strings and only `true`/`false` are booleans; dates and timestamps, which YAML
reads as such when unquoted, become their ISO 8601 strings; anything else that is not JSON
(`.inf`, `!!binary`, custom tags, sets, non-string map keys) is a problem.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import MutableMapping, MutableSequence
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedKeyMap, CommentedKeySeq
from ruamel.yaml.constructor import ConstructorError, DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.parser import Parser as PurePythonParser
from ruamel.yaml.util import create_timestamp, timestamp_regexp

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
    document = Document(file, None)
    problems: list[Problem] = []
    try:
        root, yaml_1_1 = _compose(text)
        if root is not None:
            document.data = _Converter(document, problems, yaml_1_1).root(root)
    except MarkedYAMLError as exc:
        # From the reader, or, for duplicate keys, bad merges and bad base64, from the walk.
        raise DefinitionError([_syntax_problem(exc, text, file)]) from None
    except YAMLError as exc:
        raise DefinitionError([Problem(file, None, None, "", str(exc))]) from None
    except (RecursionError, _TooDeep):
        raise DefinitionError([Problem(file, None, None, "", "nested too deeply")]) from None
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


# Where libyaml (a YAML 1.1 reader) and ruamel (YAML 1.2) read the same text differently, without
# an error from libyaml: tabs (`a:\tb` is an error for ruamel), the line breaks of YAML 1.1 (NEL, LS,
# PS), byte order marks (libyaml counts them in columns), `%` directives (ruamel honours `%YAML 1.1`),
# anchors and aliases whose names libyaml ends early (`&a:` is the anchor `a:` in YAML 1.2), and tags
# (libyaml takes some that ruamel refuses, and reads `!` alone as a string, not null).
_LIBYAML_DIFFERS = ("\t", "\x85", "\u2028", "\u2029", "\ufeff")
_TOKEN_BEFORE = frozenset(" \r\n[{,")
_NAME = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-")
_NAME_AFTER = frozenset(" \r\n[]{},")
# libyaml's composer recurses in C, with no guard (30,000 levels crash Python): ~300 bytes of stack
# per level, so 10,000 levels need ~3 MB (threads have 8 MB on Linux).
_LIBYAML_MAX_NESTING = 10_000
# Without ruamel.yaml.clib, YAML(pure=False) falls back to the pure-Python parser (same node API);
# then ruamel's round-trip reader, which gives ruamel's own messages, reads every text.
_HAVE_LIBYAML = YAML(typ="safe", pure=False).Parser is not PurePythonParser


def _compose(text: str) -> tuple[Node | None, bool]:
    """The node tree of the one document in `text` (None if there is none), and whether the text
    asks for YAML 1.1 (`%YAML 1.1`)."""
    if _HAVE_LIBYAML and not _for_ruamel(text):
        yaml = YAML(typ="safe", pure=False)
        yaml.version = (1, 2)
        try:
            return yaml.compose(text), False
        except (YAMLError, UnicodeError):
            pass  # ruamel decides, in its own words (or reads what libyaml refused)
    yaml = YAML(typ="rt")
    try:
        node = yaml.compose(text)
    except NotImplementedError:
        # ruamel's round-trip reader gives up on some comments ("overlap in comment"), where its
        # plain reader does not.
        yaml = YAML(typ="safe", pure=True)
        node = yaml.compose(text)
    _unfold(node)
    return node, yaml.version == (1, 1)


def _unfold(root: Node | None) -> None:
    """Drop the marks (BEL) that ruamel's round-trip reader puts where a folded (`>`) scalar was
    folded; its constructor dropped them too."""
    stack = [root]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, ScalarNode):
            if node.style == ">" and isinstance(node.value, str):
                node.value = node.value.replace("\a", "")
        elif isinstance(node, MappingNode):
            stack += [part for pair in node.value for part in pair]
        elif isinstance(node, SequenceNode):
            stack += node.value


def _for_ruamel(text: str) -> bool:
    """Whether ruamel must read `text`: libyaml would read it otherwise (see `_LIBYAML_DIFFERS`), or
    it might nest deeper than libyaml's composer, which recurses in C, can go safely."""
    if any(character in text for character in _LIBYAML_DIFFERS):
        return True
    if "%" in text and (text[0] == "%" or "\n%" in text or "\r%" in text):
        return True
    # A text has no more levels of nesting than characters that open a map or list.
    openers = len(text) if len(text) <= _LIBYAML_MAX_NESTING else sum(map(text.count, "[{-?:"))
    if openers > _LIBYAML_MAX_NESTING:
        return True
    return _has_token(text, "!") or _has_token(text, "&") or _has_token(text, "*")


def _has_token(text: str, indicator: str) -> bool:
    """Whether `indicator` starts a tag (any but `!=`, common in jq), or an anchor or alias that
    libyaml might read otherwise than ruamel: its name ends in a character other than a space or
    a flow indicator, or a `:` follows it."""
    end = len(text)
    at = text.find(indicator)
    while at >= 0:
        if at == 0 or text[at - 1] in _TOKEN_BEFORE:
            after = at + 1
            if indicator == "!":
                if after == end or text[after] != "=":
                    return True
            else:
                while after < end and text[after] in _NAME:
                    after += 1
                if after < end and text[after] not in _NAME_AFTER:
                    return True
                while after < end and text[after] == " ":
                    after += 1
                if after < end and text[after] == ":":
                    return True
        at = text.find(indicator, at + 1)
    return False


_CORE = "tag:yaml.org,2002:"
_STR, _NULL, _BOOL, _INT, _FLOAT = (
    _CORE + name for name in ("str", "null", "bool", "int", "float")
)
_TIMESTAMP, _BINARY = _CORE + "timestamp", _CORE + "binary"
_MAP, _SEQ, _SET = _CORE + "map", _CORE + "seq", _CORE + "set"
_MERGE, _VALUE = _CORE + "merge", _CORE + "value"  # `<<` and `=` (a plain `=` key is a string)
_SCALAR_TAGS = frozenset({_STR, _NULL, _BOOL, _INT, _FLOAT, _TIMESTAMP, _BINARY})
# ruamel's booleans for `!!bool` (YAML 1.2 resolves only true/false as booleans; 1.1 all of these).
_BOOLEANS = {"yes": True, "no": False, "y": True, "n": False}
_BOOLEANS |= {"true": True, "false": False, "on": True, "off": False}
# Maps and lists nested deeper are refused ("nested too deeply"), about where the recursion of
# ruamel's constructor gave up before.
_MAX_DEPTH = 250
_MERGE_NOTE = "Duplicate merge keys are never allowed"


class _TooDeep(Exception):
    pass


def _kind(node: Node) -> str:
    """'scalar', 'sequence' or 'mapping', as ruamel's messages name nodes."""
    return str(getattr(node, "id", "node"))


def _tag(node: Node) -> str:
    """The node's tag as text. Resolved tags are the bare suffix; only a tag written with a handle
    (`!!str`, on ruamel's path) or with %-escapes needs the `Tag`'s own conversion."""
    tag = node.ctag
    suffix = tag.suffix
    if tag.handle is None and isinstance(suffix, str) and "%" not in suffix:
        return suffix
    return str(tag)


class _Converter:
    """Walks a node tree into plain values, filling the position tables of `document`.

    The values are those ruamel's round-trip constructor built: YAML 1.2 core schema scalars
    (decimal, `0x`, `0o` and `0b` ints, `_` ignored in numbers), timestamps as ISO text, `<<` merges
    (own keys first, then merged ones, which have no position of their own), an alias inside its
    own anchor as null. What that constructor refused (duplicate keys, bad merges, bad base64,
    collections under a scalar tag) is raised as its `MarkedYAMLError`, before any other problem.
    """

    def __init__(self, document: Document, problems: list[Problem], yaml_1_1: bool) -> None:
        self.document = document
        self.values = document.values
        self.keys = document.keys
        self.problems = problems
        self.yaml_1_1 = yaml_1_1
        self.active: set[int] = set()  # ids of the collections being walked (aliases can loop)
        self._round_trip: Any = None

    def root(self, node: Node) -> JSON:
        if isinstance(node, ScalarNode):
            return self._scalar(node, _tag(node), ())
        self.values[()] = (node.start_mark.line, node.start_mark.column)
        return self._collection(node, _tag(node), (), 0)

    def _collection(self, node: Node, tag: str, path: Path, depth: int) -> JSON:
        key = id(node)
        if key in self.active:
            return None  # an alias inside its own anchor
        if depth > _MAX_DEPTH:
            raise _TooDeep
        self.active.add(key)
        try:
            if isinstance(node, MappingNode):
                if tag == _MAP:
                    return self._map(node, path, depth)
                if tag == _SET:
                    self._fail(path, "a set (!!set) is not supported; values are JSON data")
                    return None
                kind, expected = "mapping", "sequence" if tag == _SEQ else None
            elif isinstance(node, SequenceNode):
                if tag == _SEQ:
                    return self._list(node, path, depth)
                kind, expected = "sequence", "mapping" if tag in (_MAP, _SET) else None
            else:
                raise TypeError(node)
            if expected is None and tag in _SCALAR_TAGS:
                expected = "scalar"
            if expected is not None:
                raise ConstructorError(
                    None, None, f"expected a {expected} node, but found {kind}", node.start_mark
                )
            # Another tag: ruamel built the map or list as a plain one, refusing it if that failed.
            try:
                if isinstance(node, MappingNode):
                    self._quietly(lambda: self._map(node, (), depth))
                else:
                    self._quietly(lambda: self._list(node, (), depth))
            except MarkedYAMLError:
                raise ConstructorError(
                    None, None, f"could not determine a constructor for the tag {tag!r}",
                    node.start_mark,
                ) from None  # fmt: skip
            self._fail(path, f"the YAML tag {tag} is not supported; values are JSON data")
            return None
        finally:
            self.active.discard(key)

    def _map(self, node: MappingNode, path: Path, depth: int) -> dict[str, JSON]:
        pairs: list[tuple[Node, Node]] = node.value
        key_tags = [_tag(key_node) for key_node, _ in pairs]
        sources = self._merge_sources(node, key_tags, depth) if _MERGE in key_tags else []
        values, keys = self.values, self.keys
        result: dict[str, JSON] = {}
        others: dict[Any, Node] = {}  # keys that are not strings, as ruamel built them
        depth += 1
        for (key_node, value_node), key_tag in zip(pairs, key_tags, strict=True):
            if key_tag in (_STR, _VALUE):
                key = key_node.value
            elif key_tag == _MERGE:
                continue
            else:
                self._other_key(node, key_node, value_node, path, depth, others)
                continue
            child = (*path, key)
            mark = key_node.start_mark
            keys[child] = place = (mark.line, mark.column)
            tag = _tag(value_node)
            if isinstance(value_node, ScalarNode):
                mark = value_node.start_mark
                if tag == _STR:
                    values[child] = (mark.line, mark.column)
                    value: JSON = value_node.value
                else:
                    values[child] = place if tag == _NULL else (mark.line, mark.column)
                    value = self._scalar(value_node, tag, child)
            else:
                mark = value_node.start_mark
                values[child] = (mark.line, mark.column) if tag == _SET else place
                value = self._collection(value_node, tag, child, depth)
            if key in result:
                first = next(
                    other_value
                    for other, other_value in pairs
                    if other.value == key and _tag(other) in (_STR, _VALUE)
                )
                self._duplicate(node, key_node, key, value_node, first)
            result[key] = value
        if sources:
            present: set[Any] = {*result, *others}
            for key, value_node in self._merged(sources, present, set()):
                if isinstance(key, str):
                    result[key] = self._convert(value_node, (*path, key), depth)
                else:
                    self._fail(path, f"a map key must be a string, not {key!r}; write it in quotes")
        return result

    def _list(self, node: SequenceNode, path: Path, depth: int) -> list[JSON]:
        values = self.values
        result: list[JSON] = []
        depth += 1
        for index, item in enumerate(node.value):
            child = (*path, index)
            mark = item.start_mark
            values[child] = (mark.line, mark.column)
            tag = _tag(item)
            if isinstance(item, ScalarNode):
                result.append(item.value if tag == _STR else self._scalar(item, tag, child))
            else:
                result.append(self._collection(item, tag, child, depth))
        return result

    def _convert(self, node: Node, path: Path, depth: int) -> JSON:
        if isinstance(node, ScalarNode):
            return self._scalar(node, _tag(node), path)
        return self._collection(node, _tag(node), path, depth)

    def _scalar(self, node: ScalarNode, tag: str, path: Path) -> JSON:
        text: str = node.value
        if tag == _STR:
            return text
        if tag == _NULL:
            return None
        if tag == _BOOL:
            boolean = _BOOLEANS.get(text.lower())
            if boolean is None:
                self._fail(path, f"not a valid boolean: {text!r}")
            return boolean
        if tag == _INT:
            try:
                return _integer(text, yaml_1_1=self.yaml_1_1)
            except (ValueError, IndexError):
                self._fail(path, f"not a valid integer: {text!r}")
                return None
        if tag == _FLOAT:
            try:
                number = _float(text, yaml_1_1=self.yaml_1_1)
            except (ValueError, IndexError):
                self._fail(path, f"not a valid number: {text!r}")
                return None
            if number - number == 0:  # not inf or nan
                return number
            self._fail(path, f"{number} is not a JSON number")
            return None
        if tag == _TIMESTAMP:
            # Unquoted dates are timestamps in YAML; as data they are their ISO 8601 text.
            match = timestamp_regexp.match(text)
            if match is None:
                raise ConstructorError(
                    None, None, f'failed to construct timestamp from "{text}"', node.start_mark
                )
            try:
                return str(create_timestamp(**match.groupdict()).isoformat())
            except ValueError:
                self._fail(path, f"not a valid date: {text!r}")
                return None
        if tag == _BINARY:
            _base64(node)
            self._fail(path, "binary data (!!binary) is not supported; values are JSON data")
            return None
        if tag in (_MAP, _SET, _SEQ):
            kind = "sequence" if tag == _SEQ else "mapping"
            raise ConstructorError(
                None, None, f"expected a {kind} node, but found scalar", node.start_mark
            )
        self._fail(path, f"the YAML tag {tag} is not supported; values are JSON data")
        return None

    def _other_key(
        self,
        node: MappingNode,
        key_node: Node,
        value_node: Node,
        path: Path,
        depth: int,
        others: dict[Any, Node],
    ) -> None:
        """A map key that is not a string: a problem, with the key as ruamel built it."""
        key = self._key(node, key_node)
        self._check(value_node, depth)  # built (errors count), not converted
        if key in others:
            self._duplicate(node, key_node, key, value_node, others[key])
        others[key] = value_node
        where = (*path, str(key))
        mark = key_node.start_mark
        self.values[where] = (mark.line, mark.column)
        self._fail(where, f"a map key must be a string, not {key!r}; write it in quotes")

    def _key(self, node: Node, key_node: Node) -> Any:
        """A key that is not a string, as ruamel's round-trip constructor built it."""
        try:
            key = self._ruamel().construct_object(key_node, deep=True)
        except YAMLError:
            raise
        except Exception as exc:  # ruamel crashed on it (`? !!int x`), as the old loader did
            raise ConstructorError(
                None, None, f"cannot read this map key: {exc}", key_node.start_mark
            ) from None
        if isinstance(key, MutableSequence):
            key = CommentedKeySeq(key)
        elif isinstance(key, MutableMapping):
            key = CommentedKeyMap(key)
        try:
            hash(key)  # a key map is hashable unless it holds a list
        except TypeError:
            raise ConstructorError(
                "while constructing a mapping", node.start_mark, "found unhashable key",
                key_node.start_mark,
            ) from None  # fmt: skip
        return key

    def _merge_sources(self, node: MappingNode, key_tags: list[str], depth: int) -> list[Node]:
        """The maps that the `<<` of `node` merges, each checked as ruamel built it."""
        sources: list[Node] = []
        for (key_node, value_node), key_tag in zip(node.value, key_tags, strict=True):
            if key_tag != _MERGE:
                continue
            if sources:
                raise DuplicateKeyError(
                    "while constructing a mapping", node.start_mark,
                    'found duplicate merge key "<<"', key_node.start_mark, _MERGE_NOTE,
                )  # fmt: skip
            if isinstance(value_node, MappingNode):
                self._check(value_node, depth)
                sources.append(value_node)
            elif isinstance(value_node, SequenceNode):
                self._check(value_node, depth)
                for item in value_node.value:
                    if not isinstance(item, MappingNode):
                        raise ConstructorError(
                            "while constructing a mapping", node.start_mark,
                            f"expected a mapping for merging, but found {_kind(item)}",
                            item.start_mark,
                        )  # fmt: skip
                    self._check(item, depth)  # already done, unless the list is being walked
                    sources.append(item)
            else:
                raise ConstructorError(
                    "while constructing a mapping", node.start_mark,
                    f"expected a mapping or list of mappings for merging, but found {_kind(value_node)}",
                    value_node.start_mark,
                )  # fmt: skip
        return sources

    def _merged(
        self, sources: list[Node], present: set[Any], visiting: set[int]
    ) -> list[tuple[Any, Node]]:
        """The entries merged from `sources`, in ruamel's order: each source's own entries, then
        what it merges itself; a key already `present` (added to as it goes) is left out."""
        entries: list[tuple[Any, Node]] = []
        for source in sources:
            if id(source) in visiting:
                continue
            visiting.add(id(source))
            own: list[tuple[Any, Node]] = []
            inner: list[Node] = []
            for key_node, value_node in source.value:
                key_tag = _tag(key_node)
                if key_tag == _MERGE:  # checked by `_merge_sources` when `source` was walked
                    if isinstance(value_node, SequenceNode):
                        inner += value_node.value
                    else:
                        inner.append(value_node)
                    continue
                key = key_node.value if key_tag in (_STR, _VALUE) else self._key(source, key_node)
                own.append((key, value_node))
            for key, value_node in own:
                if key not in present:
                    present.add(key)
                    entries.append((key, value_node))
            entries += self._merged(inner, present, visiting)
            visiting.discard(id(source))
        return entries

    def _check(self, node: Node, depth: int) -> None:
        """Walk `node` for the errors ruamel raised while building it, keeping nothing else."""
        self._quietly(lambda: self._convert(node, (), depth))

    def _quietly(self, walk: Any) -> None:
        kept = self.values, self.keys, self.problems
        self.values, self.keys, self.problems = {}, {}, []
        try:
            walk()
        finally:
            self.values, self.keys, self.problems = kept

    def _duplicate(
        self, node: MappingNode, key_node: Node, key: Any, value_node: Node, first: Node
    ) -> None:
        """Raise ruamel's error for a key already in the map, with the values shown as it did."""
        raise DuplicateKeyError(
            "while constructing a mapping", node.start_mark,
            f'found duplicate key "{key}" with value "{self._shown(value_node)}" '
            f'(original value: "{self._shown(first)}")',
            key_node.start_mark,
        )  # fmt: skip

    def _shown(self, node: Node) -> str:
        """A value as ruamel's duplicate key message showed it."""
        try:
            return str(self._ruamel().construct_object(node, deep=True))
        except Exception:  # only a message: ruamel may fail on values this walk refuses
            return str(node.value) if isinstance(node, ScalarNode) else "..."

    def _ruamel(self) -> Any:
        """ruamel's round-trip constructor, for keys that are not strings and for messages."""
        if self._round_trip is None:
            yaml = YAML(typ="rt")
            if self.yaml_1_1:
                yaml.version = (1, 1)
            self._round_trip = yaml.constructor
        return self._round_trip

    def _fail(self, path: Path, message: str) -> None:
        self.problems.append(self.document.problem(path, message))


def _integer(text: str, *, yaml_1_1: bool) -> int:
    """A `tag:yaml.org,2002:int` scalar's value, read as ruamel reads it."""
    digits = text.replace("_", "")
    sign = -1 if digits[0] == "-" else 1
    if digits[0] in "+-":
        digits = digits[1:]
    if digits.startswith("0b"):
        return sign * int(digits[2:], 2)
    if digits.startswith("0x"):
        return sign * int(digits[2:], 16)
    if digits.startswith("0o"):
        return sign * int(digits[2:], 8)
    if yaml_1_1 and len(digits) > 1 and digits[0] == "0":
        return sign * int(digits, 8)
    if yaml_1_1 and ":" in digits:
        return sign * int(_sexagesimal([int(part) for part in digits.split(":")]))
    return sign * int(digits)


def _float(text: str, *, yaml_1_1: bool) -> float:
    """A `tag:yaml.org,2002:float` scalar's value, read as ruamel reads it."""
    digits = text.replace("_", "").lower()
    sign = -1 if digits[0] == "-" else 1
    if digits[0] in "+-":
        digits = digits[1:]
    if digits == ".inf":
        return sign * float("inf")
    if digits == ".nan":
        return float("nan")
    if yaml_1_1 and ":" in digits:
        return sign * float(_sexagesimal([float(part) for part in digits.split(":")]))
    return sign * float(digits)


def _sexagesimal(parts: list[Any]) -> Any:
    """`1:30:05` (YAML 1.1) as ruamel adds it up."""
    value, base = 0, 1
    for part in reversed(parts):
        value += part * base
        base *= 60
    return value


def _base64(node: ScalarNode) -> None:
    """Raise ruamel's error if a `!!binary` scalar is not base64."""
    try:
        data = node.value.encode("ascii")
    except UnicodeEncodeError as exc:
        raise ConstructorError(
            None, None, f"failed to convert base64 data into ascii: {exc!s}", node.start_mark
        ) from None
    try:
        base64.decodebytes(data)
    except binascii.Error as exc:
        raise ConstructorError(
            None, None, f"failed to decode base64 data: {exc!s}", node.start_mark
        ) from None

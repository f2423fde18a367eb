"""`Template`: a definition value whose strings may hold `jq(...)`; compiled once, run often."""

from __future__ import annotations

from typing import Any

from dirigent.errors import WorkflowError
from dirigent.jq.compiler import compile_template
from dirigent.jq.encoding import dump_input
from dirigent.jq.errors import TemplateSyntaxError, not_one_value
from dirigent.jq.nodes import Exact, Node
from dirigent.jq.query import Query, jq_query
from dirigent.jq.scanner import split_template
from dirigent.types import JSON

_NO_VALUES: list[JSON] = []


class Template:
    """A compiled template: any JSON value in which strings may contain `jq(...)`.

    Build with `Template.compile` at load time; `evaluate` never compiles. Immutable and cheap to
    share. The rules (docs/jq-templates.md): maps and lists are evaluated element by element
    (values, not keys); numbers, booleans and null are themselves; a string without `jq(` is a
    literal; a string that is exactly `jq(Q)` is Q's single value; text around queries is
    interpolation (strings raw, other values as compact JSON, result trimmed). A query with no value
    or several is `direktiv.jq.notObject`, a jq run-time error `direktiv.jq.badCommand`, both
    catchable `WorkflowError`s.

    Results are new objects the caller may change, with one exception: `jq(.)` (blanks around
    ignored) returns `data` itself. `None` and `""` are literals like any other (`evaluate` gives
    `None` and `""`), but they and `jq(.)` are `is_identity`: where an absent, empty or `jq(.)`
    value means "the data as it is" (a `transform`), callers skip the template. `source` is the
    value given to `compile`, kept as is (not copied); changing it afterwards does not change what
    the template evaluates to.
    """

    __slots__ = ("_combined", "_identity", "_queries", "_root", "_same", "_single", "source")

    source: JSON
    _root: Node
    _queries: tuple[Query, ...]
    # The query of a template that is exactly `jq(Q)`, else None: the common case, no tree needed.
    _single: Query | None
    # All queries of a template with several, in one program (see `_values`), or None.
    _combined: Query | None
    _identity: bool
    # Exactly `jq(.)`: the data itself, without a round trip through jq.
    _same: bool

    @classmethod
    def compile(cls, value: JSON) -> Template:
        """Compile `value`; every jq query in it is compiled now (or taken from the module cache).

        Raises `TemplateSyntaxError`: unbalanced `jq(`, jq that does not compile or uses a builtin
        that templates may not use (`env`, `$ENV`, `input`, `halt`, ...), non-JSON values.
        """
        compiled = compile_template(value)
        queries = compiled.queries
        template = object.__new__(cls)
        init = object.__setattr__
        init(template, "source", value)
        init(template, "_root", compiled.root)
        init(template, "_queries", queries)
        init(template, "_single", queries[0] if isinstance(compiled.root, Exact) else None)
        init(template, "_combined", _combine(queries))
        identity = _is_identity(value)
        init(template, "_identity", identity)
        init(template, "_same", identity and bool(queries))
        return template

    @property
    def is_identity(self) -> bool:
        """True for `None`, `""` (or only blanks) and `jq(.)` (blanks around ignored): the values
        that, given for a transform, mean "leave the data as it is" (language §2), so callers skip
        the template.

        Only `jq(.)` also evaluates to the data; `None` and `""` are literals and evaluate to
        themselves. Inside a larger template, `null`, `""` and `jq(.)` are ordinary parts."""
        return self._identity

    @property
    def is_dynamic(self) -> bool:
        """True when some string value inside contains `jq(`."""
        return bool(self._queries)

    def evaluate(self, data: JSON) -> JSON:
        """The template's value for `data`. Raises a catchable `WorkflowError`:
        `direktiv.jq.notObject` when a query gives no value or several, `direktiv.jq.badCommand`
        when jq fails. Queries run in the order they appear; the first failure is the one raised.

        A literal is itself, even an identity template: `None` gives `None`, `""` gives `""`. Only
        `jq(.)` gives `data`, and then `data` itself (not a copy)."""
        if self._same:
            return data
        single = self._single
        if single is not None:
            return single.one_text(dump_input(data))
        if not self._queries:
            return self._root.build(_NO_VALUES)
        return self._root.build(self._values(dump_input(data)))

    def evaluate_all(self, data: JSON) -> list[JSON]:
        """For a template that is exactly `jq(Q)`: every value Q gives, possibly none (a foreach
        `array`). For any other template: `[self.evaluate(data)]` (`[None]` for `None`)."""
        if self._same:
            return [data]
        if self._single is not None:
            return self._single.all_text(dump_input(data))
        return [self.evaluate(data)]

    def _values(self, data: str) -> list[JSON]:
        """One value per query. With several queries, one program runs them all (libjq parses the
        data once instead of once per query, the main cost for larger data); if it fails, the
        queries run one by one so that the error raised is exactly the one the first failing query
        gives alone. (Checking the number of outputs is a defence only: `halt`, which could stop
        the program early, is refused at compile time.)"""
        queries = self._queries
        combined = self._combined
        if combined is not None:
            try:
                outputs = combined.all_text(data)
            except WorkflowError:
                outputs = None
            if outputs is not None and len(outputs) == len(queries):
                values: list[JSON] = []
                for query, output in zip(queries, outputs, strict=True):
                    if len(output) != 1:
                        raise not_one_value(query.text, len(output))
                    values.append(output[0])
                return values
        return [query.one_text(data) for query in queries]

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Template is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Template is immutable")

    def __copy__(self) -> Template:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> Template:
        return self

    def __reduce__(self) -> tuple[Any, tuple[JSON]]:
        return (Template.compile, (self.source,))

    def __repr__(self) -> str:
        return f"Template({self.source!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Template):
            return NotImplemented
        return bool(self.source == other.source)

    __hash__ = None  # type: ignore[assignment]  # equal by source, which may be a dict


def _combine(queries: tuple[Query, ...]) -> Query | None:
    """One program giving `[all values of Q]` for each query Q in turn, or None when not worth it.

    Each query is compiled on its own too, so wrapping it in `[( ... )]` cannot change its meaning,
    except through a comment: libjq continues a `#` comment that ends in a backslash onto the next
    line, where it would swallow the wrapping. Queries with a `#` (even in a string) therefore run one
    by one; so do queries whose combination does not compile for any other reason.
    """
    if len(queries) < 2 or any("#" in query.text for query in queries):
        return None
    try:
        return jq_query(", ".join(f"[({query.text}\n)]" for query in queries))
    except TemplateSyntaxError:  # pragma: no cover - each part compiles, so the whole does
        return None


def _is_identity(value: JSON) -> bool:
    if value is None:
        return True
    if not isinstance(value, str):
        return False
    if not value.strip():
        return True
    split = split_template(value)
    return split.is_exact and split.queries[0] == "."

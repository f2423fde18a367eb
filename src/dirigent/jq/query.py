"""One compiled jq program, and the module-wide cache that compiles each query text once.

Compiling costs about a millisecond; running a small query a few microseconds. Definitions are
loaded once and evaluated many times, so every query is compiled at load time (`jq_query`) and the
same text anywhere in any definition shares one program. Builtins that would reach into the server
(`env`, `$ENV`, `import`, `input`, `debug`, `halt`, ...) are refused when compiling (`sandbox`).

libjq has no way to take a Python value: data goes in as JSON text (see `encoding`). Callers that
run several programs on the same data serialise it once and use the `*_text` methods.
"""

from __future__ import annotations

import functools
from typing import Any

import jq

from dirigent.jq.encoding import dump_input
from dirigent.jq.errors import (
    TemplateSyntaxError,
    bad_command,
    describe_compile_error,
    not_one_value,
)
from dirigent.jq.sandbox import check_query
from dirigent.types import JSON

#: How many distinct query texts the cache keeps. Templates hold their `Query` objects themselves,
#: so an evicted query only costs a recompilation when another definition names the same text.
CACHE_SIZE = 4096


class Query:
    """A compiled jq program (not a template: all of it is jq). Immutable; made by `jq_query`.

    Running never compiles. jq errors at run time become catchable `WorkflowError`s
    (`direktiv.jq.badCommand`; `direktiv.jq.notObject` when a single value is needed and not given).
    Programs are not re-entrant across threads: the `jq` bindings keep one interpreter per program
    and build (compile) a second one when two threads run the same program at once.
    """

    __slots__ = ("_program", "text")

    text: str
    _program: Any

    def __init__(self, text: str) -> None:
        """Compile `text`; raises `TemplateSyntaxError` with libjq's message if it does not, or
        when it uses a builtin that workflow templates may not use (`env`, `$ENV`, `input`, ...:
        see `sandbox`)."""
        check_query(text)  # first: compiling would already load the modules a query imports
        try:
            program = jq.compile(text)
        except ValueError as error:
            raise TemplateSyntaxError(describe_compile_error(text, str(error))) from None
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "_program", program)

    def all(self, data: JSON) -> list[JSON]:
        """Every result of the program run on `data`, in order (possibly none)."""
        return self.all_text(dump_input(data))

    def first(self, data: JSON) -> JSON:
        """The first result of the program run on `data`; the program is not run further, so later
        results (and later errors) do not matter. No result is `direktiv.jq.notObject`."""
        try:
            return self._program.input_text(dump_input(data)).first()
        except StopIteration:
            raise not_one_value(self.text, 0) from None
        except ValueError as error:
            raise bad_command(self.text, str(error)) from None

    def one(self, data: JSON) -> JSON:
        """The one result of the program run on `data`; none or several: `direktiv.jq.notObject`."""
        return self.one_text(dump_input(data))

    def all_text(self, data: str) -> list[JSON]:
        """`all` for data that is already JSON text."""
        try:
            results: list[JSON] = self._program.input_text(data).all()
        except ValueError as error:
            raise bad_command(self.text, str(error)) from None
        return results

    def one_text(self, data: str) -> JSON:
        """`one` for data that is already JSON text."""
        results = self.all_text(data)
        if len(results) != 1:
            raise not_one_value(self.text, len(results))
        return results[0]

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Query is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Query is immutable")

    def __copy__(self) -> Query:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> Query:
        return self

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (jq_query, (self.text,))

    def __repr__(self) -> str:
        return f"jq_query({self.text!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Query):
            return NotImplemented
        return self.text == other.text

    def __hash__(self) -> int:
        return hash(self.text)


@functools.lru_cache(maxsize=CACHE_SIZE)
def _cached_query(text: str) -> Query:
    return Query(text)


def jq_query(text: str) -> Query:
    """The compiled program for the jq `text`, from the cache when any caller compiled it before.
    Raises `TemplateSyntaxError` when it does not compile (failures are not cached)."""
    return _cached_query(text)


def cache_info() -> functools._CacheInfo:
    """Hits, misses and size of the query cache (for tests and diagnostics)."""
    return _cached_query.cache_info()


def clear_cache() -> None:
    """Forget every cached program (templates already compiled keep theirs)."""
    _cached_query.cache_clear()

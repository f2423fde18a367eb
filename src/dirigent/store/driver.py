"""Statements compiled once by SQLAlchemy and run on the database driver directly.

SQLAlchemy's work for each execution (its compiled cache, parameters, an execution context, a
result) costs more than SQLite takes to run a small statement, or PostgreSQL to answer it over
loopback. A statement compiled once keeps what SQLAlchemy would do — the dialect's SQL, the types'
bind and result processors (such as `UtcDateTime`'s, which refuse naive times) — and leaves the rest
out (`sqlite.DriverStatement`, and PostgreSQL's `Statement`s in `postgres.py`).

A `Statement` is the `Work` of one statement that returns rows: called with a connection, it runs
through SQLAlchemy as any work does; a database that can (PostgreSQL) runs it on its driver instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, TypeVar, cast

from sqlalchemy import Connection, Row
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.result import result_tuple
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.selectable import ExecutableReturnsRows, SelectBase

T = TypeVar("T")

#: A result row; fields are read by name.
AnyRow = Row[*tuple[Any, ...]]
#: What SQLAlchemy makes of a value on its way to the driver or back (a bind or result processor).
Processor = Callable[[Any], Any]


class Compiled(NamedTuple):
    """A statement as its driver takes it."""

    sql: str
    #: The positional parameters: the name to take the value from (None: a value of the statement's
    #: own, such as a literal), that value, and the parameter's processor.
    binds: tuple[tuple[str | None, Any, Processor | None], ...]
    #: A row of the driver's as SQLAlchemy returns it: by name, through the columns' processors.
    row: Callable[[Iterable[Any]], AnyRow]

    def arguments(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        """The driver's positional arguments for `params`; a processor may refuse a value
        (`InvalidInput`), before anything is sent."""
        values = []
        for name, own, process in self.binds:
            value = own if name is None else params[name]
            values.append(value if process is None else process(value))
        return tuple(values)


def compile_once(statement: ClauseElement, dialect: Dialect, keys: Sequence[str] = ()) -> Compiled:
    """`statement` compiled for `dialect`; `keys` name the columns its parameters fill (INSERT
    values, UPDATE SET) besides its own bound parameters. Its SQL must not vary between executions
    (no expanding IN lists)."""
    # A statement compiles to SQL (a DDL element would not).
    compiled = cast(SQLCompiler, statement.compile(dialect=dialect, column_keys=list(keys)))
    if compiled.post_compile_params:
        raise ValueError(f"the SQL of this statement varies between executions: {statement}")
    binds: list[tuple[str | None, Any, Processor | None]] = []
    for name in compiled.positiontup or ():
        bind = compiled.binds[name]
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if bind.required:
            binds.append((name, None, process))
        else:
            binds.append((None, bind.effective_value, process))
    names: list[str] = []
    processors: list[Processor | None] = []
    if isinstance(statement, SelectBase):
        for name, column in statement.selected_columns.items():
            names.append(name)
            # Without the driver's type code (None): none of the schema's types needs it.
            processors.append(column.type.dialect_impl(dialect).result_processor(dialect, None))
    return Compiled(str(compiled), tuple(binds), _row(names, processors))


def _row(
    keys: Sequence[str], processors: Sequence[Processor | None]
) -> Callable[[Iterable[Any]], AnyRow]:
    make = result_tuple(keys)
    if not any(processors):
        return make
    return lambda values: make(
        value if process is None else process(value)
        for process, value in zip(processors, values, strict=True)
    )


@dataclass(frozen=True, slots=True)
class Statement(Generic[T]):
    """One statement that returns rows, its parameters by name, and what its rows make (`read`).
    `small`: it reads a small row by its key, which a database may run on the event loop's thread
    (not a variable's value, which may be large).

    It is the `Work` of that statement: called with a connection, it runs through SQLAlchemy."""

    clause: ExecutableReturnsRows
    params: Mapping[str, Any]
    read: Callable[[Sequence[AnyRow]], T]
    small: bool = False

    def __call__(self, db: Connection) -> T:
        return self.read(db.execute(self.clause, self.params).all())


def first(rows: Sequence[AnyRow]) -> AnyRow | None:
    """The first row, if any (`Statement.read` of a read by key)."""
    return rows[0] if rows else None

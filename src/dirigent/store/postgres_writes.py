"""A whole step of an instance, or a new instance, in one PostgreSQL statement: one round trip,
committed by itself.

A step's lease-checked UPDATE is the first data-modifying CTE (`saved`; for a new instance, its
INSERT); every other part is a CTE that writes only `WHERE EXISTS (SELECT FROM saved)`, so without
the lease nothing at all is written.

Rows reach the statement as a relation per part. A single row (the usual step: one timer, one log
line) is plain parameters; then the statement's text depends only on which parts the step has, and
PostgreSQL soon settles on one generic plan for it instead of planning every execution (planning this
statement costs more than running it). Several rows are one array parameter per column, unnested.

The CTEs of one statement share one snapshot and run together, so they must not touch the same row
twice; `steps.plan` leaves no overlaps. Inbox items of other instances are written only if those are
pending in that snapshot (`known` marks the rows of this instance and its new children). Foreign keys
are checked at the end of the statement, so a new child's inbox items find the child.

Each write is a `driver.Statement`, which `postgres.py` runs on asyncpg directly.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import Boolean, Integer, Table, TextualSelect, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.types import TypeEngine

from dirigent.store import schema as t
from dirigent.store.driver import AnyRow, Statement
from dirigent.store.steps import VARIABLE_KEY, Step

_PG = PGDialect()  # type: ignore[no-untyped-call]  # to spell column types
_HELD = "EXISTS (SELECT FROM saved)"

#: How many rows a part has, as far as the statement's text is concerned (or 0: the part is left out).
ONE, MANY = 1, 2


def _size(rows: Sequence[object]) -> int:
    return min(len(rows), MANY)


class _Rows:
    """Some columns of a table as a relation `alias(columns)`: one row of parameters, or arrays."""

    def __init__(self, alias: str, table: Table, columns: Sequence[str], **extra: TypeEngine[Any]):
        self._types = {c: table.c[c].type for c in columns} | extra
        #: The table's columns these rows fill; `extra` columns (flags) come after them.
        self.table_columns = tuple(columns)
        self._alias = alias

    def source(self, size: int, *, ordinality: bool = False) -> str:
        """The relation to select from; with `ordinality`, column `n` numbers the rows from 1."""
        a = self._alias
        if size == ONE:
            values = [f"CAST(:{a}_{c} AS {_sql(kind)}) AS {c}" for c, kind in self._types.items()]
            if ordinality:
                values.append("1 AS n")
            return f"(SELECT {', '.join(values)}) AS {a}"
        arrays = ", ".join(f"CAST(:{a}_{c} AS {_sql(kind)}[])" for c, kind in self._types.items())
        if ordinality:
            return f"unnest({arrays}) WITH ORDINALITY AS {a}({', '.join(self._types)}, n)"
        return f"unnest({arrays}) AS {a}({', '.join(self._types)})"

    def params(self, size: int) -> list[BindParameter[Any]]:
        return [
            bindparam(f"{self._alias}_{c}", type_=kind if size == ONE else ARRAY(kind))
            for c, kind in self._types.items()
        ]

    def values(self, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
        if len(rows) == 1:
            return {f"{self._alias}_{c}": rows[0][c] for c in self._types}
        return {f"{self._alias}_{c}": [row[c] for row in rows] for c in self._types}

    def select(self) -> str:
        """The table's columns of these rows, to INSERT … SELECT."""
        return ", ".join(f"{self._alias}.{c}" for c in self.table_columns)

    def into(self, table: Table) -> str:
        return f"INSERT INTO {table.name} ({', '.join(self.table_columns)})"


def _sql(kind: TypeEngine[Any]) -> str:
    return kind.compile(dialect=_PG)


#: New instances: a step's children, or one created on its own.
_CHILDREN = _Rows("c", t.instances, [c.name for c in t.instances.c])
_INBOX = _Rows("i", t.inbox, ("instance_id", "key", "due_at", "trigger"), known=Boolean())
_SET = _Rows("v", t.variables, [c.name for c in t.variables.c])
_DELETE = _Rows("d", t.variables, VARIABLE_KEY)
_LOGS = _Rows("l", t.logs, ("instance_id", "time", "state", "action_id", "message", "extra"))

#: The columns of `Step.changes` the UPDATE binds (a released lease is set to NULL in the text).
_SAVED = ("status", "record", "ended_at", "error_code", "error_message")
_SAVE_PARAMS = [
    bindparam("s_id", type_=t.instances.c.id.type),
    bindparam("s_owner", type_=t.instances.c.lease_owner.type),
    *(bindparam(c, type_=t.instances.c[c].type) for c in _SAVED),
]


class PostgresWrites:
    """The `SingleStatements` of PostgreSQL."""

    def write_step(self, step: Step) -> Statement[bool]:
        inbox = _inbox_rows(step.inbox, step.unknown)
        shape = _Shape(
            release=step.release,
            ended=step.ended,
            children=_size(step.children),
            removed=_size(step.removed),
            inbox=_size(inbox),
            set_variables=_size(step.set_variables),
            deleted_variables=_size(step.deleted_variables),
            logs=_size(step.logs),
        )
        params: dict[str, Any] = {"s_id": step.id, "s_owner": step.owner}
        params.update((c, step.changes[c]) for c in _SAVED)
        if step.removed:
            params["s_removed"] = step.removed[0] if shape.removed == ONE else step.removed
        for part, rows in (
            (_CHILDREN, step.children),
            (_INBOX, inbox),
            (_SET, step.set_variables),
            (_DELETE, step.deleted_variables),
            (_LOGS, step.logs),
        ):
            if rows:
                params.update(part.values(rows))
        return Statement(_statement(shape), params, _saved)

    def create_instance(
        self, row: dict[str, Any], inbox: list[dict[str, Any]], unknown: list[dict[str, Any]]
    ) -> Statement[None]:
        items = _inbox_rows(inbox, unknown)
        params = _CHILDREN.values([row])
        if items:
            params.update(_INBOX.values(items))
        return Statement(_creation(_size(items)), params, _created)


def _saved(rows: Sequence[AnyRow]) -> bool:
    """Whether the step was written: the instance's row was, so its owner held the lease."""
    return bool(rows[0].saved == 1)


def _created(rows: Sequence[AnyRow]) -> None:
    """Nothing to read: a duplicate id failed the statement."""


class _Shape(NamedTuple):
    """Which parts a step has, and whether with one row or more: one statement text per shape."""

    release: bool
    ended: bool
    children: int
    removed: int
    inbox: int
    set_variables: int
    deleted_variables: int
    logs: int


def _inbox_rows(known: list[dict[str, Any]], unknown: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Inbox rows, `known` flagged (their instance is known to be pending), by (instance, key)."""
    return sorted(
        [{**row, "known": True} for row in known] + [{**row, "known": False} for row in unknown],
        key=lambda row: (row["instance_id"], row["key"]),
    )


@functools.cache
def _statement(shape: _Shape) -> TextualSelect:
    release = ", lease_owner = NULL, lease_until = NULL" if shape.release else ""
    ctes = [
        f"""saved AS (
    UPDATE instances SET status = :status, record = :record, ended_at = :ended_at,
        error_code = :error_code, error_message = :error_message{release}
    WHERE id = :s_id AND lease_owner = :s_owner
    RETURNING id)"""
    ]
    params: list[BindParameter[Any]] = list(_SAVE_PARAMS)
    if shape.children:
        ctes.append(f"""new_children AS (
    {_CHILDREN.into(t.instances)}
    SELECT {_CHILDREN.select()} FROM {_CHILDREN.source(shape.children)} WHERE {_HELD})""")
        params += _CHILDREN.params(shape.children)
    if shape.removed:
        key = t.inbox.c.key.type
        if shape.removed == ONE:
            keys, removed = f"= CAST(:s_removed AS {_sql(key)})", bindparam("s_removed", type_=key)
        else:
            keys = f"= ANY(CAST(:s_removed AS {_sql(key)}[]))"
            removed = bindparam("s_removed", type_=ARRAY(key))
        ctes.append(f"""removed_items AS (
    DELETE FROM inbox WHERE instance_id = :s_id AND key {keys} AND {_HELD})""")
        params.append(removed)
    if shape.inbox:
        ctes.append(_upsert_inbox(shape.inbox))
        params += _INBOX.params(shape.inbox)
    if shape.set_variables:
        ctes.append(f"""set_variables AS (
    {_SET.into(t.variables)}
    SELECT {_SET.select()} FROM {_SET.source(shape.set_variables)} WHERE {_HELD}
    ON CONFLICT ({", ".join(VARIABLE_KEY)}) DO UPDATE
    SET mime_type = excluded.mime_type, size = excluded.size, data = excluded.data)""")
        params += _SET.params(shape.set_variables)
    if shape.deleted_variables:
        same = " AND ".join(f"variables.{c} = d.{c}" for c in VARIABLE_KEY)
        ctes.append(f"""deleted_variables AS (
    DELETE FROM variables USING {_DELETE.source(shape.deleted_variables)} WHERE {same} AND {_HELD})""")
        params += _DELETE.params(shape.deleted_variables)
    if shape.ended:
        ctes.append(f"""cleared_items AS (
    DELETE FROM inbox WHERE instance_id = :s_id AND {_HELD})""")
        ctes.append(f"""cleared_variables AS (
    DELETE FROM variables WHERE scope = 'instance' AND instance_id = :s_id AND {_HELD})""")
    if shape.logs:
        ctes.append(f"""appended_logs AS (
    {_LOGS.into(t.logs)}
    SELECT {_LOGS.select()} FROM {_LOGS.source(shape.logs, ordinality=True)}
    WHERE {_HELD} ORDER BY l.n)""")
        params += _LOGS.params(shape.logs)
    return _select_saved(ctes, params)


def _upsert_inbox(size: int) -> str:
    return f"""upserted_items AS (
    {_INBOX.into(t.inbox)}
    SELECT {_INBOX.select()} FROM {_INBOX.source(size)}
    WHERE {_HELD} AND (i.known OR EXISTS (
        SELECT FROM instances AS target WHERE target.id = i.instance_id AND target.status = 'pending'))
    ON CONFLICT (instance_id, key) DO UPDATE SET due_at = excluded.due_at, trigger = excluded.trigger)"""


@functools.cache
def _creation(inbox: int) -> TextualSelect:
    """A new instance (a duplicate id fails the statement) and its first inbox items."""
    ctes = [
        f"""saved AS (
    {_CHILDREN.into(t.instances)}
    SELECT {_CHILDREN.select()} FROM {_CHILDREN.source(ONE)}
    RETURNING id)"""
    ]
    params = _CHILDREN.params(ONE)
    if inbox:
        ctes.append(_upsert_inbox(inbox))
        params += _INBOX.params(inbox)
    return _select_saved(ctes, params)


def _select_saved(ctes: list[str], params: list[BindParameter[Any]]) -> TextualSelect:
    """The statement of `ctes` that counts the rows `saved` wrote (1, or 0 without the lease)."""
    sql = "WITH " + ",\n".join(ctes) + "\nSELECT count(*) AS saved FROM saved"
    return text(sql).bindparams(*params).columns(saved=Integer)

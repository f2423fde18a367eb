"""One step of an instance (`Store.commit`) made ready for SQL, and written statement by statement.

`plan` turns a `Commit` into a `Step` whose parts never overlap, so they can be written in any order,
or all at once in one statement (PostgreSQL, `postgres_writes.py`), with the result the `Commit`
documents for writing them in order:

- inbox items: the last item of each (instance, key) wins; this instance's items are dropped when it
  ends, as are a child's when it is created ended; items for other instances are kept only if those
  are pending when written (`unknown`);
- `removed` keys: only those not upserted again (the upsert replaces them); none when the instance
  ends (all its items are deleted then);
- variables: the last write of each variable wins; writes to this instance's own `instance`-scope
  variables are dropped when it ends (they are all deleted then);
- rows come sorted by key, so concurrent writers lock rows in the same order.

`StatementWriter` writes a `Step` with one prepared statement per non-empty part (executemany for
lists). On SQLite the whole step runs in one turn of the store's writer, so the statements cost no hop
each, and they run on the sqlite3 cursor directly (`sqlite.DriverStatement`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, bindparam, delete, insert, select, update

from dirigent.store import schema as t
from dirigent.store.base import Commit
from dirigent.store.dialect import Dialect
from dirigent.store.identity import normalize
from dirigent.store.records import InboxItem, Variable, VariableRef
from dirigent.store.rows import inbox_row, instance_row, log_row, variable_row, wait_row

#: The key columns of a variable, in the order of its primary key.
VARIABLE_KEY = ("namespace", "scope", "workflow", "instance_id", "key")


@dataclass(frozen=True, slots=True)
class Step:
    """What one `commit` writes, as rows; see the module's docstring for how it was reduced."""

    id: str
    owner: str
    ended: bool
    #: Columns the lease-checked UPDATE of the instance sets.
    changes: dict[str, Any]
    children: list[dict[str, Any]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    #: Inbox rows of instances known to be pending (this one, new children), by (instance, key).
    inbox: list[dict[str, Any]] = field(default_factory=list)
    #: Inbox rows of other instances: written only if that instance is pending.
    unknown: list[dict[str, Any]] = field(default_factory=list)
    set_variables: list[dict[str, Any]] = field(default_factory=list)
    #: Key columns of the variables to delete.
    deleted_variables: list[dict[str, Any]] = field(default_factory=list)
    logs: list[dict[str, Any]] = field(default_factory=list)
    #: The instance's event waits, replacing those it had; None: unchanged.
    waits: list[dict[str, Any]] | None = None

    @property
    def release(self) -> bool:
        return "lease_owner" in self.changes


def plan(commit: Commit, owner: str) -> Step:
    """The rows `commit` writes, without overlaps (see the module's docstring)."""
    new = commit.instance
    ended = new.status != "pending"
    changes: dict[str, Any] = {
        "status": new.status,
        "record": new.record,
        "ended_at": new.ended_at,
        "error_code": new.error_code,
        "error_message": new.error_message,
    }
    if commit.release:
        changes.update(lease_owner=None, lease_until=None)
    live = {new.id: not ended}
    for child in commit.children:
        live[child.id] = child.status == "pending"
    inbox, unknown = split_inbox(commit.inbox, live)
    upserted = {row["key"] for row in inbox if row["instance_id"] == new.id}
    removed = [] if ended else [k for k in dict.fromkeys(commit.removed) if k not in upserted]
    writes: dict[VariableRef, Variable | None] = {}
    for ref, variable in commit.variables:
        ref = normalize(ref)
        if not (ended and ref.scope == "instance" and ref.instance_id == new.id):
            writes[ref] = variable
    order = sorted(writes, key=_variable_order)
    return Step(
        id=new.id,
        owner=owner,
        ended=ended,
        changes=changes,
        children=[instance_row(child, new.id) for child in commit.children],
        removed=removed,
        inbox=inbox,
        unknown=unknown,
        set_variables=[variable_row(r, v) for r in order if (v := writes[r]) is not None],
        deleted_variables=[variable_key_row(r) for r in order if writes[r] is None],
        logs=[log_row(entry) for entry in commit.logs],
        waits=None if commit.waits is None else [wait_row(w) for w in commit.waits],
    )


def split_inbox(
    items: Iterable[InboxItem], live: dict[str, bool]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows of `items` for instances `live` says are pending, and rows of instances it does not
    know; items of instances it knows have ended are dropped. The last item of a key wins."""
    last: dict[tuple[str, str], InboxItem] = {}
    for item in items:
        if live.get(item.instance_id, True):
            last[item.instance_id, item.key] = item
    known: list[dict[str, Any]] = []
    unknown: list[dict[str, Any]] = []
    for key in sorted(last):
        (known if key[0] in live else unknown).append(inbox_row(last[key]))
    return known, unknown


def variable_key_row(ref: VariableRef) -> dict[str, Any]:
    """The key columns of a (normalized) variable."""
    return {name: getattr(ref, name) for name in VARIABLE_KEY}


def _variable_order(ref: VariableRef) -> tuple[str, ...]:
    return tuple(getattr(ref, name) for name in VARIABLE_KEY)


def _columns(table: Table, *leave_out: str) -> tuple[str, ...]:
    return tuple(c.name for c in table.c if c.name not in leave_out)


#: The columns `Step.changes` sets, without and with giving the lease up.
_SAVED = ("status", "record", "ended_at", "error_code", "error_message")
_RELEASED = (*_SAVED, "lease_owner", "lease_until")


class StatementWriter:
    """Writes steps, inbox items and variables with prepared statements, one per non-empty part."""

    def __init__(self, dialect: Dialect) -> None:
        i, inbox, v = t.instances.c, t.inbox.c, t.variables.c
        prepare = dialect.prepare
        save = update(t.instances).where(
            i.id == bindparam("s_id"), i.lease_owner == bindparam("s_owner")
        )
        self._save = prepare(save, _SAVED)
        self._save_and_release = prepare(save, _RELEASED)
        self._insert_instances = prepare(insert(t.instances), _columns(t.instances))
        self._remove = prepare(
            delete(t.inbox).where(
                inbox.instance_id == bindparam("s_id"), inbox.key == bindparam("s_key")
            ),
            (),
        )
        self._pending = select(i.id).where(
            i.id.in_(bindparam("s_ids", expanding=True)), i.status == "pending"
        )
        self._upsert_inbox = prepare(
            dialect.upsert(t.inbox, ("instance_id", "key"), ("trigger", "due_at")),
            _columns(t.inbox),
        )
        self._set_variable = prepare(
            dialect.upsert(t.variables, VARIABLE_KEY, ("mime_type", "size", "data")),
            _columns(t.variables),
        )
        self._delete_variable = prepare(
            delete(t.variables).where(*(v[name] == bindparam(name) for name in VARIABLE_KEY)), ()
        )
        self._clear_inbox = prepare(
            delete(t.inbox).where(inbox.instance_id == bindparam("s_id")), ()
        )
        self._clear_variables = prepare(
            delete(t.variables).where(v.scope == "instance", v.instance_id == bindparam("s_id")), ()
        )
        self._insert_logs = prepare(insert(t.logs), _columns(t.logs, "seq"))
        self._clear_waits = prepare(
            delete(t.event_waits).where(t.event_waits.c.instance_id == bindparam("s_id")), ()
        )
        self._insert_waits = prepare(insert(t.event_waits), _columns(t.event_waits))

    def step(self, db: Connection, step: Step) -> bool:
        """Write `step`; False (and nothing written) when `step.owner` does not hold the lease."""
        # The lease check and the record write are one statement: it also locks the row.
        save = self._save_and_release if step.release else self._save
        if save.execute(db, {"s_id": step.id, "s_owner": step.owner, **step.changes}) == 0:
            return False
        if step.children:
            self._insert_instances.executemany(db, step.children)
        if step.removed:
            self._remove.executemany(db, [{"s_id": step.id, "s_key": k} for k in step.removed])
        self.upsert_inbox(db, step.inbox, step.unknown)
        self.write_variables(db, step.set_variables, step.deleted_variables)
        if step.ended:
            self._clear_inbox.execute(db, {"s_id": step.id})
            self._clear_variables.execute(db, {"s_id": step.id})
        if step.logs:
            self._insert_logs.executemany(db, step.logs)
        if step.waits is not None:
            self._clear_waits.execute(db, {"s_id": step.id})
            if step.waits:
                self._insert_waits.executemany(db, step.waits)
        return True

    def insert_instance(self, db: Connection, row: dict[str, Any]) -> None:
        self._insert_instances.execute(db, row)

    def insert_log(self, db: Connection, row: dict[str, Any]) -> None:
        self._insert_logs.execute(db, row)

    def upsert_inbox(
        self, db: Connection, known: list[dict[str, Any]], unknown: list[dict[str, Any]]
    ) -> None:
        """Upsert `known` rows, and those of `unknown` whose instance is pending."""
        rows = known
        if unknown:
            ids = sorted({row["instance_id"] for row in unknown})
            pending = set(db.execute(self._pending, {"s_ids": ids}).scalars())
            rows = sorted(
                [*known, *(row for row in unknown if row["instance_id"] in pending)],
                key=lambda row: (row["instance_id"], row["key"]),
            )
        if rows:
            self._upsert_inbox.executemany(db, rows)

    def write_variables(
        self, db: Connection, sets: Sequence[dict[str, Any]], deletes: Sequence[dict[str, Any]]
    ) -> None:
        if sets:
            self._set_variable.executemany(db, sets)
        if deletes:
            self._delete_variable.executemany(db, deletes)

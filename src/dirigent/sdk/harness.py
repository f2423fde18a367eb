"""The engine's side of function calls, for local use: an in-memory store, a sidecar, a caller.

`dirigent function call` and `dirigent.sdk.testing` call functions through it exactly as the engine
does (`FunctionCaller`, the real sidecar), for one made-up instance whose variables live in memory.
Variables are named `scope/key`, as `dirigent run --var` names them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from dirigent.errors import InvalidInput
from dirigent.functions import FunctionCall, FunctionCaller, Sidecar, new_action_id, open_sidecar
from dirigent.functions.base import VARIABLE_KEY
from dirigent.sdk.context import SCOPES, Scope
from dirigent.spec.functions import FunctionFile
from dirigent.store.memory import MemoryStore
from dirigent.store.records import InstanceRef, LogEntry, Variable, VariableRef
from dirigent.types import JSON

#: The namespace of the made-up instance calls belong to.
NAMESPACE = "local"
#: How long log lines posted after an answer are still taken.
LOG_GRACE = 1.0
_KEY_RULE = "a variable key starts with a letter and holds letters, digits, _ and -"


def parse_variable_name(name: str) -> tuple[Scope, str]:
    """`scope/key` (or a bare `key`: scope instance) as a pair; raises `InvalidInput`."""
    scope, sep, key = name.rpartition("/")
    if not sep:
        scope = "instance"
    if scope not in SCOPES:
        raise InvalidInput(f"{name!r}: the scope must be one of {', '.join(SCOPES)}")
    if not VARIABLE_KEY.match(key):
        raise InvalidInput(f"{name!r}: {_KEY_RULE}")
    return scope, key


class Harness:
    """Calls functions for one instance of workflow `name` in namespace `local`."""

    def __init__(
        self, store: MemoryStore, sidecar: Sidecar, caller: FunctionCaller, name: str
    ) -> None:
        self._store = store
        self._sidecar = sidecar
        self._caller = caller
        self._name = name
        self.owner = InstanceRef(NAMESPACE, name, f"{name}-call")

    @property
    def sidecar_port(self) -> int:
        return self._sidecar.port

    async def set_variable(self, name: str, data: bytes, mime_type: str) -> None:
        """Preset variable `name` (`scope/key`); raises `InvalidInput` for a bad name."""
        scope, key = parse_variable_name(name)
        await self._store.set_variable(
            VariableRef.of(scope, key, self.owner), Variable(data, mime_type)
        )

    async def call(
        self,
        url: str,
        input: bytes,
        *,
        deadline_in: float,
        files: Sequence[tuple[str, bytes]] = (),
    ) -> JSON:
        """POST `input` to the function at `url` as the engine does, with a deadline
        `deadline_in` seconds from now; its value, or the `WorkflowError` the engine would see.

        `files` are `(key, bytes)`: each becomes instance variable `key` and is written into the
        temp dir as `key` (a `files` entry of a function definition). Raises `InvalidInput` for a
        bad key.
        """
        entries = []
        for key, data in files:
            if not VARIABLE_KEY.match(key):
                raise InvalidInput(f"{key!r} is not a variable key: {_KEY_RULE}")
            ref = VariableRef.of("instance", key, self.owner)
            await self._store.set_variable(ref, Variable(data, "application/octet-stream"))
            entries.append(FunctionFile(key=key))
        call = FunctionCall(
            action_id=new_action_id(),
            url=url,
            input=input,
            deadline=datetime.now(UTC) + timedelta(seconds=deadline_in),
            owner=self.owner,
            state=self._name,
            files=tuple(entries),
        )
        try:
            return await self._caller.call(call)
        finally:
            await self._caller.wait_removed()

    def logs(self) -> list[LogEntry]:
        """The instance log so far (function log lines, and lines about skipped out files)."""
        return self._store.logs(self.owner.instance_id)

    def variables(self) -> dict[str, Variable]:
        """Every variable the instance sees, by `scope/key` (the store holds no others)."""
        found = {f"{ref.scope}/{ref.key}": v for ref, v in self._store.variables().items()}
        return dict(sorted(found.items()))


@asynccontextmanager
async def open_harness(
    name: str,
    *,
    sidecar_port: int = 0,
    on_log: Callable[[LogEntry], None] | None = None,
    cancel_grace: float = 10.0,
) -> AsyncIterator[Harness]:
    """A harness with its sidecar on 127.0.0.1:`sidecar_port` (0: any free port), until the block
    ends. `on_log` sees each log line as it arrives. Raises `Unavailable` if the port is taken."""
    store = MemoryStore()
    if on_log is not None:
        store.add_log_listener(on_log)
    async with open_sidecar(store, port=sidecar_port) as sidecar:
        caller = FunctionCaller(
            store, sidecar=sidecar, cancel_grace=cancel_grace, log_grace=LOG_GRACE
        )
        try:
            yield Harness(store, sidecar, caller, name)
        finally:
            await caller.aclose()

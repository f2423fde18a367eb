"""The narrow interfaces through which the engine's runtime and the function caller reach storage."""

from __future__ import annotations

from typing import Protocol

from dirigent.store.records import LogEntry, Variable, VariableRef


class VariableStore(Protocol):
    """Variables of the three scopes: bytes with a MIME type."""

    async def get_variable(self, ref: VariableRef) -> Variable | None: ...

    async def set_variable(self, ref: VariableRef, variable: Variable) -> None: ...

    async def delete_variable(self, ref: VariableRef) -> None: ...


class LogSink(Protocol):
    """Where instance log lines go (state entries, `log:` output, function logs)."""

    async def append_log(self, entry: LogEntry) -> None: ...

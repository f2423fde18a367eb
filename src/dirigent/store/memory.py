"""An in-memory store: the embedded default of `dirigent run` and `dirigent.testing`.

It keeps everything in dictionaries of the running process. It implements the same interfaces as the
durable stores, so the engine cannot tell them apart.
"""

from __future__ import annotations

from collections.abc import Callable

from dirigent.store.records import LogEntry, StoredInstance, Variable, VariableRef

LogListener = Callable[[LogEntry], None]


class MemoryStore:
    """Variables and logs in memory; log listeners see each entry as it is appended."""

    def __init__(self) -> None:
        self._instances: dict[str, StoredInstance] = {}
        self._variables: dict[VariableRef, Variable] = {}
        self._logs: dict[str, list[LogEntry]] = {}
        self._log_listeners: list[LogListener] = []

    # Instances

    async def save_instance(self, instance: StoredInstance) -> None:
        self._instances[instance.id] = instance

    async def load_instance(self, instance_id: str) -> StoredInstance | None:
        return self._instances.get(instance_id)

    async def pending_instances(self) -> list[str]:
        return [i.id for i in self._instances.values() if i.status == "pending"]

    async def has_pending_instance(self, namespace: str, workflow: str) -> bool:
        return any(
            i.status == "pending" and i.namespace == namespace and i.workflow == workflow
            for i in self._instances.values()
        )

    # Variables

    async def get_variable(self, ref: VariableRef) -> Variable | None:
        return self._variables.get(ref)

    async def set_variable(self, ref: VariableRef, variable: Variable) -> None:
        self._variables[ref] = variable

    async def delete_variable(self, ref: VariableRef) -> None:
        self._variables.pop(ref, None)

    async def delete_instance_variables(self, instance_id: str) -> None:
        """Drop the `instance` scope of one instance (it ends with the instance)."""
        gone = [
            r for r in self._variables if r.scope == "instance" and r.instance_id == instance_id
        ]
        for ref in gone:
            del self._variables[ref]

    def variables(self) -> dict[VariableRef, Variable]:
        """A snapshot of every stored variable."""
        return dict(self._variables)

    # Logs

    async def append_log(self, entry: LogEntry) -> None:
        self._logs.setdefault(entry.instance_id, []).append(entry)
        for listener in self._log_listeners:
            listener(entry)

    def logs(self, instance_id: str) -> list[LogEntry]:
        return list(self._logs.get(instance_id, ()))

    def add_log_listener(self, listener: LogListener) -> None:
        self._log_listeners.append(listener)

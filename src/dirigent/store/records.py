"""Value objects the store keeps: variables and log entries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Scope = Literal["instance", "workflow", "namespace"]


@dataclass(frozen=True, slots=True)
class InstanceRef:
    """Where an instance lives: its namespace, workflow id and instance id."""

    namespace: str
    workflow: str
    instance_id: str


@dataclass(frozen=True, slots=True)
class VariableRef:
    """A variable's identity. Only the fields its scope needs take part in matching."""

    scope: Scope
    key: str
    namespace: str
    workflow: str = ""
    instance_id: str = ""

    @classmethod
    def of(cls, scope: Scope, key: str, owner: InstanceRef) -> VariableRef:
        """The variable `key` of `scope` as seen from an instance."""
        return cls(
            scope=scope,
            key=key,
            namespace=owner.namespace,
            workflow=owner.workflow if scope != "namespace" else "",
            instance_id=owner.instance_id if scope == "instance" else "",
        )


@dataclass(frozen=True, slots=True)
class Variable:
    data: bytes
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One line of an instance log, attributed to a state and, for function logs, an action."""

    instance_id: str
    time: datetime
    message: str
    state: str | None = None
    action_id: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StoredInstance:
    """An instance as the store keeps it: indexed fields and the engine's record as JSON bytes."""

    id: str
    namespace: str
    workflow: str
    status: str
    record: bytes

"""The instance record: everything the interpreter needs to continue an instance.

The record is plain data and round-trips through JSON (`to_json` / `from_json`), so a store can keep it
at every effect boundary and any runtime can resume it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from dirigent.errors import WorkflowError
from dirigent.types import JSON, JSONObject


class Status(enum.StrEnum):
    PENDING = "pending"
    COMPLETE = "complete"
    FAILED = "failed"
    CRASHED = "crashed"
    CANCELLED = "cancelled"


class BranchStatus(enum.StrEnum):
    RUNNING = "running"  # a call (or child instance) is in flight under `action_id`
    WAITING_RETRY = "waiting_retry"  # a retry timer is set
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(slots=True)
class Branch:
    """One action of an action, parallel or foreach state, with its attempts.

    `context` is the value the action's input template is evaluated against: the instance data for
    action and parallel states, the element for foreach.
    """

    index: int
    context: JSON
    status: BranchStatus = BranchStatus.RUNNING
    action_id: str | None = None
    attempt: int = 0
    result: JSON = None
    error: WorkflowError | None = None

    def to_json(self) -> JSONObject:
        return {
            "index": self.index,
            "context": self.context,
            "status": self.status.value,
            "action_id": self.action_id,
            "attempt": self.attempt,
            "result": self.result,
            "error": self.error.to_json() if self.error else None,
        }

    @classmethod
    def from_json(cls, value: JSONObject) -> Branch:
        return cls(
            index=value["index"],
            context=value["context"],
            status=BranchStatus(value["status"]),
            action_id=value["action_id"],
            attempt=value["attempt"],
            result=value["result"],
            error=WorkflowError.from_json(value["error"]) if value["error"] else None,
        )


@dataclass(frozen=True, slots=True)
class ParentLink:
    """Where a child instance reports its end: the parent instance and the action id it waits on."""

    instance_id: str
    action_id: str

    def to_json(self) -> JSONObject:
        return {"instance_id": self.instance_id, "action_id": self.action_id}


@dataclass(slots=True)
class Instance:
    """A workflow instance: identity, status, data, and the position of its current state."""

    id: str
    namespace: str
    workflow: str
    revision: int
    input: JSON
    data: JSONObject
    created_at: datetime
    status: Status = Status.PENDING
    depth: int = 0
    parent: ParentLink | None = None
    invoked_by: str = "api"
    # The current state and its progress.
    state: str | None = None
    visit: int = 0  # counts state entries; timer and action ids carry it so stale ones are ignored
    branches: list[Branch] = field(default_factory=list)
    waiting_for_variables: bool = False
    # While a waiting state (consumeEvent, eventXor, eventAnd) waits: the events that arrived so far,
    # by the index of the definition they matched (eventAnd waits for all). None: waits for none.
    received_events: dict[str, JSONObject] | None = None
    # Timers by id, with their due time. A fired id that is no longer here is stale and ignored.
    timers: dict[str, datetime] = field(default_factory=dict)
    # The error an `error` state recorded; the instance ends failed with it.
    raised: WorkflowError | None = None
    # The final outcome.
    error: WorkflowError | None = None
    output: JSON = None
    ended_at: datetime | None = None

    @property
    def done(self) -> bool:
        return self.status is not Status.PENDING

    def to_json(self) -> JSONObject:
        return {
            "id": self.id,
            "namespace": self.namespace,
            "workflow": self.workflow,
            "revision": self.revision,
            "input": self.input,
            "data": self.data,
            "created_at": self.created_at.isoformat(),
            "status": self.status.value,
            "depth": self.depth,
            "parent": self.parent.to_json() if self.parent else None,
            "invoked_by": self.invoked_by,
            "state": self.state,
            "visit": self.visit,
            "branches": [b.to_json() for b in self.branches],
            "waiting_for_variables": self.waiting_for_variables,
            "received_events": self.received_events,
            "timers": {k: v.isoformat() for k, v in self.timers.items()},
            "raised": self.raised.to_json() if self.raised else None,
            "error": self.error.to_json() if self.error else None,
            "output": self.output,
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
        }

    @classmethod
    def from_json(cls, value: JSONObject) -> Instance:
        parent = value["parent"]
        return cls(
            id=value["id"],
            namespace=value["namespace"],
            workflow=value["workflow"],
            revision=value["revision"],
            input=value["input"],
            data=value["data"],
            created_at=datetime.fromisoformat(value["created_at"]),
            status=Status(value["status"]),
            depth=value["depth"],
            parent=ParentLink(**parent) if parent else None,
            invoked_by=value["invoked_by"],
            state=value["state"],
            visit=value["visit"],
            branches=[Branch.from_json(b) for b in value["branches"]],
            waiting_for_variables=value["waiting_for_variables"],
            # Records stored before waiting states existed have no such key.
            received_events=value.get("received_events"),
            timers={k: datetime.fromisoformat(v) for k, v in value["timers"].items()},
            raised=WorkflowError.from_json(value["raised"]) if value["raised"] else None,
            error=WorkflowError.from_json(value["error"]) if value["error"] else None,
            output=value["output"],
            ended_at=datetime.fromisoformat(value["ended_at"]) if value["ended_at"] else None,
        )

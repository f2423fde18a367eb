"""What makes an instance move: the inputs of `advance`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dirigent.errors import WorkflowError
from dirigent.types import JSON, JSONObject


@dataclass(frozen=True, slots=True)
class Start:
    """The instance was created and should enter its start state."""


@dataclass(frozen=True, slots=True)
class ActionSucceeded:
    """The call (or child instance) under `action_id` returned `result`."""

    action_id: str
    result: JSON


@dataclass(frozen=True, slots=True)
class ActionFailed:
    """The call (or child instance) under `action_id` failed with `error`."""

    action_id: str
    error: WorkflowError


@dataclass(frozen=True, slots=True)
class TimerFired:
    timer_id: str


@dataclass(frozen=True, slots=True)
class VariablesRead:
    """The values a getter asked for, in its order; None where a variable does not exist."""

    values: tuple[tuple[bytes, str] | None, ...]


@dataclass(frozen=True, slots=True)
class Cancel:
    """Stop the instance from outside (API cancel, or its parent was cancelled)."""

    error: WorkflowError


@dataclass(frozen=True, slots=True)
class EventReceived:
    """An event that a waiting state asked for (`WaitForEvents`) arrived.

    `key` is the key of the wait it matched (`<visit>:<index>`); `payload` is the event's data as a
    workflow sees it, `context` its context attributes (workflow-language.md §3, §7.1).
    """

    key: str
    type: str
    payload: JSON
    context: JSONObject


Trigger = (
    Start | ActionSucceeded | ActionFailed | TimerFired | VariablesRead | Cancel | EventReceived
)


def trigger_to_json(trigger: Trigger) -> dict[str, Any]:
    """A trigger as JSON, for inboxes kept in a store."""
    match trigger:
        case Start():
            return {"kind": "start"}
        case ActionSucceeded(action_id, result):
            return {"kind": "succeeded", "action_id": action_id, "result": result}
        case ActionFailed(action_id, error):
            return {"kind": "failed", "action_id": action_id, "error": error.to_json()}
        case TimerFired(timer_id):
            return {"kind": "timer", "timer_id": timer_id}
        case VariablesRead():
            raise ValueError("variable reads are answered in memory, never stored")
        case Cancel(error):
            return {"kind": "cancel", "error": error.to_json()}
        case EventReceived(key, type_, payload, context):
            return {
                "kind": "event",
                "key": key,
                "type": type_,
                "payload": payload,
                "context": context,
            }


def trigger_from_json(value: dict[str, Any]) -> Trigger:
    """The inverse of `trigger_to_json`."""
    kind = value["kind"]
    if kind == "start":
        return Start()
    if kind == "succeeded":
        return ActionSucceeded(value["action_id"], value["result"])
    if kind == "failed":
        return ActionFailed(value["action_id"], WorkflowError.from_json(value["error"]))
    if kind == "timer":
        return TimerFired(value["timer_id"])
    if kind == "cancel":
        return Cancel(WorkflowError.from_json(value["error"]))
    if kind == "event":
        return EventReceived(value["key"], value["type"], value["payload"], value["context"])
    raise ValueError(f"unknown trigger kind {kind!r}")

"""What makes an instance move: the inputs of `advance`."""

from __future__ import annotations

from dataclasses import dataclass

from dirigent.errors import WorkflowError
from dirigent.types import JSON


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


Trigger = Start | ActionSucceeded | ActionFailed | TimerFired | VariablesRead | Cancel

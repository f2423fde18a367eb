"""What the interpreter asks the runtime to do: the outputs of `advance`.

Effects are performed in the order given. The runtime stores the instance record before it performs
them, so after a crash the same effects can be asked for again by `resume`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dirigent.errors import WorkflowError
from dirigent.jq import Template
from dirigent.spec.functions import HttpFunction
from dirigent.types import JSON, JSONObject


@dataclass(frozen=True, slots=True)
class CallFunction:
    """Call `function` once under `action_id`; answer with ActionSucceeded/ActionFailed.

    The input is `template` evaluated against `context`, with the named `secrets` added at
    `.secrets.<name>` in a copy made only for this (secrets never enter the instance record).
    A `detached` call (async action) reports nothing back.
    """

    action_id: str
    state: str
    function: HttpFunction
    template: Template | None
    context: JSON
    secrets: tuple[str, ...]
    deadline: datetime
    detached: bool = False


@dataclass(frozen=True, slots=True)
class StartSubflow:
    """Start instance `child_id` of workflow `workflow` with `input`; report its end under `child_id`."""

    child_id: str
    state: str
    workflow: str
    template: Template | None
    context: JSON
    secrets: tuple[str, ...]
    depth: int
    detached: bool = False


@dataclass(frozen=True, slots=True)
class CancelAction:
    """Stop the call or child instance under `action_id`; it ends with `error`."""

    action_id: str
    error: WorkflowError


@dataclass(frozen=True, slots=True)
class SetTimer:
    """Deliver TimerFired(timer_id) at `at` (once; a later SetTimer with the same id replaces it)."""

    timer_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ClearTimer:
    timer_id: str


@dataclass(frozen=True, slots=True)
class ReadVariables:
    """Read variables `(scope, key)` and answer with VariablesRead in the same order."""

    variables: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class WriteVariables:
    """Store `(scope, key, data, mime type)`; data None deletes the variable."""

    variables: tuple[tuple[str, str, bytes | None, str], ...]


@dataclass(frozen=True, slots=True)
class Log:
    """A line for the instance log, attributed to a state. `output` marks what a state's `log:`
    field wrote (as opposed to the engine's own lines); those also become events under `logEvent`.
    `data` is the instance data as JSON text where the line records it (a state's input, on entry)."""

    message: str
    state: str | None
    output: bool = False
    data: str | None = None


@dataclass(frozen=True, slots=True)
class EmitEvent:
    """A CloudEvent (structured JSON form) for the instance's namespace."""

    event: JSONObject


@dataclass(frozen=True, slots=True)
class EventWait:
    """One event a waiting state waits for: its `type` and globs on context attributes (evaluated
    when the state was entered, keys lower case). `key` is `<visit>:<index>` of the state's entry."""

    key: str
    type: str
    context: dict[str, str]


@dataclass(frozen=True, slots=True)
class WaitForEvents:
    """From now on, deliver EventReceived for each event that matches one of `waits`, instead of
    what the instance waited for before; no waits: the instance waits for no event any more."""

    waits: tuple[EventWait, ...]


@dataclass(frozen=True, slots=True)
class Entered:
    """The instance entered `state` (several per step when pure states run one after another)."""

    state: str


@dataclass(frozen=True, slots=True)
class Finished:
    """The instance ended; its record holds status, output and error."""


Effect = (
    CallFunction
    | StartSubflow
    | CancelAction
    | SetTimer
    | ClearTimer
    | ReadVariables
    | WriteVariables
    | Log
    | EmitEvent
    | WaitForEvents
    | Entered
    | Finished
)

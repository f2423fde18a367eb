"""One turn of the interpreter: the moves every state family shares.

A `Turn` wraps the instance record, the definition and the current time for the length of one
`advance` call. States call its methods to log, set timers, call actions, finish or fail; it collects
the effects in order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from dirigent.engine import effects as fx
from dirigent.engine.instance import BranchStatus, Instance, Status
from dirigent.engine.limits import Limits
from dirigent.engine.matching import glob_matches
from dirigent.errors import Code, WorkflowError
from dirigent.ids import random_hex
from dirigent.jq import Template
from dirigent.spec import WorkflowDefinition
from dirigent.spec.states import State
from dirigent.types import JSON

_END_STATUS = {
    Code.INTERNAL: Status.CRASHED,
    Code.CANCELS_API: Status.CANCELLED,
    Code.CANCELS_PARENT: Status.CANCELLED,
}


class Turn:
    def __init__(
        self, definition: WorkflowDefinition, instance: Instance, now: datetime, limits: Limits
    ) -> None:
        self.definition = definition
        self.instance = instance
        self.now = now
        self.limits = limits
        self.effects: list[fx.Effect] = []
        self.next_state: str | None = None

    # Reading the definition

    @property
    def state(self) -> State:
        return self.definition.states[self.instance.state or ""]

    def timer_id(self, name: str) -> str:
        """A timer id that belongs to the current visit of the current state."""
        return f"{self.instance.visit}:{name}"

    # Effects

    def emit(self, effect: fx.Effect) -> None:
        self.effects.append(effect)

    def log(self, message: str, *, output: bool = False, data: str | None = None) -> None:
        self.emit(fx.Log(message, self.instance.state, output, data))

    def set_timer(self, timer_id: str, at: datetime) -> None:
        self.instance.timers[timer_id] = at
        self.emit(fx.SetTimer(timer_id, at))

    def clear_timer(self, timer_id: str) -> None:
        if self.instance.timers.pop(timer_id, None) is not None:
            self.emit(fx.ClearTimer(timer_id))

    def new_action_id(self) -> str:
        # Unguessable: the sidecar serves logs and variables to whoever presents a live id.
        return random_hex(16)

    # Data

    def evaluate(self, template: Template | None, data: JSON = None) -> JSON:
        if template is None:
            return self.instance.data if data is None else data
        return template.evaluate(self.instance.data if data is None else data)

    def transform(self, template: Template | None) -> None:
        """Replace the instance data with `template`'s result, which must be an object."""
        if template is None or template.is_identity:
            return
        result = template.evaluate(self.instance.data)
        if not isinstance(result, dict):
            raise WorkflowError(
                Code.JQ_NOT_OBJECT, f"transform must produce an object, not {_kind(result)}"
            )
        self.instance.data = result

    # Moving on

    def complete(self, transition: str | None, transform: Template | None = None) -> None:
        """Finish the current state: its own transform (a branch's first, if any), then the transition."""
        self.transform(transform)
        self.transform(self.state.transform)
        self.leave_state()
        if transition is None:
            self.end_normally()
        else:
            self.next_state = transition

    def leave_state(self) -> None:
        """Drop the current state's timers and cancel whatever it still has running."""
        self.cancel_branches(WorkflowError(Code.CANCELS_TIMEOUT, "the state was left"))
        prefix = f"{self.instance.visit}:"
        for timer_id in [t for t in self.instance.timers if t.startswith(prefix)]:
            self.clear_timer(timer_id)
        self.instance.branches = []
        self.instance.waiting_for_variables = False
        if self.instance.received_events is not None:
            self.instance.received_events = None
            self.emit(fx.WaitForEvents(()))

    def cancel_branches(self, error: WorkflowError) -> None:
        for branch in self.instance.branches:
            if branch.status is BranchStatus.RUNNING and branch.action_id is not None:
                self.emit(fx.CancelAction(branch.action_id, error))
            if branch.status in (BranchStatus.RUNNING, BranchStatus.WAITING_RETRY):
                branch.status = BranchStatus.CANCELLED
                branch.result = None

    def fail_state(self, error: WorkflowError) -> None:
        """An error arose in the current state: catch it if a catcher matches, else end the instance."""
        if self.instance.done:
            return
        if self.instance.state is None or not error.catchable:
            self.end(error)
            return
        for catcher in self.state.catch:
            if glob_matches(catcher.error, error.code):
                self.log(f"caught {error.code}: {error.message}")
                self.leave_state()
                self.instance.data["error"] = {"code": error.code, "msg": error.message}
                if catcher.transition is None:
                    self.end_normally()
                else:
                    self.next_state = catcher.transition
                return
        self.end(error)

    def end_normally(self) -> None:
        """The last state finished: complete, unless an error state recorded an error."""
        self.end(self.instance.raised)

    def end(self, error: WorkflowError | None) -> None:
        instance = self.instance
        if instance.done:
            return
        self.leave_state()
        for timer_id in list(instance.timers):
            self.clear_timer(timer_id)
        instance.status = _end_status(error)
        instance.error = error
        instance.output = instance.data
        instance.ended_at = self.now
        self.next_state = None
        if error is not None:
            self.log(f"instance {instance.status.value}: {error.code}: {error.message}")
        self.emit(fx.Finished())


def _end_status(error: WorkflowError | None) -> Status:
    """Complete without an error; crashed or cancelled when that happened to this very instance
    (an uncatchable internal error or cancel); failed otherwise (a child's crash fails a parent)."""
    if error is None:
        return Status.COMPLETE
    if error.catchable:
        return Status.FAILED
    return _END_STATUS.get(error.code, Status.FAILED)


def pretty(value: Any) -> str:
    """Log output: strings as they are, other values as indented JSON."""
    if isinstance(value, str):
        return value
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()


def _kind(value: JSON) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        str: "a string",
        list: "an array",
        int: "a number",
        float: "a number",
    }[type(value)]

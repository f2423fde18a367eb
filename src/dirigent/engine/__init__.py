"""The interpreter: decides state transitions and asks for effects; it does no I/O of its own.

`advance(definition, instance, trigger, now)` mutates the instance record and returns the effects to
perform. The record holds everything needed to go on (`resume`), so any runtime that stores it at each
effect boundary can continue an instance after a crash.
"""

from dirigent.engine.effects import (
    CallFunction,
    CancelAction,
    ClearTimer,
    Effect,
    EmitEvent,
    Entered,
    EventWait,
    Finished,
    Log,
    ReadVariables,
    SetTimer,
    StartSubflow,
    WaitForEvents,
    WriteVariables,
)
from dirigent.engine.instance import Branch, Instance, Status
from dirigent.engine.interpreter import Limits, advance, resume
from dirigent.engine.triggers import (
    ActionFailed,
    ActionSucceeded,
    Cancel,
    EventReceived,
    Start,
    TimerFired,
    Trigger,
    VariablesRead,
)

__all__ = [
    "ActionFailed",
    "ActionSucceeded",
    "Branch",
    "CallFunction",
    "Cancel",
    "CancelAction",
    "ClearTimer",
    "Effect",
    "EmitEvent",
    "Entered",
    "EventReceived",
    "EventWait",
    "Finished",
    "Instance",
    "Limits",
    "Log",
    "ReadVariables",
    "SetTimer",
    "Start",
    "StartSubflow",
    "Status",
    "TimerFired",
    "Trigger",
    "VariablesRead",
    "WaitForEvents",
    "WriteVariables",
    "advance",
    "resume",
]

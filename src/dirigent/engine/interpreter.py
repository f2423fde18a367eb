"""`advance` and `resume`: route triggers to the current state, then run states until one waits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import orjson

from dirigent.engine import effects as fx
from dirigent.engine.instance import BranchStatus, Instance
from dirigent.engine.limits import Limits
from dirigent.engine.states import actions, basic, events, variables
from dirigent.engine.states.events import WaitingState
from dirigent.engine.step import Turn, pretty
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
from dirigent.errors import Code, WorkflowError
from dirigent.spec import WorkflowDefinition
from dirigent.spec.states import (
    ActionState,
    DelayState,
    ForeachState,
    GetterState,
    ParallelState,
    State,
)
from dirigent.types import JSONObject

__all__ = ["Limits", "advance", "resume"]

_ENTER: dict[str, Callable[[Turn, Any], None]] = {
    "noop": basic.enter_noop,
    "switch": basic.enter_switch,
    "validate": basic.enter_validate,
    "delay": basic.enter_delay,
    "error": basic.enter_error,
    "getter": variables.enter_getter,
    "setter": variables.enter_setter,
    "action": actions.enter,
    "parallel": actions.enter,
    "foreach": actions.enter,
    "generateEvent": events.enter_generate_event,
    "consumeEvent": events.enter_waiting,
    "eventXor": events.enter_waiting,
    "eventAnd": events.enter_waiting,
}

_RESUME_TIMER = "resume"


def advance(
    definition: WorkflowDefinition,
    instance: Instance,
    trigger: Trigger,
    now: datetime,
    limits: Limits = Limits(),  # noqa: B008 - immutable
) -> list[fx.Effect]:
    """Apply `trigger` to `instance` (mutating it) and return the effects to perform, in order.

    States run one after another until one waits for something (an action, a timer, variables) or the
    instance ends. Triggers that no longer apply (a stale timer, a call of a state already left, anything
    after the end) are ignored, so delivering a trigger twice is harmless.
    """
    turn = Turn(definition, instance, now, limits)
    if instance.done:
        return []
    try:
        _dispatch(turn, trigger)
    except WorkflowError as error:
        turn.fail_state(error)
    _run(turn)
    return turn.effects


def resume(
    definition: WorkflowDefinition,
    instance: Instance,
    now: datetime,
    limits: Limits = Limits(),  # noqa: B008 - immutable
) -> list[fx.Effect]:
    """The effects that continue a stored instance after a restart.

    Timers are set again; calls that were in flight are made again under new action ids (at-least-once);
    child instances are asked for again under their ids (starting one that exists does nothing); a getter
    reads again.
    """
    turn = Turn(definition, instance, now, limits)
    if instance.done:
        return []
    for timer_id, at in instance.timers.items():
        turn.emit(fx.SetTimer(timer_id, at))
    state = definition.states.get(instance.state or "")
    if isinstance(state, ActionState | ParallelState | ForeachState):
        for branch in instance.branches:
            if branch.status is BranchStatus.RUNNING:
                actions.launch(turn, actions.action_for(state, branch), branch, again=True)
    elif isinstance(state, GetterState) and instance.waiting_for_variables:
        variables.enter_getter(turn, state)
    return turn.effects


def _dispatch(turn: Turn, trigger: Trigger) -> None:
    instance = turn.instance
    match trigger:
        case Start() if instance.visit == 0:
            _start(turn)
        case ActionSucceeded(action_id, result):
            state = _action_state(turn)
            branch = actions.find_branch(turn, action_id) if state else None
            if state is not None and branch is not None:
                actions.on_success(turn, state, branch, result)
        case ActionFailed(action_id, error):
            state = _action_state(turn)
            branch = actions.find_branch(turn, action_id) if state else None
            if state is not None and branch is not None:
                actions.on_failure(turn, state, branch, error)
        case TimerFired(timer_id):
            if instance.timers.pop(timer_id, None) is not None:
                _on_timer(turn, timer_id)
        case VariablesRead(values):
            getter = turn.state if instance.state else None
            if isinstance(getter, GetterState) and instance.waiting_for_variables:
                variables.on_variables(turn, getter, values)
        case Cancel(error):
            turn.end(error)
        case EventReceived():
            waiting = turn.state if instance.received_events is not None else None
            if isinstance(waiting, WaitingState):
                events.on_event(turn, waiting, trigger)


def _start(turn: Turn) -> None:
    instance = turn.instance
    timeouts = turn.definition.workflow.timeouts
    interrupt = _given(timeouts.interrupt if timeouts else None, turn.limits.interrupt)
    kill = _given(timeouts.kill if timeouts else None, interrupt + turn.limits.kill_grace)
    turn.set_timer("interrupt", instance.created_at + interrupt)
    turn.set_timer("kill", instance.created_at + kill)
    turn.next_state = turn.definition.start_state


def _given(value: timedelta | None, default: timedelta) -> timedelta:
    # Not `value or default`: a zero duration (PT0S) is a real choice.
    return default if value is None else value


def _action_state(turn: Turn) -> ActionState | ParallelState | ForeachState | None:
    if turn.instance.state is None:
        return None
    state = turn.state
    return state if isinstance(state, ActionState | ParallelState | ForeachState) else None


def _on_timer(turn: Turn, timer_id: str) -> None:
    if timer_id == "interrupt":
        turn.fail_state(
            WorkflowError(Code.CANCELS_TIMEOUT, "the workflow's interrupt timeout passed")
        )
        return
    if timer_id == "kill":
        turn.end(
            WorkflowError(
                Code.CANCELS_TIMEOUT, "the workflow's kill timeout passed", catchable=False
            )
        )
        return
    if timer_id == _RESUME_TIMER:
        turn.next_state = turn.instance.state
        turn.instance.state = None
        return
    visit, _, name = timer_id.partition(":")
    if visit != str(turn.instance.visit):
        return
    state = turn.state
    if name == "deadline" and isinstance(state, ActionState | ParallelState | ForeachState):
        actions.on_deadline(turn, state)
    elif name.startswith("retry:") and isinstance(
        state, ActionState | ParallelState | ForeachState
    ):
        actions.on_retry_timer(turn, state, int(name.removeprefix("retry:")))
    elif name == "delay" and isinstance(state, DelayState):
        basic.on_delay_timer(turn, state)
    elif name == "deadline" and isinstance(state, WaitingState):
        events.on_deadline(turn, state)


def _run(turn: Turn) -> None:
    """Enter states until one waits or the instance ends; yield after `states_per_turn` entries."""
    entered = 0
    while turn.next_state is not None and not turn.instance.done:
        if entered == turn.limits.states_per_turn:
            # Let timers (interrupt, kill) and other instances in; go on at once from a timer.
            turn.instance.state = turn.next_state
            turn.next_state = None
            turn.set_timer(_RESUME_TIMER, turn.now)
            return
        entered += 1
        _enter(turn, turn.definition.states[turn.next_state])


def _kept(turn: Turn, data: JSONObject) -> str | None:
    """`data` as JSON for the log, so that each state's input can be shown later; None when it is
    larger than the limit (the log must not grow by megabytes per state)."""
    text = orjson.dumps(data)
    return text.decode() if len(text) <= turn.limits.logged_input_bytes else None


def _enter(turn: Turn, state: State) -> None:
    instance = turn.instance
    instance.state = state.id
    instance.visit += 1
    turn.next_state = None
    turn.emit(fx.Entered(state.id))
    turn.log(f"entering state '{state.id}' ({state.type})", data=_kept(turn, instance.data))
    try:
        if state.log is not None:
            turn.log(pretty(state.log.evaluate(instance.data)), output=True)
        _ENTER[state.type](turn, state)
    except WorkflowError as error:
        turn.fail_state(error)

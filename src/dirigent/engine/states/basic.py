"""States that finish at once or after a timer: noop, switch, validate, delay, error."""

from __future__ import annotations

from dirigent.engine.matching import as_text, format_message, truthy
from dirigent.engine.step import Turn
from dirigent.errors import Code, WorkflowError
from dirigent.spec.states import DelayState, ErrorState, NoopState, SwitchState, ValidateState


def enter_noop(turn: Turn, state: NoopState) -> None:
    turn.complete(state.transition)


def enter_switch(turn: Turn, state: SwitchState) -> None:
    for condition in state.conditions:
        if truthy(condition.condition.evaluate(turn.instance.data)):
            turn.complete(condition.transition, condition.transform)
            return
    turn.complete(state.defaultTransition, state.defaultTransform)


def enter_validate(turn: Turn, state: ValidateState) -> None:
    subject = turn.evaluate(state.subject)
    validator = turn.definition.schemas[state.id]
    violations = sorted(validator.iter_errors(subject), key=lambda e: list(e.absolute_path))
    if violations:
        details = "; ".join(
            f"{'/'.join(str(p) for p in v.absolute_path) or '(root)'}: {v.message}"
            for v in violations
        )
        raise WorkflowError(Code.SCHEMA_FAILED, f"{len(violations)} violation(s): {details}")
    turn.complete(state.transition)


def enter_delay(turn: Turn, state: DelayState) -> None:
    turn.set_timer(turn.timer_id("delay"), turn.now + state.duration)


def on_delay_timer(turn: Turn, state: DelayState) -> None:
    turn.complete(state.transition)


def enter_error(turn: Turn, state: ErrorState) -> None:
    if turn.instance.raised is not None:
        raise WorkflowError(
            Code.MULTIPLE_ERRORS,
            f"error state '{state.id}' ran after another one had already recorded "
            f"{turn.instance.raised.code}",
        )
    args = [a.evaluate(turn.instance.data) for a in state.args]
    message = format_message(state.message, args)
    turn.instance.raised = WorkflowError(state.error, message)
    turn.log(f"error recorded: {state.error}: {as_text(message)}")
    turn.complete(state.transition)

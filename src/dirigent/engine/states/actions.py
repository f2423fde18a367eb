"""Action, parallel and foreach states: calls, retries, deadlines, and how branch outcomes combine."""

from __future__ import annotations

from datetime import timedelta

from dirigent.engine import effects as fx
from dirigent.engine.instance import Branch, BranchStatus
from dirigent.engine.matching import code_matches
from dirigent.engine.step import Turn
from dirigent.errors import Code, WorkflowError
from dirigent.jq import Template
from dirigent.spec.functions import SubflowFunction
from dirigent.spec.states import Action, ActionState, ForeachState, ParallelState
from dirigent.types import JSON

ActionFamily = ActionState | ParallelState | ForeachState


def actions_of(state: ActionFamily) -> list[Action]:
    """The action of each branch, by branch index (foreach repeats its one action)."""
    if isinstance(state, ParallelState):
        return state.actions
    return [state.action]


def action_for(state: ActionFamily, branch: Branch) -> Action:
    actions = actions_of(state)
    return actions[branch.index] if len(actions) > 1 else actions[0]


def enter(turn: Turn, state: ActionFamily) -> None:
    if isinstance(state, ActionState) and state.async_:
        launch(turn, state.action, Branch(0, None), detached=True)
        turn.complete(state.transition)
        return
    if isinstance(state, ForeachState):
        elements = _foreach_elements(turn, state)
        if not elements:
            turn.instance.data["return"] = []
            turn.complete(state.transition)
            return
        turn.instance.branches = [Branch(i, element) for i, element in enumerate(elements)]
    else:
        turn.instance.branches = [Branch(i, None) for i in range(len(actions_of(state)))]
    turn.set_timer(turn.timer_id("deadline"), turn.now + _timeout(turn, state))
    for branch in turn.instance.branches:
        launch(turn, action_for(state, branch), branch)


def _foreach_elements(turn: Turn, state: ForeachState) -> list[JSON]:
    results = state.array.evaluate_all(turn.instance.data)
    elements = results[0] if len(results) == 1 and isinstance(results[0], list) else results
    for element in elements:
        if not isinstance(element, dict):
            raise WorkflowError(
                Code.JQ_NOT_OBJECT, "foreach array elements must be objects, one was not"
            )
    return list(elements)


def launch(
    turn: Turn, action: Action, branch: Branch, *, detached: bool = False, again: bool = False
) -> None:
    """Ask for one attempt of `action` for `branch`, under a fresh action id.

    `again` asks once more for what the branch had in flight when its runtime stopped: a function is
    called again under a new id (at least once); a child instance keeps its id, so that starting it is
    idempotent and an existing child is not started twice.
    """
    instance = turn.instance
    state_id = instance.state or ""
    secrets = tuple(action.secrets)
    context = branch.context
    if context is None:
        # A detached call is performed after later states may have changed the data: snapshot it.
        context = dict(instance.data) if detached else instance.data
    template: Template | None = action.input
    workflow = action.workflow
    function = turn.definition.functions.get(action.function or "")
    if isinstance(function, SubflowFunction):
        workflow = function.workflow
    branch.status = BranchStatus.RUNNING
    if workflow is not None:
        if instance.depth + 1 > turn.limits.max_depth:
            raise WorkflowError(
                Code.LIMITS_DEPTH,
                f"subflow '{workflow}' would be {instance.depth + 1} levels deep; "
                f"the limit is {turn.limits.max_depth}",
                catchable=False,
            )
        if not (again and branch.action_id):
            branch.action_id = f"{instance.namespace}/{workflow}/{turn.new_action_id()}"
        turn.emit(
            fx.StartSubflow(
                branch.action_id,
                state_id,
                workflow,
                template,
                context,
                secrets,
                instance.depth + 1,
                detached,
            )
        )
        return
    if function is None or isinstance(function, SubflowFunction):
        # The loader rejects unknown functions; a record from another revision could still name one.
        raise WorkflowError(Code.INTERNAL, f"no function '{action.function}'", catchable=False)
    deadline = turn.now + turn.limits.max_function_time
    state_deadline = instance.timers.get(turn.timer_id("deadline"))
    if state_deadline is not None:
        deadline = min(deadline, state_deadline)
    branch.action_id = turn.new_action_id()
    turn.emit(
        fx.CallFunction(
            branch.action_id, state_id, function, template, context, secrets, deadline, detached
        )
    )


def find_branch(turn: Turn, action_id: str) -> Branch | None:
    for branch in turn.instance.branches:
        if branch.action_id == action_id and branch.status is BranchStatus.RUNNING:
            return branch
    return None


def on_success(turn: Turn, state: ActionFamily, branch: Branch, result: JSON) -> None:
    branch.status = BranchStatus.SUCCEEDED
    branch.result = result
    branch.action_id = None
    if isinstance(state, ParallelState) and state.mode == "or":
        turn.cancel_branches(_cancelled("another action of the parallel state succeeded"))
        _finish(turn, state)
    elif all(b.status is BranchStatus.SUCCEEDED for b in turn.instance.branches):
        _finish(turn, state)


def _finish(turn: Turn, state: ActionFamily) -> None:
    results = [b.result for b in turn.instance.branches]
    turn.instance.data["return"] = results[0] if isinstance(state, ActionState) else results
    turn.complete(state.transition)


def on_failure(turn: Turn, state: ActionFamily, branch: Branch, error: WorkflowError) -> None:
    branch.action_id = None
    if not error.catchable:
        branch.status = BranchStatus.FAILED
        turn.end(error)
        return
    retries = action_for(state, branch).retries
    if retries is not None and any(code_matches(c, error.code) for c in retries.codes):
        if branch.attempt < retries.max_attempts:
            branch.attempt += 1
            branch.status = BranchStatus.WAITING_RETRY
            delay = (turn.limits.retry_delay if retries.delay is None else retries.delay) * (
                retries.multiplier ** (branch.attempt - 1)
            )
            turn.log(
                f"retrying action {branch.index} after {error.code} "
                f"(retry {branch.attempt} of {retries.max_attempts}, in {delay.total_seconds():g}s)"
            )
            turn.set_timer(turn.timer_id(f"retry:{branch.index}"), turn.now + delay)
            return
        error = WorkflowError(
            Code.RETRIES_EXCEEDED,
            f"retries exceeded ({retries.max_attempts}); last error: {error.code}: {error.message}",
        )
    branch.status = BranchStatus.FAILED
    branch.error = error
    if isinstance(state, ParallelState) and state.mode == "or":
        if all(b.status is BranchStatus.FAILED for b in turn.instance.branches):
            messages = "; ".join(
                f"{b.error.code}: {b.error.message}" for b in turn.instance.branches if b.error
            )
            turn.fail_state(
                WorkflowError(Code.PARALLEL_ALL_FAILED, f"all actions failed: {messages}")
            )
        return
    turn.cancel_branches(_cancelled("another action of the state failed"))
    turn.fail_state(error)


def on_retry_timer(turn: Turn, state: ActionFamily, index: int) -> None:
    branch = turn.instance.branches[index]
    if branch.status is BranchStatus.WAITING_RETRY:
        launch(turn, action_for(state, branch), branch)


def on_deadline(turn: Turn, state: ActionFamily) -> None:
    timeout = _timeout(turn, state)
    error = WorkflowError(
        Code.CANCELS_TIMEOUT,
        f"state '{state.id}' timed out after {timeout.total_seconds():g}s",
    )
    turn.cancel_branches(error)
    turn.fail_state(error)


def _timeout(turn: Turn, state: ActionFamily) -> timedelta:
    return turn.limits.state_timeout if state.timeout is None else state.timeout


def _cancelled(reason: str) -> WorkflowError:
    return WorkflowError(Code.CANCELS_TIMEOUT, reason)

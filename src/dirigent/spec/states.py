"""State definitions (workflow-language.md §4, §5) and actions."""

# Pydantic copies mutable defaults (`= []`) for each instance; they are not shared.
# ruff: noqa: RUF012

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, model_validator

from dirigent.spec.base import Definition
from dirigent.spec.fields import Duration, Regex, StateId, TemplateField, VariableKey
from dirigent.spec.functions import Scope


class Retries(Definition):
    """Retry policy of an action: `max_attempts` retries after the first call."""

    max_attempts: int = Field(ge=0)
    delay: Duration | None = None
    multiplier: float = Field(default=1.0, gt=0)
    codes: list[Regex] = Field(min_length=1)


class Action(Definition):
    """One call of a function (or, with the 2021 shorthand `workflow`, of a subflow)."""

    function: str | None = None
    workflow: str | None = None
    input: TemplateField | None = None
    secrets: list[str] = []
    retries: Retries | None = None

    @model_validator(mode="after")
    def _one_target(self) -> Action:
        if (self.function is None) == (self.workflow is None):
            raise ValueError("an action names exactly one of 'function' or 'workflow'")
        return self


class Catch(Definition):
    """A catcher: a glob over error codes and where to go; no transition ends the instance complete."""

    error: str
    transition: StateId | None = None


class StateBase(Definition):
    id: StateId
    log: TemplateField | None = None
    transform: TemplateField | None = None
    transition: StateId | None = None
    catch: list[Catch] = []


class NoopState(StateBase):
    type: Literal["noop"]


class ActionState(StateBase):
    type: Literal["action"]
    action: Action
    async_: bool = Field(default=False, alias="async")
    timeout: Duration | None = None


class ParallelState(StateBase):
    type: Literal["parallel"]
    actions: list[Action] = Field(min_length=1)
    mode: Literal["and", "or"] = "and"
    timeout: Duration | None = None


class ForeachState(StateBase):
    type: Literal["foreach"]
    array: TemplateField
    action: Action
    timeout: Duration | None = None


class SwitchCondition(Definition):
    condition: TemplateField
    transition: StateId | None = None
    transform: TemplateField | None = None


class SwitchState(StateBase):
    type: Literal["switch"]
    conditions: list[SwitchCondition] = Field(min_length=1)
    defaultTransition: StateId | None = None  # the language's own spelling
    defaultTransform: TemplateField | None = None


class ValidateState(StateBase):
    type: Literal["validate"]
    subject: TemplateField | None = None
    schema_: dict[str, Any] | bool | str = Field(alias="schema")


class DelayState(StateBase):
    type: Literal["delay"]
    duration: Duration


class ErrorState(StateBase):
    type: Literal["error"]
    error: str = Field(min_length=1)
    message: str = ""
    args: list[TemplateField] = []


class GetterVariable(Definition):
    key: VariableKey
    scope: Scope = "instance"


class GetterState(StateBase):
    type: Literal["getter"]
    variables: list[GetterVariable] = Field(min_length=1)


class SetterVariable(Definition):
    key: VariableKey
    scope: Scope = "instance"
    value: TemplateField | None = None
    mimeType: str = "application/json"


class SetterState(StateBase):
    type: Literal["setter"]
    variables: list[SetterVariable] = Field(min_length=1)


class GenerateEventDefinition(Definition):
    type: str
    source: str
    data: TemplateField | None = None
    datacontenttype: str | None = None
    context: dict[str, TemplateField] = {}


class GenerateEventState(StateBase):
    type: Literal["generateEvent"]
    event: GenerateEventDefinition


class ConsumeEventDefinition(Definition):
    type: str
    context: dict[str, TemplateField] = {}


class ConsumeEventState(StateBase):
    type: Literal["consumeEvent"]
    event: ConsumeEventDefinition
    timeout: Duration | None = None


class EventXorBranch(Definition):
    event: ConsumeEventDefinition
    transition: StateId | None = None
    transform: TemplateField | None = None


class EventXorState(StateBase):
    type: Literal["eventXor"]
    events: list[EventXorBranch] = Field(min_length=1)
    timeout: Duration | None = None


class EventAndBranch(Definition):
    event: ConsumeEventDefinition


class EventAndState(StateBase):
    type: Literal["eventAnd"]
    events: list[EventAndBranch] = Field(min_length=1)
    timeout: Duration | None = None


STATE_TYPES: dict[str, type[StateBase]] = {
    "noop": NoopState,
    "action": ActionState,
    "parallel": ParallelState,
    "foreach": ForeachState,
    "switch": SwitchState,
    "validate": ValidateState,
    "delay": DelayState,
    "error": ErrorState,
    "getter": GetterState,
    "setter": SetterState,
    "generateEvent": GenerateEventState,
    "consumeEvent": ConsumeEventState,
    "eventXor": EventXorState,
    "eventAnd": EventAndState,
}


def _state_kind(value: Any) -> str | None:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return kind if kind in STATE_TYPES else None


State = Annotated[
    Annotated[NoopState, Tag("noop")]
    | Annotated[ActionState, Tag("action")]
    | Annotated[ParallelState, Tag("parallel")]
    | Annotated[ForeachState, Tag("foreach")]
    | Annotated[SwitchState, Tag("switch")]
    | Annotated[ValidateState, Tag("validate")]
    | Annotated[DelayState, Tag("delay")]
    | Annotated[ErrorState, Tag("error")]
    | Annotated[GetterState, Tag("getter")]
    | Annotated[SetterState, Tag("setter")]
    | Annotated[GenerateEventState, Tag("generateEvent")]
    | Annotated[ConsumeEventState, Tag("consumeEvent")]
    | Annotated[EventXorState, Tag("eventXor")]
    | Annotated[EventAndState, Tag("eventAnd")],
    Discriminator(
        _state_kind,
        custom_error_type="state_type",
        custom_error_message=("unknown state type; expected one of: " + ", ".join(STATE_TYPES)),
    ),
]

#: States whose `timeout` field bounds the state (workflow-language.md §6).
TimedState = (
    ActionState | ParallelState | ForeachState | ConsumeEventState | EventXorState | EventAndState
)

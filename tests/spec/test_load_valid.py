"""Definitions that load: every state type, function kind and start kind, and the parsed values."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from dirigent.spec import WorkflowDefinition, load_workflow, load_workflow_file
from dirigent.spec.functions import (
    IsolatedFunction,
    KnativeGlobalFunction,
    KnativeNamespaceFunction,
    ReusableFunction,
    SubflowFunction,
)
from dirigent.spec.states import (
    STATE_TYPES,
    ActionState,
    DelayState,
    ParallelState,
    SetterState,
    SwitchState,
)
from dirigent.spec.workflow import (
    DefaultStart,
    EventsAndStart,
    EventStart,
    EventsXorStart,
    ScheduledStart,
)

from .support import yaml

EVERYTHING = yaml(
    r"""
    # Every state type, every function kind, and most options.
    id: everything
    name: Everything
    description: every state type, function kind and option
    version: "1.0"
    singular: true
    timeouts:
      interrupt: PT10M
      kill: PT1H
    start:
      type: scheduled
      cron: '*/5 * * * *'
      state: prepare
    functions:
      - id: plain
        image: example/plain:v1
      - id: reusable
        type: reusable
        image: example/reusable:v1
        cmd: /bin/serve --fast
        size: large
        scale: 2
        files:
          - key: config
            scope: workflow
            as: config.json
      - id: isolated
        type: isolated
        image: example/isolated:v1
        size: medium
      - id: ns-service
        type: knative-namespace
        service: shared-greeter
      - id: global-service
        type: knative-global
        service: global-greeter
      - id: child
        type: subflow
        workflow: child-flow
    schemas:
      - id: person
        schema:
          type: object
          required: [name]
          properties:
            name: {type: string}
    states:
      - id: prepare
        type: noop
        log: 'starting jq(.name)'
        transform: 'jq(.count = 0)'
        transition: check
      - id: check
        type: validate
        schema: person
        catch:
          - error: direktiv.schema.*
            transition: fail
        transition: inline-check
      - id: inline-check
        type: validate
        subject: 'jq(.count)'
        schema: {type: integer, minimum: 0}
        transition: call
      - id: call
        type: action
        async: false
        timeout: PT45S
        action:
          function: reusable
          input: {name: 'jq(.name)', fixed: 1}
          secrets: [token]
          retries:
            max_attempts: 3
            delay: PT2S
            multiplier: 2
            codes: ['reusable\..*', '*']
        transition: fire
      - id: fire
        type: action
        async: true
        action:
          workflow: child-flow
        transition: fan-out
      - id: fan-out
        type: parallel
        mode: or
        timeout: PT1M
        actions:
          - function: isolated
          - function: ns-service
          - function: global-service
          - function: child
        transition: each
      - id: each
        type: foreach
        array: 'jq(.items[] | {item: .})'
        action:
          function: plain
          input: 'jq(.item)'
        transition: decide
      - id: decide
        type: switch
        conditions:
          - condition: 'jq(.count > 10)'
            transition: announce
            transform: 'jq(.big = true)'
          - condition: 'jq(.count > 5)'
            transition: pause
        defaultTransition: remember
        defaultTransform: 'jq(.small = true)'
      - id: pause
        type: delay
        duration: PT1H30M
        transition: remember
      - id: remember
        type: setter
        variables:
          - key: last
            scope: workflow
            value: 'jq(.count)'
          - key: raw
            mimeType: text/plain
            value: hello
        transition: recall
      - id: recall
        type: getter
        variables:
          - key: last
            scope: workflow
          - key: shared
            scope: namespace
        transition: announce
      - id: announce
        type: generateEvent
        event:
          type: com.example.done
          source: everything
          data: 'jq(.var)'
          datacontenttype: application/json
          context:
            subject: 'jq(.name)'
        transition: wait
      - id: wait
        type: consumeEvent
        timeout: PT5M
        event:
          type: com.example.reply
          context:
            subject: 'jq(.name)'
        transition: either
      - id: either
        type: eventXor
        timeout: PT10M
        events:
          - event:
              type: com.example.yes
            transition: both
            transform: 'jq(.answer = "yes")'
          - event:
              type: com.example.no
            transition: fail
      - id: both
        type: eventAnd
        timeout: PT15M
        events:
          - event: {type: com.example.a}
          - event:
              type: com.example.b
              context: {source: 'jq(.origin)'}
      - id: fail
        type: error
        error: everything.failed
        message: 'failed at %s with %v'
        args: ['jq(.error.code)', 'jq(.count)']
    """
)


@pytest.fixture(scope="module")
def everything() -> WorkflowDefinition:
    return load_workflow(EVERYTHING, "everything.yaml")


def test_every_state_type_loads_in_order(everything: WorkflowDefinition) -> None:
    assert list(everything.states) == [
        "prepare", "check", "inline-check", "call", "fire", "fan-out", "each", "decide",
        "pause", "remember", "recall", "announce", "wait", "either", "both", "fail",
    ]  # fmt: skip
    assert {type(state) for state in everything.states.values()} == set(STATE_TYPES.values())
    assert everything.warnings == []
    assert everything.start_state == "prepare"
    assert everything.file == "everything.yaml"
    assert everything.source == EVERYTHING
    assert everything.workflow.id == everything.id == "everything"


def test_workflow_fields(everything: WorkflowDefinition) -> None:
    workflow = everything.workflow
    assert (workflow.name, workflow.version, workflow.singular) == ("Everything", "1.0", True)
    assert workflow.timeouts is not None
    assert workflow.timeouts.interrupt == timedelta(minutes=10)
    assert workflow.timeouts.kill == timedelta(hours=1)
    assert isinstance(workflow.start, ScheduledStart)
    assert workflow.start.cron == "*/5 * * * *"


def test_every_function_kind(everything: WorkflowDefinition) -> None:
    functions = everything.functions
    assert list(functions) == [
        "plain",
        "reusable",
        "isolated",
        "ns-service",
        "global-service",
        "child",
    ]
    plain = functions["plain"]
    # A function without `type` is reusable, with the defaults.
    assert isinstance(plain, ReusableFunction)
    assert (plain.type, plain.size, plain.scale, plain.cmd, plain.files) == (
        "reusable",
        "small",
        0,
        None,
        [],
    )
    reusable = functions["reusable"]
    assert isinstance(reusable, ReusableFunction)
    assert (reusable.cmd, reusable.size, reusable.scale) == ("/bin/serve --fast", "large", 2)
    assert reusable.files[0].file_name == "config.json"
    assert (reusable.files[0].scope, reusable.files[0].type) == ("workflow", "plain")
    isolated = functions["isolated"]
    assert isinstance(isolated, IsolatedFunction)
    assert isolated.size == "medium"
    assert isinstance(functions["ns-service"], KnativeNamespaceFunction)
    assert isinstance(functions["global-service"], KnativeGlobalFunction)
    assert functions["global-service"].service == "global-greeter"
    child = functions["child"]
    assert isinstance(child, SubflowFunction)
    assert child.workflow == "child-flow"


def test_actions_and_durations(everything: WorkflowDefinition) -> None:
    call = everything.states["call"]
    assert isinstance(call, ActionState)
    assert (call.async_, call.timeout) == (False, timedelta(seconds=45))
    assert call.action.function == "reusable"
    assert call.action.secrets == ["token"]
    assert call.action.input is not None
    assert call.action.input.evaluate({"name": "Ada"}) == {"name": "Ada", "fixed": 1}
    retries = call.action.retries
    assert retries is not None
    assert (retries.max_attempts, retries.delay, retries.multiplier) == (
        3,
        timedelta(seconds=2),
        2.0,
    )
    assert retries.codes == [r"reusable\..*", "*"]
    fire = everything.states["fire"]
    assert isinstance(fire, ActionState)
    # The 2021 shorthand for a subflow.
    assert (fire.async_, fire.action.workflow, fire.action.function) == (True, "child-flow", None)
    pause = everything.states["pause"]
    assert isinstance(pause, DelayState)
    assert pause.duration == timedelta(hours=1, minutes=30)
    fan_out = everything.states["fan-out"]
    assert isinstance(fan_out, ParallelState)
    assert fan_out.mode == "or"
    assert [a.function for a in fan_out.actions] == [
        "isolated",
        "ns-service",
        "global-service",
        "child",
    ]


def test_defaults(everything: WorkflowDefinition) -> None:
    prepare = everything.states["prepare"]
    assert prepare.catch == []
    decide = everything.states["decide"]
    assert isinstance(decide, SwitchState)
    assert decide.defaultTransition == "remember"
    assert decide.conditions[1].transform is None
    remember = everything.states["remember"]
    assert isinstance(remember, SetterState)
    raw = remember.variables[1]
    assert (raw.scope, raw.mimeType) == ("instance", "text/plain")
    assert remember.variables[0].mimeType == "application/json"
    fail = everything.states["fail"]
    assert fail.transition is None


def test_validate_schemas_are_compiled(everything: WorkflowDefinition) -> None:
    assert set(everything.schemas) == {"check", "inline-check"}
    named = everything.schemas["check"]
    assert named.is_valid({"name": "Ada"})
    assert not named.is_valid({"name": 5})
    assert not named.is_valid({})
    inline = everything.schemas["inline-check"]
    assert inline.is_valid(3)
    assert not inline.is_valid(-1)


def test_states_with_the_same_named_schema_share_its_validator() -> None:
    definition = load_workflow(
        yaml(
            """
            id: shared
            schemas:
              - id: thing
                schema: {type: object}
            states:
              - id: a
                type: validate
                schema: thing
                transition: b
              - id: b
                type: validate
                schema: thing
            """
        )
    )
    assert definition.schemas["a"] is definition.schemas["b"]


START = "states:\n  - id: first\n    type: noop\n    transition: second\n  - id: second\n    type: noop\n"


@pytest.mark.parametrize(
    ("start", "kind", "state"),
    [
        ("", DefaultStart, "first"),
        ("start:\n  state: second\n", DefaultStart, "second"),
        ("start:\n  type: default\n", DefaultStart, "first"),
        ("start:\n  type: scheduled\n  cron: '@every 1h'\n", ScheduledStart, "first"),
        (
            "start:\n  type: event\n  state: second\n  event:\n    type: com.example.go\n"
            "    filters: {source: 'billing-*'}\n",
            EventStart,
            "second",
        ),
        (
            "start:\n  type: eventsXor\n  events:\n    - type: a\n    - type: b\n",
            EventsXorStart,
            "first",
        ),
        (
            "start:\n  type: eventsAnd\n  lifespan: PT1H\n  correlate: [subject]\n"
            "  events:\n    - type: a\n    - type: b\n",
            EventsAndStart,
            "first",
        ),
    ],
)
def test_start_kinds(start: str, kind: type, state: str) -> None:
    definition = load_workflow(f"id: starts\n{start}{START}")
    workflow = definition.workflow
    if start:
        assert isinstance(workflow.start, kind)
    else:
        assert workflow.start is None
    assert definition.start_state == state
    # With `start.state: second`, `first` cannot be reached; otherwise everything can.
    assert [w.message for w in definition.warnings] == (
        ["state 'first' is unreachable from the start state"] if state == "second" else []
    )


def test_events_and_start_values() -> None:
    definition = load_workflow(
        "id: starts\nstart:\n  type: eventsAnd\n  lifespan: PT1H\n  correlate: [subject]\n"
        "  events:\n    - type: a\n      filters: {source: x}\n    - type: b\n" + START
    )
    start = definition.workflow.start
    assert isinstance(start, EventsAndStart)
    assert start.lifespan == timedelta(hours=1)
    assert start.correlate == ["subject"]
    assert start.events[0].filters == {"source": "x"}


def test_bytes_and_files(tmp_path: Path) -> None:
    text = "id: tiny\nstates:\n  - id: only\n    type: noop\n    log: 'grüße'\n"
    from_bytes = load_workflow(("\ufeff" + text).encode("utf-8"))
    assert from_bytes.source == text
    assert from_bytes.file == "<workflow>"
    path = tmp_path / "tiny.yaml"
    path.write_text(text, encoding="utf-8")
    from_file = load_workflow_file(path)
    assert from_file.file == str(path)
    assert list(from_file.states) == ["only"]
    assert from_file.states["only"].log is not None
    assert from_file.states["only"].log.source == "grüße"


def test_repository_examples_load() -> None:
    root = Path(__file__).resolve().parents[2]
    examples = sorted((root / "examples").glob("*/*.yaml"))
    assert examples
    for path in examples:
        definition = load_workflow_file(path)
        assert definition.warnings == [], path

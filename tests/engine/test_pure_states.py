"""States that need no function: noop, switch, validate, delay, error, getter/setter, transforms, catch."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from dirigent.engine import Entered, Instance, Start, Status, advance
from dirigent.spec import load_workflow
from dirigent.store.records import Variable, VariableRef
from tests.engine.harness import open_harness


async def test_noop_chain_transforms_logs_and_output() -> None:
    flow = """
id: chain
states:
  - id: a
    type: noop
    log: 'jq(.x)'
    transform: 'jq(.x += 1)'
    transition: b
  - id: b
    type: noop
    log: 'x is now jq(.x)'
    transform: 'jq({y: (.x * 10)})'
"""
    async with open_harness(flow) as h:
        instance = await h.run("chain", {"x": 1})
        assert instance.status is Status.COMPLETE
        assert instance.output == {"y": 20}
        log = h.log(instance.id)
        assert "1" in log
        assert "x is now 2" in log
        assert log.index("entering state 'a' (noop)") < log.index("entering state 'b' (noop)")


@pytest.mark.parametrize(
    ("raw", "data"),
    [
        (b'{"a": 1}', {"a": 1}),
        (b"[1, 2]", {"input": [1, 2]}),
        (b"42", {"input": 42}),
        (b'"text"', {"input": "text"}),
        (b"not json \xff", {"input": base64.b64encode(b"not json \xff").decode()}),
        (b"", {"input": ""}),
    ],
)
async def test_start_input_becomes_data(raw: bytes, data: object) -> None:
    async with open_harness("id: keep\nstates:\n  - id: s\n    type: noop\n") as h:
        instance = await h.run("keep", raw)
        assert instance.output == data


SWITCH = """
id: route
states:
  - id: decide
    type: switch
    conditions:
      - condition: 'jq(.v)'
        transition: truthy
        transform: 'jq(.branch = "first")'
      - condition: 'jq(.fallback)'
        transition: fallback
    defaultTransition: falsy
    defaultTransform: 'jq(.branch = "default")'
  - id: truthy
    type: noop
    transform: 'jq(.went = "truthy")'
  - id: fallback
    type: noop
    transform: 'jq(.went = "fallback")'
  - id: falsy
    type: noop
    transform: 'jq(.went = "falsy")'
"""


@pytest.mark.parametrize(
    ("value", "went"),
    [
        (True, "truthy"),
        (1, "truthy"),
        (-0.5, "truthy"),
        ("x", "truthy"),
        ([0], "truthy"),
        ({"a": None}, "truthy"),
        (False, "falsy"),
        (0, "falsy"),
        ("", "falsy"),
        ([], "falsy"),
        ({}, "falsy"),
        (None, "falsy"),
    ],
)
async def test_switch_truthiness(value: object, went: str) -> None:
    async with open_harness(SWITCH) as h:
        instance = await h.run("route", {"v": value})
        assert instance.output["went"] == went
        assert instance.output["branch"] == ("first" if went == "truthy" else "default")


async def test_switch_takes_first_match_in_order() -> None:
    async with open_harness(SWITCH) as h:
        instance = await h.run("route", {"v": 0, "fallback": True})
        assert instance.output["went"] == "fallback"
        assert "branch" not in instance.output


async def test_switch_without_match_or_default_ends() -> None:
    flow = """
id: stop
states:
  - id: decide
    type: switch
    conditions:
      - condition: 'jq(.go)'
        transition: next
  - id: next
    type: noop
    transform: 'jq(.reached = true)'
"""
    async with open_harness(flow) as h:
        instance = await h.run("stop", {"go": False})
        assert instance.status is Status.COMPLETE
        assert instance.output == {"go": False}


async def test_switch_jq_error_is_catchable_bad_command() -> None:
    flow = """
id: bad
states:
  - id: decide
    type: switch
    conditions:
      - condition: 'jq(.s | tonumber)'
        transition: never
    catch:
      - error: direktiv.jq.badCommand
        transition: caught
  - id: never
    type: noop
  - id: caught
    type: noop
"""
    async with open_harness(flow) as h:
        instance = await h.run("bad", {"s": "abc"})
        assert instance.status is Status.COMPLETE
        assert instance.output["error"]["code"] == "direktiv.jq.badCommand"
        assert instance.output["error"]["msg"]


VALIDATE = """
id: check
schemas:
  - id: person
    schema:
      type: object
      required: [name, age]
      properties:
        name: {type: string}
        age: {type: integer, minimum: 0}
states:
  - id: whole
    type: validate
    schema: person
    transition: part
  - id: part
    type: validate
    subject: 'jq(.tags)'
    schema:
      type: array
      items: {type: string}
"""


async def test_validate_passes_named_and_inline_schemas() -> None:
    async with open_harness(VALIDATE) as h:
        instance = await h.run("check", {"name": "a", "age": 3, "tags": ["x"]})
        assert instance.status is Status.COMPLETE


async def test_validate_failure_lists_every_violation() -> None:
    async with open_harness(VALIDATE) as h:
        instance = await h.run("check", {"name": 5, "age": -1})
        assert instance.status is Status.FAILED
        assert instance.error is not None
        assert instance.error.code == "direktiv.schema.failed"
        assert instance.error.message.startswith("2 violation(s): ")
        assert "age: -1 is less than the minimum of 0" in instance.error.message
        assert "name: 5 is not of type 'string'" in instance.error.message


async def test_validate_subject_template() -> None:
    async with open_harness(VALIDATE) as h:
        instance = await h.run("check", {"name": "a", "age": 1, "tags": [1]})
        assert instance.error is not None
        assert instance.error.message == "1 violation(s): 0: 1 is not of type 'string'"


async def test_delay_waits_for_its_timer() -> None:
    flow = """
id: wait
states:
  - id: pause
    type: delay
    duration: PT10M
    transition: after
  - id: after
    type: noop
    transform: 'jq(.done = true)'
"""
    async with open_harness(flow) as h:
        instance = await h.start("wait", {})
        await h.clock.advance(599)
        stored = await h.runtime.get(instance.id)
        assert stored.status is Status.PENDING
        assert stored.state == "pause"
        await h.clock.advance(1)
        final = await h.finish(instance.id)
        assert final.output == {"done": True}


ERRORS = """
id: oops
states:
  - id: fail
    type: error
    error: app.bad
    message: 'bad %s, count %d, extra %v'
    args: ['jq(.who)', 'jq(.n)', 'jq(.obj)']
    transform: 'jq(.cleaned = true)'
    transition: cleanup
  - id: cleanup
    type: noop
    transform: 'jq(.cleanup_ran = true)'
"""


async def test_error_state_fails_after_cleanup() -> None:
    async with open_harness(ERRORS) as h:
        instance = await h.run("oops", {"who": "bob", "n": 3, "obj": {"k": [1]}})
        assert instance.status is Status.FAILED
        assert instance.error is not None
        assert instance.error.code == "app.bad"
        assert instance.error.message == 'bad bob, count 3, extra {"k":[1]}'
        assert instance.output["cleaned"] is True
        assert instance.output["cleanup_ran"] is True


async def test_second_error_state_raises_multiple_errors() -> None:
    flow = """
id: twice
states:
  - id: first
    type: error
    error: app.first
    transition: second
  - id: second
    type: error
    error: app.second
    catch:
      - error: direktiv.workflow.multipleErrors
        transition: handled
  - id: handled
    type: noop
"""
    async with open_harness(flow) as h:
        instance = await h.run("twice", {})
        # The catch handled the second error; the first one still fails the instance at the end.
        assert instance.output["error"]["code"] == "direktiv.workflow.multipleErrors"
        assert instance.status is Status.FAILED
        assert instance.error is not None
        assert instance.error.code == "app.first"


@pytest.mark.parametrize(
    ("pattern", "caught"),
    [
        ("direktiv.jq.notObject", True),
        ("direktiv.*", True),
        ("*", True),
        ("*.notObject", True),
        ("direktiv.jq", False),  # anchored: a prefix is not a match
        ("jq.notObject", False),
        ("direktiv.jq.notObjec", False),
    ],
)
async def test_catch_globs_are_anchored(pattern: str, caught: bool) -> None:
    flow = f"""
id: globs
states:
  - id: bad
    type: noop
    transform: 'jq(.list)'
    catch:
      - error: '{pattern}'
        transition: handled
  - id: handled
    type: noop
"""
    async with open_harness(flow) as h:
        instance = await h.run("globs", {"list": [1]})
        if caught:
            assert instance.status is Status.COMPLETE
            assert instance.output["error"] == {
                "code": "direktiv.jq.notObject",
                "msg": "transform must produce an object, not an array",
            }
        else:
            assert instance.status is Status.FAILED
            assert instance.error is not None
            assert instance.error.code == "direktiv.jq.notObject"


async def test_catch_without_transition_completes() -> None:
    flow = """
id: swallow
states:
  - id: bad
    type: noop
    transform: 'jq(error("nope"))'
    catch:
      - error: '*'
"""
    async with open_harness(flow) as h:
        instance = await h.run("swallow", {"a": 1})
        assert instance.status is Status.COMPLETE
        assert instance.output["a"] == 1
        assert instance.output["error"]["code"] == "direktiv.jq.badCommand"


async def test_identity_and_empty_transforms_keep_data() -> None:
    flow = """
id: same
states:
  - id: a
    type: noop
    transform: 'jq(.)'
    transition: b
  - id: b
    type: noop
    transform: ''
"""
    async with open_harness(flow) as h:
        instance = await h.run("same", {"k": "v"})
        assert instance.output == {"k": "v"}


VARIABLES = """
id: vars
states:
  - id: write
    type: setter
    variables:
      - key: counter
        scope: workflow
        value: 'jq(.n)'
      - key: note
        scope: namespace
        value: 'hello jq(.n)'
        mimeType: text/plain
      - key: mine
        scope: instance
        value: {a: 'jq(.n)'}
      - key: gone
        scope: workflow
        value: 'jq(null)'
    transition: read
  - id: read
    type: getter
    variables:
      - key: counter
        scope: workflow
      - key: note
        scope: namespace
      - key: mine
      - key: gone
        scope: workflow
      - key: binary
        scope: namespace
"""


async def test_setter_and_getter_all_scopes() -> None:
    async with open_harness(VARIABLES) as h:
        binary = VariableRef("namespace", "binary", "local")
        await h.store.set_variable(binary, Variable(b"\x00\x01", "application/octet-stream"))
        gone = VariableRef("workflow", "gone", "local", "vars")
        await h.store.set_variable(gone, Variable(b"1", "application/json"))
        instance = await h.run("vars", {"n": 7})
        assert instance.status is Status.COMPLETE
        assert instance.output["var"] == {
            "counter": 7,
            "note": base64.b64encode(b"hello 7").decode(),  # stored as text/plain, not JSON
            "mine": {"a": 7},
            "gone": None,
            "binary": base64.b64encode(b"\x00\x01").decode(),
        }
        stored = h.store.variables()
        assert stored[VariableRef("workflow", "counter", "local", "vars")] == Variable(
            b"7", "application/json"
        )
        assert stored[VariableRef("namespace", "note", "local")] == Variable(
            b"hello 7", "text/plain"
        )
        assert gone not in stored  # null deleted it
        # The instance scope ends with the instance.
        assert not [r for r in stored if r.scope == "instance"]


async def test_generate_event_emits_cloudevent() -> None:
    flow = """
id: emit
states:
  - id: send
    type: generateEvent
    event:
      type: order.created
      source: shop
      data: 'jq({id: .id})'
      context:
        Subject: 'order-jq(.id)'
        count: 'jq(.n)'
"""
    async with open_harness(flow) as h:
        instance = await h.run("emit", {"id": 9, "n": 2})
        assert instance.status is Status.COMPLETE
        ((namespace, event),) = h.engine.events.events
        assert namespace == "local"
        assert event["type"] == "order.created"
        assert event["source"] == "shop"
        assert event["specversion"] == "1.0"
        assert event["data"] == {"id": 9}
        assert event["datacontenttype"] == "application/json"
        assert event["subject"] == "order-9"
        assert event["count"] == "2"
        assert event["id"]


async def test_generate_event_binary_payload_from_base64() -> None:
    flow = """
id: emitbin
states:
  - id: send
    type: generateEvent
    event:
      type: blob
      source: test
      datacontenttype: application/octet-stream
      data: 'jq(.b64)'
"""
    async with open_harness(flow) as h:
        payload = base64.b64encode(b"\x01\x02raw").decode()
        await h.run("emitbin", {"b64": payload})
        ((_, event),) = h.engine.events.events
        assert event["data_base64"] == payload
        assert "data" not in event
        assert event["datacontenttype"] == "application/octet-stream"


async def test_many_pure_states_in_a_loop_yield_and_finish() -> None:
    flow = """
id: loop
states:
  - id: step
    type: switch
    conditions:
      - condition: 'jq(.i < 2500)'
        transition: step
        transform: 'jq(.i += 1)'
"""
    async with open_harness(flow) as h:
        instance = await h.run("loop", {"i": 0})
        assert instance.status is Status.COMPLETE
        assert instance.output == {"i": 2500}


def test_start_delivered_twice_starts_once() -> None:
    # A claim can hand over a trigger that a commit consumed a moment before: triggers must be idempotent.
    definition = load_workflow(
        "id: once\nstates:\n  - id: a\n    type: delay\n    duration: PT1M\n"
    )
    now = datetime.now(UTC)
    instance = Instance("local/once/x", "local", "once", 0, {}, {}, now)
    first = advance(definition, instance, Start(), now)
    assert [e for e in first if isinstance(e, Entered)] == [Entered("a")]
    assert advance(definition, instance, Start(), now) == []
    assert instance.visit == 1

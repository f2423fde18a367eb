"""Event states: generateEvent emits a CloudEvent; consumeEvent, eventXor and eventAnd wait for events.

A waiting state evaluates its `context` templates when it is entered and asks the runtime for the
events it waits for (`WaitForEvents`); the runtime keeps those waits in the store, so a waiting
instance holds no memory, and delivers each matching event as `EventReceived`. The state's `timeout`
(default: the state timeout of `Limits`) is a deadline timer: passing it is a catchable
`direktiv.cancels.timeout`.

Where an event lands in the data (workflow-language.md §3): its payload at `.<type>`, its context
attributes (id, source, subject, time, extensions, …) at `.cloudevents.<type>`.
"""

from __future__ import annotations

import base64
import binascii
import uuid

from dirigent.engine import effects as fx
from dirigent.engine.matching import as_text
from dirigent.engine.step import Turn
from dirigent.engine.triggers import EventReceived
from dirigent.errors import Code, WorkflowError
from dirigent.spec.states import (
    ConsumeEventDefinition,
    ConsumeEventState,
    EventAndState,
    EventXorState,
    GenerateEventState,
)
from dirigent.types import JSONObject

WaitingState = ConsumeEventState | EventXorState | EventAndState

#: Where the context attributes of received events go in the data, by event type.
CONTEXT_KEY = "cloudevents"

#: Ids of generated events are derived from the instance and its visit: a step that runs again
#: after a crash emits the same id, so the namespace receives the event once.
_EVENT_IDS = uuid.UUID("5d1b9a7e-3f0c-4c53-9a55-6f1c2f0e8a41")


def enter_generate_event(turn: Turn, state: GenerateEventState) -> None:
    spec = state.event
    data = turn.evaluate(spec.data)
    instance = turn.instance
    event: JSONObject = {
        "specversion": "1.0",
        "id": str(uuid.uuid5(_EVENT_IDS, f"{instance.id}:{instance.visit}")),
        "type": spec.type,
        "source": spec.source,
        "time": turn.now.isoformat(),
    }
    content_type = spec.datacontenttype
    if content_type and "json" not in content_type and isinstance(data, str):
        try:
            # Non-JSON content carried as base64 in the data: the decoded bytes are the payload.
            event["data_base64"] = base64.b64encode(base64.b64decode(data, validate=True)).decode()
        except binascii.Error:
            event["data"] = data
    else:
        event["data"] = data
    event["datacontenttype"] = content_type or "application/json"
    for key, template in spec.context.items():
        event[key.lower()] = as_text(template.evaluate(instance.data))
    turn.emit(fx.EmitEvent(event))
    turn.complete(state.transition)


def definitions(state: WaitingState) -> list[ConsumeEventDefinition]:
    """The events a waiting state waits for, by index."""
    if isinstance(state, ConsumeEventState):
        return [state.event]
    return [entry.event for entry in state.events]


def enter_waiting(turn: Turn, state: WaitingState) -> None:
    data = turn.instance.data
    waits = []
    for index, spec in enumerate(definitions(state)):
        context = {key.lower(): as_text(t.evaluate(data)) for key, t in spec.context.items()}
        waits.append(fx.EventWait(turn.timer_id(str(index)), spec.type, context))
    timeout = turn.limits.state_timeout if state.timeout is None else state.timeout
    turn.set_timer(turn.timer_id("deadline"), turn.now + timeout)
    turn.instance.received_events = {}
    turn.emit(fx.WaitForEvents(tuple(waits)))


def on_event(turn: Turn, state: WaitingState, event: EventReceived) -> None:
    """An event for wait `event.key` arrived; one for a past visit, or a second one for the same
    index, is ignored (the first that arrived wins)."""
    received = turn.instance.received_events
    visit, _, index = event.key.partition(":")
    wanted = definitions(state)
    if (
        received is None
        or visit != str(turn.instance.visit)
        or not index.isdigit()
        or int(index) >= len(wanted)
        or index in received
    ):
        return
    received[index] = {"type": event.type, "payload": event.payload, "context": event.context}
    if isinstance(state, EventAndState):
        if len(received) < len(wanted):
            return  # the record keeps what arrived; the step's commit makes it durable
        for position in sorted(received, key=int):
            _store(turn, received[position])
        turn.complete(state.transition)
        return
    _store(turn, received[index])
    if isinstance(state, EventXorState):
        entry = state.events[int(index)]
        turn.complete(entry.transition, entry.transform)
    else:
        turn.complete(state.transition)


def on_deadline(turn: Turn, state: WaitingState) -> None:
    timeout = turn.limits.state_timeout if state.timeout is None else state.timeout
    turn.fail_state(
        WorkflowError(
            Code.CANCELS_TIMEOUT,
            f"state '{state.id}' timed out after {timeout.total_seconds():g}s waiting for events",
        )
    )


def _store(turn: Turn, event: JSONObject) -> None:
    """The payload at `.<type>`, the context attributes at `.cloudevents.<type>`."""
    data = turn.instance.data
    data[event["type"]] = event["payload"]
    found = data.get(CONTEXT_KEY)
    # A new dict: the engine never mutates nested values, so a shallow copy of the data is a snapshot.
    contexts = dict(found) if isinstance(found, dict) else {}
    contexts[event["type"]] = event["context"]
    data[CONTEXT_KEY] = contexts

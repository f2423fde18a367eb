"""Event states: generateEvent emits a CloudEvent; the waiting states need an event source."""

from __future__ import annotations

import base64
import binascii
import uuid

from dirigent.engine import effects as fx
from dirigent.engine.matching import as_text
from dirigent.engine.step import Turn
from dirigent.errors import Code, WorkflowError
from dirigent.spec.states import (
    ConsumeEventState,
    EventAndState,
    EventXorState,
    GenerateEventState,
)
from dirigent.types import JSONObject


def enter_generate_event(turn: Turn, state: GenerateEventState) -> None:
    spec = state.event
    data = turn.evaluate(spec.data)
    event: JSONObject = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
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
        event[key.lower()] = as_text(template.evaluate(turn.instance.data))
    turn.emit(fx.EmitEvent(event))
    turn.complete(state.transition)


def enter_waiting(turn: Turn, state: ConsumeEventState | EventXorState | EventAndState) -> None:
    raise WorkflowError(
        Code.INTERNAL,
        f"state '{state.id}' waits for events, which this engine cannot receive yet "
        "(event intake comes with the Dirigent server)",
        catchable=False,
    )

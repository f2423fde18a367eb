"""The states an instance went through, read from its log: when each was entered and left, which
log lines belong to it, the error it caught or ended with, and the data where the store has it.

The engine logs `entering state '<id>' (<type>)` each time it enters a state; every later line
attributed to that state (its `log:`, function logs, retries, `caught …`) belongs to that visit
(function lines that arrive late still go to the state's latest visit). A visit lasts until the
next one begins, or until the instance ended. The log may run ahead of the record it is read with
(a step committed in between): then the record tells nothing about the last visit.

A visit's `input` is the data its entering line keeps (the engine keeps it up to
`Limits.logged_input_bytes`; larger inputs are not kept), and for the first visit the start data. Its
`output` is the next visit's input (the data after the state's transform), and for the last visit
of an instance that ended, the final data.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import orjson

from dirigent.engine import Instance
from dirigent.errors import WorkflowError
from dirigent.store.records import LogEntry
from dirigent.types import JSON

_ENTERING = re.compile(r"^entering state '(?P<state>.*)' \((?P<type>\w+)\)$")
_CAUGHT = re.compile(r"^caught (?P<code>\S+): (?P<message>.*)$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Data:
    """A JSON value that is known (it may be null)."""

    value: JSON


@dataclass(slots=True)
class Visit:
    """One entry into a state. `left_at` is None while the instance is in it; `lines` are the
    indexes of its log lines (the entering line first); `caught` tells whether `error` was caught
    by the state's `catch` (else the instance ended with it)."""

    state: str
    type: str
    entered_at: datetime
    left_at: datetime | None = None
    lines: list[int] = field(default_factory=list)
    error: WorkflowError | None = None
    caught: bool = False
    input: Data | None = None
    output: Data | None = None


def instance_visits(instance: Instance, log: Sequence[LogEntry]) -> list[Visit]:
    """The visits of `instance`, in order, from its log (the whole log, oldest line first)."""
    visits: list[Visit] = []
    latest: dict[str, Visit] = {}
    for index, entry in enumerate(log):
        entering = _ENTERING.match(entry.message)
        if entering and entering["state"] == entry.state:
            if visits:
                visits[-1].left_at = entry.time
            visit = Visit(entering["state"], entering["type"], entry.time, lines=[index])
            if "input" in entry.extra:
                visit.input = Data(orjson.loads(entry.extra["input"]))
                if visits:
                    visits[-1].output = visit.input
            visits.append(visit)
            latest[visit.state] = visit
            continue
        owner = latest.get(entry.state or "") or (visits[-1] if visits else None)
        if owner is None:
            continue
        owner.lines.append(index)
        caught = _CAUGHT.match(entry.message)
        if caught:
            owner.error = WorkflowError(caught["code"], caught["message"])
            owner.caught = True
    if not visits:
        return visits
    visits[0].input = visits[0].input or Data(instance.input)
    last = visits[-1]
    if last.state != instance.state:
        return visits  # the log went on past the record that was read: nothing more is known
    if instance.done:
        # The end's time is read before the log lines' (one step): never before the entry.
        ended = instance.ended_at
        last.left_at = max(ended, last.entered_at) if ended else last.entered_at
        last.output = Data(instance.output)
        if instance.error is not None and not last.caught:
            last.error = instance.error
    else:
        last.input = last.input or Data(instance.data)
    return visits

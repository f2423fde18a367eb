"""Which definitions an event matches (workflow-language.md §7.2), and how `eventsAnd` correlates.

An event matches a definition when its `type` is equal and every filter (start `filters`, waiting
states' `context`) matches the attribute of that (lower-cased) name: the filter value is a glob where
`*` matches any run of characters, compared with the attribute's whole string value. A missing
attribute does not match. The glob rule is the one of catch patterns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import orjson

from dirigent.engine.matching import glob_matches
from dirigent.events.cloudevent import Event
from dirigent.types import JSONObject


@dataclass(frozen=True, slots=True)
class EventFilter:
    """An event type and globs on context attributes (keys lower case)."""

    type: str
    context: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, type_: str, context: Mapping[str, str]) -> EventFilter:
        """A filter with its attribute names lower-cased (the language's keys are any case)."""
        return cls(type_, {name.lower(): pattern for name, pattern in context.items()})

    def matches(self, event: Event) -> bool:
        if event.type != self.type:
            return False
        for name, pattern in self.context.items():
            value = event.text(name)
            if value is None or not glob_matches(pattern, value):
                return False
        return True

    def to_json(self) -> JSONObject:
        return {"type": self.type, "context": dict(self.context)}

    @classmethod
    def from_json(cls, value: JSONObject) -> EventFilter:
        return cls(value["type"], dict(value["context"]))


def correlation_key(event: Event, attributes: Sequence[str]) -> str | None:
    """The values of the correlated attributes, as one key; None when the event lacks one of them
    (it cannot be correlated, so it joins no group)."""
    values = []
    for name in attributes:
        value = event.text(name.lower())
        if value is None:
            return None
        values.append(value)
    return orjson.dumps(values).decode()

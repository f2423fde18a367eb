"""CloudEvents: parsing and validating them (structured and binary HTTP mode, spec 1.0 and 0.3), and
matching them against the event definitions of workflows. Pure: no I/O beyond what it is given."""

from dirigent.events.cloudevent import Event, is_json_type
from dirigent.events.matching import EventFilter, correlation_key
from dirigent.events.parsing import InvalidEvent, parse_binary, parse_event, parse_http

__all__ = [
    "Event",
    "EventFilter",
    "InvalidEvent",
    "correlation_key",
    "is_json_type",
    "parse_binary",
    "parse_event",
    "parse_http",
]

"""Pydantic field types of the language: templates, durations, cron expressions, ids and regexes.

Each field type validates (and compiles) its value while the definition loads, so an error carries the
location of the field, and the engine never parses a definition string again.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

import isodate
from croniter import croniter
from pydantic import (
    BeforeValidator,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)

from dirigent.jq import Template

WORKFLOW_ID_PATTERN = r"^[a-z]([a-z0-9_-]*[a-z0-9])?$"
STATE_ID_PATTERN = r"^[a-zA-Z0-9._-]+$"
VARIABLE_KEY_PATTERN = r"^[a-zA-Z]([a-zA-Z0-9_-]*[a-zA-Z0-9])?$"

WorkflowId = Annotated[str, StringConstraints(pattern=WORKFLOW_ID_PATTERN, max_length=64)]
StateId = Annotated[str, StringConstraints(pattern=STATE_ID_PATTERN)]
VariableKey = Annotated[str, StringConstraints(pattern=VARIABLE_KEY_PATTERN)]


def _compile_template(value: Any) -> Template:
    if isinstance(value, Template):
        return value
    if isinstance(value, dict) and len(value) == 1:
        (key, item) = next(iter(value.items()))
        if isinstance(key, str) and key.lstrip().startswith("jq("):
            # `jq({a: .b})` unquoted on a line of its own is the map {"jq({a": ".b})"}.
            written = key if item is None else f"{key}: {item}"
            raise ValueError(
                "this jq(...) was read as a YAML map because it is not quoted; "
                f"write it in quotes: '{written}'"
            )
    # A TemplateSyntaxError is a ValueError: pydantic reports it at this field, and the loader
    # reads its `path` to point inside the template.
    return Template.compile(value)


#: A JSON value in which strings may hold `jq(...)`; compiled at load (workflow-language.md §2).
TemplateField = Annotated[
    Template,
    BeforeValidator(_compile_template),
    PlainSerializer(lambda t: t.source),
    WithJsonSchema({"description": "a value; strings may contain jq(...) templates"}),
]


_NUMBER = r"\d+(?:[.,]\d+)?"
#: ISO 8601 durations without years and months: weeks, days, then T and hours, minutes, seconds.
DURATION_PATTERN = (
    rf"^P(?=\d|T\d)(?:{_NUMBER}W)?(?:{_NUMBER}D)?"
    rf"(?:T(?=\d)(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:{_NUMBER}S)?)?$"
)
_DURATION = re.compile(DURATION_PATTERN)


def parse_duration(value: Any) -> timedelta:
    """Parse an ISO 8601 duration (`PT5S`, `P1D`, `PT1H30M`) into a timedelta."""
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise ValueError("a duration is an ISO 8601 string such as PT30S")
    bad = f"not an ISO 8601 duration: {value!r} (examples: PT30S, PT5M, P1D)"
    try:
        parsed = isodate.parse_duration(value)
    except (isodate.ISO8601Error, ValueError):
        raise ValueError(bad) from None
    if not isinstance(parsed, timedelta):
        # Durations with years or months have no fixed length; days are the largest fixed unit.
        raise ValueError(f"duration {value!r} uses years or months; use days (P30D) instead")
    if not _DURATION.match(value):
        # isodate also takes `PT` and `P1DT`; the JSON Schema for editors has this same pattern.
        raise ValueError(bad)
    if parsed < timedelta(0):
        raise ValueError(f"duration {value!r} is negative")
    return parsed


def _format_duration(value: timedelta) -> str:
    return str(isodate.duration_isoformat(value))


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(_format_duration),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": DURATION_PATTERN,
            "description": "ISO 8601 duration, e.g. PT30S",
        }
    ),
]

_EVERY = re.compile(r"^@every\s+(?P<n>\d+)(?P<unit>[smhd])$")
_SHORTHANDS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}


def check_cron(value: Any) -> str:
    """Accept a 5-field cron expression, an `@hourly`-style shorthand, or `@every <n><s|m|h|d>`."""
    if not isinstance(value, str):
        raise ValueError("cron must be a string")
    text = value.strip()
    if text in _SHORTHANDS or _EVERY.match(text):
        return text
    if len(text.split()) != 5 or not croniter.is_valid(text):
        raise ValueError(f"not a 5-field cron expression: {value!r} (example: '*/5 * * * *')")
    return text


Cron = Annotated[
    str,
    BeforeValidator(check_cron),
    WithJsonSchema({"type": "string", "description": "5-field cron, @hourly, or @every 1h"}),
]


def check_regex(value: Any) -> str:
    """Accept a regular expression that compiles; `*` alone is the documented 'any code'."""
    if not isinstance(value, str):
        raise ValueError("a code pattern must be a string")
    if value != "*":
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {value!r} ({exc})") from None
    return value


Regex = Annotated[str, BeforeValidator(check_regex), WithJsonSchema({"type": "string"})]

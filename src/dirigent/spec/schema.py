"""The workflow language as a JSON Schema (Draft 2020-12), for editors (`dirigent schema`).

Made from the pydantic models (`Workflow.model_json_schema(by_alias=True)`) and then made friendlier
for editors: pydantic's generated titles ("Defaulttransition") are replaced by descriptions from the
language reference, and each tagged union (states, functions, start) also lists its `type` values
as an `enum`, so an editor completes `type:` and flags an unknown one in plain words; the members
stay a `oneOf` whose `type` is a `const`, so the editor then completes the fields of that type.

The schema checks shape only. Names that refer to other parts (transitions, functions, schema ids),
jq syntax and cron expressions are checked by `load_workflow` / `dirigent lint`.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from dirigent.spec.functions import FunctionDefinition
from dirigent.spec.states import STATE_TYPES
from dirigent.spec.validation import tags_of
from dirigent.spec.workflow import Start, Workflow

DIALECT = "https://json-schema.org/draft/2020-12/schema"

_STATES = {
    "noop": "Does nothing but log, transform and transition.",
    "action": "Runs one action and stores its result at .return.",
    "parallel": "Runs all actions at once; .return is their results in definition order.",
    "foreach": "Runs the action once per element of `array`; .return is the results in order.",
    "switch": "Takes the transition of the first condition that is truthy, else the defaults.",
    "validate": "Validates `subject` (default: the data) against a JSON Schema.",
    "delay": "Waits for `duration`.",
    "error": "Records an error: the instance will fail with this code and message.",
    "getter": "Reads variables into .var.<key>.",
    "setter": "Stores variables (a null value deletes the variable).",
    "generateEvent": "Emits a CloudEvent to the namespace.",
    "consumeEvent": "Waits for one matching event; its payload is stored at .<event type>.",
    "eventXor": "Waits for the first matching event of any entry and takes that entry's transition.",
    "eventAnd": "Waits until one matching event of every entry has arrived.",
}

_FIELDS = {
    "id": "Unique id.",
    "type": "Which kind of state, function or start this is.",
    "log": "Template evaluated on entry; the result goes to the instance log.",
    "transform": "Template applied after the state's work; it must give an object, the new data.",
    "transition": "The id of the next state; none ends the instance.",
    "catch": "Catchers tried in order when the state fails: an error code glob and a transition.",
    "timeout": "ISO 8601 duration the state may take (default PT15M).",
    "action": "One call of a function (`function`) or subflow (`workflow`).",
    "actions": "The actions, run at once.",
    "async": "Fire and forget: no .return, transition at once.",
    "mode": "and: all must succeed; or: the first success completes the state.",
    "array": "Template giving the elements, one action per element.",
    "conditions": "Tried in order; the first truthy one wins.",
    "condition": "Template; truthy when true, a non-zero number, or non-empty.",
    "defaultTransition": "Where to go when no condition is truthy.",
    "defaultTransform": "The transform when no condition is truthy.",
    "subject": "Template giving what to validate (default: the whole data).",
    "schema": "An inline JSON Schema, or the id of an entry of `schemas`.",
    "duration": "ISO 8601 duration, e.g. PT30S.",
    "error": "Error code (a glob in `catch`: `direktiv.*`, `*`).",
    "message": "printf-style message; `args` fill it.",
    "args": "Templates that fill the message.",
    "variables": "Variables by key and scope.",
    "key": "Variable key.",
    "scope": "instance, workflow or namespace.",
    "value": "Template giving the value to store as JSON.",
    "event": "The event.",
    "events": "The events.",
    "function": "The id of an entry of `functions`.",
    "workflow": "The id of a workflow of the namespace (a subflow).",
    "input": "Template giving the function's input (default: the whole data).",
    "secrets": "Names of secrets available to the input template at .secrets.<name>.",
    "retries": "Retry policy on errors whose code matches `codes`.",
    "max_attempts": "Retries after the first call.",
    "delay": "ISO 8601 duration before the first retry (default PT5S).",
    "multiplier": "Each retry waits `multiplier` times longer than the one before.",
    "codes": "Regular expressions over error codes; * alone matches any.",
    "image": "Container image.",
    "cmd": "Replaces the image's command.",
    "size": "small, medium or large.",
    "scale": "Minimum number of warm pods.",
    "files": "Variables written into the call's temp dir.",
    "service": "Name of the knative service.",
    "name": "Display name.",
    "description": "Description.",
    "version": "Version.",
    "singular": "Refuse a new instance while one of this workflow runs.",
    "functions": "Functions the actions call.",
    "schemas": "Named JSON Schemas for validate states.",
    "states": "The states; the first is the start state unless `start.state` says otherwise.",
    "timeouts": "Whole-instance limits.",
    "interrupt": "ISO 8601 duration; then a catchable timeout in the current state (default PT15M).",
    "kill": "ISO 8601 duration; then the instance fails, uncatchable (default PT20M).",
    "start": "How instances begin.",
    "state": "The id of the state to start in.",
    "cron": "5-field cron expression, @hourly and the like, or @every 1h.",
    "filters": "Context attributes that must match (globs; values are templates).",
    "context": "Context attributes that must match (globs; values are templates).",
    "correlate": "Context attributes whose values must be equal across the events.",
    "lifespan": "ISO 8601 duration after which a partial group of events is dropped.",
    "source": "The event's source.",
    "data": "Template giving the event's data (default: the whole data).",
    "datacontenttype": "MIME type of data.",
    "as": "File name (default: the key).",
    "mimeType": "MIME type of the stored value.",
}

# Where a field means something else than `_FIELDS` says, by model and field.
_FIELDS_OF = {
    ("GenerateEventDefinition", "type"): "The event type.",
    ("GenerateEventDefinition", "context"): "Extension attributes (values are templates).",
    ("ConsumeEventDefinition", "type"): "The event type to wait for.",
    ("StartEvent", "type"): "The event type.",
    ("FunctionFile", "type"): "How the variable is written: plain, base64, tar or tar.gz.",
    ("SchemaDefinition", "schema"): "A JSON Schema (Draft 2020-12 unless $schema says otherwise).",
    ("Catch", "error"): "A glob over error codes: `direktiv.*`, or `*` for any error.",
    ("Catch", "transition"): "Where to go; none ends the instance as complete.",
    ("SwitchCondition", "transition"): "Where to go when the condition is truthy.",
    ("SwitchCondition", "transform"): "The transform when the condition is truthy.",
    ("EventXorBranch", "transition"): "Where to go when this event arrives first.",
    ("EventXorBranch", "transform"): "The transform when this event arrives first.",
    ("ErrorState", "error"): "The error code the instance fails with.",
}


def workflow_json_schema() -> dict[str, Any]:
    """The workflow language as a JSON Schema (Draft 2020-12); a fresh copy on each call."""
    return copy.deepcopy(_build())


@functools.cache
def _build() -> dict[str, Any]:
    schema = Workflow.model_json_schema(by_alias=True, mode="validation")
    definitions: dict[str, Any] = schema["$defs"]
    _describe(schema, "Workflow")
    for name, model in definitions.items():
        _describe(model, name)
    for kind, model in STATE_TYPES.items():
        definition = definitions[model.__name__]
        definition["title"] = f"{kind} state"
        definition["description"] = _STATES[kind]
    properties = schema["properties"]
    _list_types(properties["states"]["items"], list(STATE_TYPES), required=True)
    _list_types(properties["functions"]["items"], tags_of(FunctionDefinition), required=False)
    start_union = next(m for m in properties["start"]["anyOf"] if "oneOf" in m)
    _list_types(start_union, tags_of(Start), required=False)
    return {
        "$schema": DIALECT,
        **schema,
        "title": "Direktiv workflow (Dirigent)",
        "description": (
            "A workflow definition of the Direktiv workflow language as run by Dirigent. "
            "Strings may contain jq(...) templates where the reference says so."
        ),
    }


def _describe(model: dict[str, Any], model_name: str) -> None:
    """Replace pydantic's generated property titles by descriptions; drop `anyOf` around a
    template (which takes any value, null included)."""
    for name, field in model.get("properties", {}).items():
        field.pop("title", None)
        if any(set(member) <= {"description"} for member in field.get("anyOf", [])):
            del field["anyOf"]
        description = _FIELDS_OF.get((model_name, name), _FIELDS.get(name))
        if description is not None:
            field["description"] = description


def _list_types(union: dict[str, Any], kinds: list[str], *, required: bool) -> None:
    """Next to a tagged union's `oneOf`, list its `type` values (editors complete an enum)."""
    union["type"] = "object"
    union["properties"] = {"type": {"enum": kinds, "description": _FIELDS["type"]}}
    if required:
        union["required"] = ["type"]

"""How inputs are made: an instance's start data and an action's input (workflow-language.md §3)."""

from __future__ import annotations

import base64

import orjson

from dirigent.jq import Template
from dirigent.types import JSON, JSONObject


def instance_data(raw: bytes | JSON) -> JSONObject:
    """Start data from an input: an object as is; any other JSON value `v` as {"input": v};
    bytes that are not JSON as {"input": "<base64>"} (an empty body gives {"input": ""})."""
    if isinstance(raw, bytes | bytearray):
        if not raw.strip():
            return {"input": ""}
        try:
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return {"input": base64.b64encode(bytes(raw)).decode()}
    if isinstance(raw, dict):
        return raw
    return {"input": raw}


def action_input(template: Template | None, context: JSON, secrets: dict[str, str]) -> JSON:
    """An action's input: `template` over `context`, with secrets at `.secrets` in a throwaway copy."""
    if secrets and isinstance(context, dict):
        context = {**context, "secrets": secrets}
    if template is None:
        return context
    return template.evaluate(context)

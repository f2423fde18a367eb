"""JSON text in and out of jq: feeding instance data to libjq, and printing values into strings.

The `jq` bindings take their input as JSON text (`input_value` itself calls the stdlib
`json.dumps`); `orjson` writes the same text several times faster, so everything goes through
`orjson` first. `orjson` refuses a few things the stdlib accepts (integers beyond 64 bits, which jq
gives back for large doubles such as `1e300`; non-string keys; lone surrogates), and then the stdlib
takes over.
"""

from __future__ import annotations

import json

import orjson

from dirigent.types import JSON


def dump_input(value: JSON) -> str:
    """`value` as JSON text for libjq. Raises `TypeError` for values that are not JSON."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value)


def dump_compact(value: JSON) -> str:
    """`value` as compact JSON (no blanks, like `jq -c`), for string interpolation."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def interpolate(value: JSON) -> str:
    """How a query's value is inserted into a string: strings raw, anything else as compact JSON."""
    if type(value) is str:
        return value
    return dump_compact(value)

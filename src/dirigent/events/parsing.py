"""CloudEvents from HTTP requests: structured mode (one event, or a batch) and binary mode (`ce-*`
headers), spec versions 1.0 and 0.3, validated.

Validation of the attributes is the CloudEvents SDK's (`cloudevents.core`: required, optional and
extension attributes of each spec version, their types and names). Before it, Dirigent checks the
required attributes itself: the SDK invents a missing `id`, `specversion` or `time`, and an event
without them must be refused, naming what is missing. The data is kept as the JSON format has it
(`data` or `data_base64`): in binary mode a JSON body must be valid JSON, any other body is bytes.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast
from urllib.parse import unquote

import orjson
from cloudevents.core.exceptions import CloudEventValidationError
from cloudevents.core.v03.event import CloudEvent as CloudEventV03
from cloudevents.core.v1.event import CloudEvent as CloudEventV1

from dirigent.errors import InvalidInput
from dirigent.events.cloudevent import REQUIRED, Event, is_json_type
from dirigent.types import JSONObject

#: The spec versions accepted, and the SDK class that validates each.
_VERSIONS: dict[str, type[CloudEventV1] | type[CloudEventV03]] = {
    "1.0": CloudEventV1,
    "0.3": CloudEventV03,
}
BATCH_TYPE = "application/cloudevents-batch+json"
_HEADER_PREFIX = "ce-"


class InvalidEvent(InvalidInput):
    """A request that is not a valid CloudEvent; the message starts with the attribute at fault."""


def parse_event(value: Any) -> Event:
    """An event from its JSON format (a decoded object). InvalidEvent naming the attribute at fault."""
    if not isinstance(value, dict):
        raise InvalidEvent("body: a CloudEvent is a JSON object")
    attributes = dict(value)
    data = attributes.pop("data", None)
    data_base64 = attributes.pop("data_base64", None)
    _check_required(attributes)
    if attributes["specversion"] == "0.3" and attributes.get("datacontentencoding") == "base64":
        # 0.3 carried bytes as base64 in `data`; 1.0's JSON format names that `data_base64`.
        del attributes["datacontentencoding"]
        data_base64, data = data, None
    if data_base64 is not None:
        if data is not None:
            raise InvalidEvent("data_base64: an event has either data or data_base64, not both")
        if not isinstance(data_base64, str) or not _is_base64(data_base64):
            raise InvalidEvent("data_base64: not a base64 string")
    return _validated(Event(attributes, data, data_base64))


def parse_binary(headers: Mapping[str, str], body: bytes) -> Event:
    """An event in binary mode: attributes in `ce-*` headers (percent-encoded), `Content-Type` as
    `datacontenttype`, the body as the data."""
    attributes: JSONObject = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower.startswith(_HEADER_PREFIX) and len(lower) > len(_HEADER_PREFIX):
            attributes[lower[len(_HEADER_PREFIX) :]] = unquote(value)
    content_type = _header(headers, "content-type")
    if content_type:
        attributes["datacontenttype"] = content_type
    _check_required(attributes)
    if not body:
        return _validated(Event(attributes))
    if is_json_type(content_type):
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise InvalidEvent(
                f"body: the data is not valid JSON (Content-Type {content_type or 'absent'}: "
                "send JSON, or name the data's real type)"
            ) from None
        return _validated(Event(attributes, data))
    return _validated(Event(attributes, data_base64=base64.b64encode(body).decode()))


def parse_http(headers: Mapping[str, str], body: bytes) -> list[Event]:
    """The events of an HTTP request: binary mode when a `ce-specversion` header is present (any
    `ce-*` header, as the HTTP binding says), a batch for `application/cloudevents-batch+json`, else
    one event in structured mode. All are validated before any is returned."""
    if any(name.lower().startswith(_HEADER_PREFIX) for name in headers):
        return [parse_binary(headers, body)]
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidEvent(
            "body: not a CloudEvent: send its JSON form, or binary mode with ce-* headers"
        ) from None
    content_type = (_header(headers, "content-type") or "").split(";", 1)[0].strip().lower()
    if content_type == BATCH_TYPE:
        if not isinstance(parsed, list):
            raise InvalidEvent("body: a batch is a JSON array of events")
        events = []
        for index, item in enumerate(parsed):
            try:
                events.append(parse_event(item))
            except InvalidEvent as error:
                raise InvalidEvent(f"[{index}].{error.message}") from None
        return events
    return [parse_event(parsed)]


def _header(headers: Mapping[str, str], wanted: str) -> str | None:
    for name, value in headers.items():
        if name.lower() == wanted:
            return value
    return None


def _check_required(attributes: JSONObject) -> None:
    for name in REQUIRED:
        value = attributes.get(name)
        if not isinstance(value, str) or not value:
            raise InvalidEvent(f"{name}: a CloudEvent needs a non-empty string '{name}'")
    if attributes["specversion"] not in _VERSIONS:
        raise InvalidEvent(
            f"specversion: '{attributes['specversion']}' is not supported (use 1.0 or 0.3)"
        )


def _validated(event: Event) -> Event:
    """`event` if the SDK finds its attributes valid for its spec version; else InvalidEvent."""
    attributes = dict(event.attributes)
    for name, value in attributes.items():
        if isinstance(value, dict | list) or value is None:
            raise InvalidEvent(f"{name}: attributes are strings, numbers or booleans")
    time = attributes.get("time")
    if time is not None:
        try:
            attributes["time"] = datetime.fromisoformat(cast(str, time))
        except (TypeError, ValueError):
            raise InvalidEvent(f"time: not an RFC 3339 timestamp: {time!r}") from None
        if attributes["time"].tzinfo is None:
            raise InvalidEvent(f"time: {time!r} has no time zone (add Z or an offset)")
    factory = _VERSIONS[attributes["specversion"]]
    try:
        factory(attributes, None)
    except CloudEventValidationError as error:
        problems = "; ".join(
            f"{name}: {', '.join(str(p) for p in found)}" for name, found in error.errors.items()
        )
        raise InvalidEvent(problems) from None
    return event


def _is_base64(text: str) -> bool:
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True

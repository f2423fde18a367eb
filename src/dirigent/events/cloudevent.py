"""A CloudEvent as Dirigent keeps it: its context attributes and its data, in the JSON format's terms.

Attributes are JSON values (`time` as RFC 3339 text); the data is either `data` (a JSON value) or
`data_base64` (bytes, base64-encoded), as in the CloudEvents JSON format. `payload` is what a workflow
sees (workflow-language.md §7.1): the JSON data when the content type is JSON or absent, else base64 of
the data's bytes.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
from dataclasses import dataclass
from typing import Any

import orjson

from dirigent.types import JSON, JSONObject

#: The attributes every event has.
REQUIRED = ("specversion", "id", "source", "type")


def is_json_type(content_type: str | None) -> bool:
    """Whether data of `content_type` is JSON: absent, `application/json`, `text/json`, `*+json`."""
    if not content_type:
        return True
    mime = content_type.split(";", 1)[0].strip().lower()
    return mime in ("application/json", "text/json") or mime.endswith("+json")


def attribute_text(value: JSON) -> str:
    """An attribute's value as the string that filters compare against (non-strings as JSON)."""
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


@dataclass(frozen=True, slots=True)
class Event:
    """A validated CloudEvent (1.0 or 0.3). Invariant: `attributes` holds the four required ones as
    non-empty strings and never `data`/`data_base64`; at most one of `data` and `data_base64` is set."""

    attributes: JSONObject
    data: JSON = None
    data_base64: str | None = None

    @property
    def id(self) -> str:
        value: str = self.attributes["id"]
        return value

    @property
    def source(self) -> str:
        value: str = self.attributes["source"]
        return value

    @property
    def type(self) -> str:
        value: str = self.attributes["type"]
        return value

    @property
    def subject(self) -> str | None:
        value = self.attributes.get("subject")
        return None if value is None else attribute_text(value)

    @property
    def content_type(self) -> str | None:
        value = self.attributes.get("datacontenttype")
        return value if isinstance(value, str) else None

    def text(self, name: str) -> str | None:
        """Attribute `name` (lower case) as text; None when the event does not carry it."""
        value = self.attributes.get(name)
        return None if value is None else attribute_text(value)

    @property
    def payload(self) -> JSON:
        """The data as a workflow sees it: JSON for JSON content, else base64 of the bytes; None
        without data."""
        json_content = is_json_type(self.content_type)
        if self.data_base64 is not None:
            if json_content:
                # Not JSON after all: the bytes, as they came.
                with contextlib.suppress(binascii.Error, orjson.JSONDecodeError):
                    return orjson.loads(base64.b64decode(self.data_base64, validate=True))
            return self.data_base64
        if self.data is None or json_content:
            return self.data
        raw = self.data.encode() if isinstance(self.data, str) else orjson.dumps(self.data)
        return base64.b64encode(raw).decode()

    def to_json(self) -> JSONObject:
        """The event in the CloudEvents JSON format (structured mode)."""
        value: dict[str, Any] = dict(self.attributes)
        if self.data_base64 is not None:
            value["data_base64"] = self.data_base64
        elif self.data is not None:
            value["data"] = self.data
        return value

    def to_bytes(self) -> bytes:
        return orjson.dumps(self.to_json())

    @classmethod
    def from_stored(cls, value: JSONObject) -> Event:
        """An event from `to_json` of an event that was validated before (as stored)."""
        attributes = dict(value)
        data = attributes.pop("data", None)
        data_base64 = attributes.pop("data_base64", None)
        return cls(attributes, data, data_base64)

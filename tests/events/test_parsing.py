"""CloudEvents from HTTP: structured, batch and binary mode, 1.0 and 0.3, and what is refused."""

from __future__ import annotations

import base64

import orjson
import pytest

from dirigent.events import Event, InvalidEvent, parse_binary, parse_event, parse_http

EVENT = {
    "specversion": "1.0",
    "id": "A234-1234-1234",
    "source": "https://example.com/shop",
    "type": "com.example.order",
    "subject": "order-7",
    "time": "2025-03-01T12:00:00Z",
    "region": "eu-west",
    "datacontenttype": "application/json",
    "data": {"amount": 12},
}


def test_structured_event_keeps_attributes_and_data() -> None:
    event = parse_event(EVENT)
    assert (event.id, event.source, event.type, event.subject) == (
        "A234-1234-1234",
        "https://example.com/shop",
        "com.example.order",
        "order-7",
    )
    assert event.text("region") == "eu-west"
    assert event.payload == {"amount": 12}
    assert event.to_json() == EVENT
    assert Event.from_stored(orjson.loads(event.to_bytes())) == event


@pytest.mark.parametrize("missing", ["specversion", "id", "source", "type"])
def test_a_missing_required_attribute_is_named(missing: str) -> None:
    without = {k: v for k, v in EVENT.items() if k != missing}
    with pytest.raises(InvalidEvent, match=rf"^{missing}: a CloudEvent needs"):
        parse_event(without)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": ""}, "^id: "),
        ({"id": 5}, "^id: "),
        ({"specversion": "2.0"}, "^specversion: '2.0' is not supported"),
        ({"time": "yesterday"}, "^time: not an RFC 3339 timestamp"),
        ({"time": "2025-03-01T12:00:00"}, "^time: .* has no time zone"),
        ({"subject": ""}, "subject"),
        ({"Bad_Name": "x"}, "Bad_Name"),
        ({"nested": {"a": 1}}, "^nested: attributes are strings"),
        ({"data_base64": "AAAA"}, "^data_base64: an event has either"),
    ],
)
def test_bad_attributes_are_refused(change: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidEvent, match=message):
        parse_event({**EVENT, **change})


def test_not_an_object_is_refused() -> None:
    with pytest.raises(InvalidEvent, match=r"^body: a CloudEvent is a JSON object"):
        parse_event([EVENT])


def test_base64_data_and_payloads() -> None:
    raw = b"\x00\x01binary"
    binary = parse_event(
        {
            **{k: v for k, v in EVENT.items() if k != "data"},
            "datacontenttype": "application/octet-stream",
            "data_base64": base64.b64encode(raw).decode(),
        }
    )
    assert binary.payload == base64.b64encode(raw).decode()
    json_as_base64 = parse_event(
        {
            **{k: v for k, v in EVENT.items() if k != "data"},
            "data_base64": base64.b64encode(b'{"x": 1}').decode(),
        }
    )
    assert json_as_base64.payload == {"x": 1}
    text = parse_event({**EVENT, "datacontenttype": "text/plain", "data": "hello"})
    assert text.payload == base64.b64encode(b"hello").decode()
    no_type = parse_event({k: v for k, v in EVENT.items() if k != "datacontenttype"})
    assert no_type.payload == {"amount": 12}
    nothing = parse_event({k: v for k, v in EVENT.items() if k != "data"})
    assert nothing.payload is None
    with pytest.raises(InvalidEvent, match=r"^data_base64: not a base64 string"):
        parse_event({**{k: v for k, v in EVENT.items() if k != "data"}, "data_base64": "!!"})


def test_version_0_3_with_base64_encoding() -> None:
    event = parse_event(
        {
            "specversion": "0.3",
            "id": "1",
            "source": "old",
            "type": "legacy",
            "schemaurl": "https://example.com/schema",
            "datacontenttype": "application/octet-stream",
            "datacontentencoding": "base64",
            "data": base64.b64encode(b"raw").decode(),
        }
    )
    assert event.data_base64 == base64.b64encode(b"raw").decode()
    assert "datacontentencoding" not in event.attributes
    assert event.attributes["schemaurl"] == "https://example.com/schema"
    # The SDK checks the attributes of each version: 0.3's schemaurl is a string.
    with pytest.raises(InvalidEvent, match=r"^schemaurl: .* must be"):
        parse_event({"specversion": "0.3", "id": "1", "source": "s", "type": "t", "schemaurl": 5})


def test_binary_mode() -> None:
    headers = {
        "ce-specversion": "1.0",
        "CE-Type": "com.example.xml",
        "ce-source": "/sensors/7",
        "ce-id": "b-1",
        "ce-subject": "caf%C3%A9",  # percent-encoded, as the HTTP binding says
        "ce-time": "2025-03-01T12:00:00+01:00",
        "Content-Type": "text/xml",
        "Accept": "*/*",
    }
    event = parse_binary(headers, b"<much wow='xml'/>")
    assert event.type == "com.example.xml"
    assert event.subject == "café"
    assert event.content_type == "text/xml"
    assert event.payload == base64.b64encode(b"<much wow='xml'/>").decode()
    assert "accept" not in event.attributes
    as_json = parse_binary({**headers, "Content-Type": "application/json"}, b'{"a": [1]}')
    assert as_json.payload == {"a": [1]}
    empty = parse_binary(headers, b"")
    assert empty.payload is None
    with pytest.raises(InvalidEvent, match=r"^body: the data is not valid JSON"):
        parse_binary({**headers, "Content-Type": "application/json"}, b"{nope")
    with pytest.raises(InvalidEvent, match=r"^id: "):
        parse_binary({k: v for k, v in headers.items() if k != "ce-id"}, b"")


def test_http_picks_the_mode() -> None:
    (structured,) = parse_http(
        {"content-type": "application/cloudevents+json"}, orjson.dumps(EVENT)
    )
    assert structured.id == EVENT["id"]
    (binary,) = parse_http(
        {"ce-specversion": "1.0", "ce-type": "t", "ce-source": "s", "ce-id": "1"}, b""
    )
    assert binary.type == "t"
    batch = parse_http(
        {"Content-Type": "application/cloudevents-batch+json; charset=utf-8"},
        orjson.dumps([EVENT, {**EVENT, "id": "2"}]),
    )
    assert [e.id for e in batch] == [EVENT["id"], "2"]
    with pytest.raises(InvalidEvent, match=r"^\[1\]\.type: "):
        parse_http(
            {"content-type": "application/cloudevents-batch+json"},
            orjson.dumps([EVENT, {k: v for k, v in EVENT.items() if k != "type"}]),
        )
    with pytest.raises(InvalidEvent, match=r"^body: a batch is a JSON array"):
        parse_http({"content-type": "application/cloudevents-batch+json"}, orjson.dumps(EVENT))
    with pytest.raises(InvalidEvent, match=r"^body: not a CloudEvent"):
        parse_http({}, b"not json")

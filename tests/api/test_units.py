"""The API's pure helpers, without a server: error wording, headers, shapes, SSE framing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from dirigent.api.errors import STATUS, describe_validation, status_of
from dirigent.api.execute import _header_value
from dirigent.api.middleware import is_loopback
from dirigent.api.shapes import Timestamp
from dirigent.api.streams import format_event
from dirigent.errors import Category, Conflict, Internal, InvalidInput, NotFound, Unavailable
from dirigent.operations.instances import compile_field, extract_field, instance_id
from dirigent.operations.namespaces import InvalidName, check_key, check_name
from dirigent.operations.workflows import describe_problems
from dirigent.spec import Problem


def test_every_category_has_a_status() -> None:
    assert set(STATUS) == set(Category)
    assert status_of(NotFound("x")) == 404
    assert status_of(InvalidInput("x")) == 400
    assert status_of(InvalidName("x")) == 406
    assert status_of(Conflict("x")) == 409
    assert status_of(Unavailable("x")) == 503
    assert status_of(Internal("x")) == 500


def test_validation_errors_read_field_colon_problem() -> None:
    errors = [
        {
            "loc": ("query", "limit"),
            "msg": "Input should be a valid integer",
            "type": "int_parsing",
        },
        {"loc": ("body", "name"), "msg": "Field required", "type": "missing"},
        {"loc": ("body",), "msg": "Field required", "type": "missing"},
        {"loc": ("body", 3), "msg": "JSON decode error", "type": "json_invalid"},
    ]
    assert describe_validation(errors) == (
        "limit: Input should be a valid integer; name: Field required; body: Field required; "
        "body: the body is not valid JSON"
    )


def test_header_values_are_one_printable_line() -> None:
    assert _header_value("a\nb\r\n\tc") == "a b c"
    assert _header_value("zürich ✓") == "z\\xfcrich \\u2713"
    assert _header_value("bell\x07") == "bell"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.4", False),
        ("example.com", False),
    ],
)
def test_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_timestamps() -> None:
    moment = datetime(2021, 5, 10, 0, 28, 0, 590045, tzinfo=UTC)
    assert Timestamp.of(moment).model_dump() == {"seconds": 1620606480, "nanos": 590045000}
    shifted = moment.astimezone(timezone(timedelta(hours=2)))
    assert Timestamp.of(shifted) == Timestamp.of(moment)
    assert Timestamp.of(moment.replace(tzinfo=None)) == Timestamp.of(moment)
    assert Timestamp.maybe(None) is None


def test_sse_framing() -> None:
    assert format_event("log", '{"a":1}', 3) == b'event: log\nid: 3\ndata: {"a":1}\n\n'
    assert format_event("end", "a\nb") == b"event: end\ndata: a\ndata: b\n\n"


def test_field_values() -> None:
    output = {"file": "aGk=", "text": "hi there", "n": 2, "none": None}
    decoded = extract_field(output, compile_field(".file"))
    assert (decoded.body, decoded.media_type) == (b"hi", "application/octet-stream")
    text = extract_field(output, compile_field(".text"))
    assert (text.body, text.media_type) == (b"hi there", "text/plain; charset=utf-8")
    assert extract_field(output, compile_field(".n")).body == b"2"
    assert extract_field(output, compile_field("empty")).body == b"null"
    with pytest.raises(InvalidInput, match=r"^field: "):
        compile_field(".[")
    with pytest.raises(InvalidInput, match=r"^field: "):
        extract_field(output, compile_field('error("no")'))


def test_names() -> None:
    assert check_name("a-b_c9", "namespace") == "a-b_c9"
    for bad in ("", "A", "9a", "a-", "a.b", "a" * 65):
        with pytest.raises(InvalidName, match=r"^namespace: "):
            check_name(bad, "namespace")
    assert check_key("Access_TOKEN", "variable") == "Access_TOKEN"
    with pytest.raises(InvalidName, match=r"^variable: "):
        check_key("a b", "variable")
    assert instance_id("ns", "wf", "00ff") == "ns/wf/00ff"
    with pytest.raises(InvalidName, match=r"^id: "):
        instance_id("ns", "wf", "a/b")


def test_problems_name_their_lines() -> None:
    problems = [
        Problem("w.yaml", 5, 17, "states[0].transition", "no state 'nowhere'"),
        Problem("w.yaml", None, None, "", "the document is empty"),
        Problem("w.yaml", 9, None, "states[1]", "unreachable", "warning"),
    ]
    assert describe_problems(problems).splitlines() == [
        "line 5, column 17: states[0].transition: no state 'nowhere'",
        "the document is empty",
        "warning: line 9: states[1]: unreachable",
    ]

"""The answer rules of function-contract.md §3, as a pure function."""

from __future__ import annotations

import base64

import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from dirigent.errors import Code, WorkflowError
from dirigent.functions import interpret_answer


def headers(**values: str) -> CIMultiDictProxy[str]:
    return CIMultiDictProxy(CIMultiDict({k.replace("_", "-"): v for k, v in values.items()}))


@pytest.mark.parametrize(
    ("code_header", "message_header"),
    [
        ("Direktiv-ErrorCode", "Direktiv-ErrorMessage"),  # as documented
        ("Direktiv-Errorcode", "Direktiv-Errormessage"),  # Go's canonical form
        ("direktiv-errorcode", "direktiv-errormessage"),  # HTTP/2 and Node lower-case
    ],
)
def test_error_code_is_catchable_in_any_header_case(code_header: str, message_header: str) -> None:
    # A plain dict: the rule must not depend on a case-insensitive mapping being passed.
    answer = {code_header: "app.input", message_header: "no customerId"}
    with pytest.raises(WorkflowError) as raised:
        interpret_answer(200, answer, b'{"ignored": true}')
    assert raised.value == WorkflowError("app.input", "no customerId", catchable=True)


def test_error_code_wins_over_any_status_and_body() -> None:
    answer = headers(Direktiv_ErrorCode="app.bad", Direktiv_ErrorMessage="bad")
    with pytest.raises(WorkflowError) as raised:
        interpret_answer(422, answer, b'{"errorCode": "x"}')
    assert (raised.value.code, raised.value.catchable) == ("app.bad", True)


def test_error_code_without_message_is_catchable_with_empty_message() -> None:
    with pytest.raises(WorkflowError) as raised:
        interpret_answer(200, headers(Direktiv_ErrorCode="app.only"), b"")
    assert raised.value == WorkflowError("app.only", "")


def test_message_without_code_is_an_uncatchable_crash() -> None:
    with pytest.raises(WorkflowError) as raised:
        interpret_answer(200, headers(Direktiv_ErrorMessage="disk on fire"), b"")
    assert raised.value == WorkflowError(Code.INTERNAL, "disk on fire", catchable=False)


def test_empty_error_headers_count_as_absent() -> None:
    answer = headers(Direktiv_ErrorCode="", Direktiv_ErrorMessage="")
    assert interpret_answer(200, answer, b"[1]") == [1]


@pytest.mark.parametrize(
    ("body", "value"),
    [
        (b'{"a": 1}', {"a": 1}),
        (b"[1, 2]", [1, 2]),
        (b'"text"', "text"),
        (b"42", 42),
        (b"null", None),
        (b"", ""),
    ],
)
def test_2xx_body_is_json(body: bytes, value: object) -> None:
    assert interpret_answer(200, headers(Content_Type="text/plain"), body) == value


@pytest.mark.parametrize("body", [b"hello", b"\x00\xff\x10", b"{broken", b"  "])
def test_2xx_body_that_is_not_json_is_standard_base64(body: bytes) -> None:
    value = interpret_answer(201, headers(Content_Type="application/json"), body)
    assert value == base64.b64encode(body).decode()
    assert base64.b64decode(value) == body


@pytest.mark.parametrize("status", [204, 299])
def test_every_2xx_is_success(status: int) -> None:
    assert interpret_answer(status, {}, b"") == ""


@pytest.mark.parametrize("status", [199, 301, 400, 404, 500, 503])
def test_non_2xx_without_headers_is_a_catchable_failure_naming_status_and_body(
    status: int,
) -> None:
    with pytest.raises(WorkflowError) as raised:
        interpret_answer(status, {}, b"boom")
    error = raised.value
    assert (error.code, error.catchable) == (Code.FUNCTION_FAILED, True)
    assert f"HTTP {status}" in error.message
    assert "boom" in error.message


def test_failure_message_quotes_only_the_start_of_the_body() -> None:
    body = b"a" * 200 + b"TAIL" * 1000
    with pytest.raises(WorkflowError) as raised:
        interpret_answer(500, {}, body)
    assert "a" * 200 in raised.value.message
    assert "TAIL" not in raised.value.message
    assert len(raised.value.message) < 300

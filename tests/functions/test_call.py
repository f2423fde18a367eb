"""The call (contract §2) and its answer (§3) against real function processes."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from dirigent.errors import Code, WorkflowError
from dirigent.functions import FunctionCall, FunctionCaller
from dirigent.store.memory import MemoryStore
from tests.fixtures.functions.runner import RunningFunction, free_port
from tests.functions.support import OWNER, SKELETON, exists, function_call, leftovers

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


# The request


async def test_request_carries_every_header_of_the_contract(
    caller: FunctionCaller, echo: RunningFunction
) -> None:
    call = function_call(echo.url, {"name": "World"})
    seen = await caller.call(call)

    assert seen["method"] == "POST"
    assert seen["path"] == "/"
    assert seen["input"] == {"name": "World"}
    headers = seen["headers"]
    assert headers["direktiv-actionid"] == call.action_id
    assert headers["content-type"] == "application/json"
    assert headers["content-length"] == str(len(call.input))
    assert "transfer-encoding" not in headers
    # The exact spelling images look for (some header maps are case-sensitive).
    for name in ("Direktiv-ActionID", "Direktiv-TempDir", "Direktiv-Deadline"):
        assert name in seen["header_names"]


async def test_body_is_the_compact_json_input_byte_for_byte(
    caller: FunctionCaller, echo: RunningFunction
) -> None:
    call = function_call(echo.url)
    call = FunctionCall(
        action_id=call.action_id,
        url=call.url,
        input=b'{"a":[1,2],"s":"\xc3\xa4"}',
        deadline=call.deadline,
        owner=call.owner,
        state=call.state,
    )
    seen = await caller.call(call)
    assert seen["input"] == {"a": [1, 2], "s": "ä"}
    assert seen["headers"]["content-length"] == str(len(call.input))


async def test_deadline_header_is_rfc3339_utc_of_the_call_deadline(
    caller: FunctionCaller, echo: RunningFunction
) -> None:
    call = function_call(echo.url, deadline_in=600)
    sent = (await caller.call(call))["headers"]["direktiv-deadline"]
    assert RFC3339.match(sent)
    assert sent.endswith("Z")
    assert abs(datetime.fromisoformat(sent) - call.deadline) < timedelta(milliseconds=1)


async def test_action_ids_are_fresh_unguessable_and_never_development(
    caller: FunctionCaller, echo: RunningFunction
) -> None:
    ids = [
        (await caller.call(function_call(echo.url)))["headers"]["direktiv-actionid"]
        for _ in range(5)
    ]
    assert len(set(ids)) == 5
    for action_id in ids:
        assert action_id != "development"
        assert re.fullmatch(r"[0-9a-f]{32}", action_id)


async def test_temp_dir_exists_during_the_call_and_is_removed_after(
    caller: FunctionCaller, echo: RunningFunction, temp_root: Path
) -> None:
    seen = await caller.call(function_call(echo.url))
    tempdir = Path(seen["headers"]["direktiv-tempdir"])
    assert tempdir.is_absolute()
    assert seen["tempdir_exists"] is True
    assert tempdir.parent == temp_root
    assert seen["tempdir_listing"] == SKELETON
    await caller.wait_removed()
    assert not exists(tempdir)
    assert leftovers(temp_root) == []  # nothing but a spare for the next call


async def test_each_attempt_gets_its_own_temp_dir(
    caller: FunctionCaller, echo: RunningFunction
) -> None:
    first = await caller.call(function_call(echo.url))
    second = await caller.call(function_call(echo.url))
    assert first["tempdir"] != second["tempdir"]


async def test_default_temp_root_is_a_dirigent_dir_removed_on_close(
    store: MemoryStore, echo: RunningFunction
) -> None:
    caller = FunctionCaller(store)
    try:
        tempdir = Path((await caller.call(function_call(echo.url)))["tempdir"])
        assert tempdir.parent.name.startswith("dirigent-")
        assert tempdir.parent.exists()
    finally:
        await caller.aclose()
    assert not tempdir.parent.exists()


async def test_calls_reuse_pooled_connections(
    caller: FunctionCaller, echo: RunningFunction
) -> None:
    # Keep-alive: one connection (one client port) serves consecutive calls.
    ports = {(await caller.call(function_call(echo.url)))["client_port"] for _ in range(4)}
    assert len(ports) == 1


# The answer, from the Go-style greeter


async def test_greeter_json_labelled_text_plain_is_parsed(
    caller: FunctionCaller, greeter: RunningFunction
) -> None:
    assert await caller.call(function_call(greeter.url, {"name": "World"})) == {
        "greeting": "Hello, World!"
    }


async def test_greeter_go_style_error_headers_are_catchable(
    caller: FunctionCaller, greeter: RunningFunction, http: aiohttp.ClientSession
) -> None:
    # The greeter really sends Go's header spelling.
    async with http.post(greeter.url, data=b"{}", headers={"Direktiv-ActionID": "x"}) as response:
        names = [name.decode() for name, _ in response.raw_headers]
    assert "Direktiv-Errorcode" in names
    assert "Direktiv-Errormessage" in names

    with pytest.raises(WorkflowError) as raised:
        await caller.call(function_call(greeter.url, {}))
    assert raised.value == WorkflowError(
        "greeter.input", "Missing 'name' property in JSON input.", catchable=True
    )
    with pytest.raises(WorkflowError) as raised:
        await caller.call(function_call(greeter.url, {"name": "x", "extra": 1}))
    assert raised.value.code == "greeter.input"


async def test_greeter_rejects_calls_without_action_id(
    greeter: RunningFunction, http: aiohttp.ClientSession
) -> None:
    # Why the header is mandatory: Go images answer 400 without it.
    async with http.post(greeter.url, json={"name": "x"}) as response:
        assert response.status == 400


# The answer, every row of the table


async def call_fail(caller: FunctionCaller, fail: RunningFunction, **value: object) -> object:
    return await caller.call(function_call(fail.url, value))


async def test_error_code_and_message_are_catchable_and_body_ignored(
    caller: FunctionCaller, fail: RunningFunction
) -> None:
    with pytest.raises(WorkflowError) as raised:
        await call_fail(caller, fail, mode="code", code="app.code", message="went wrong")
    assert raised.value == WorkflowError("app.code", "went wrong", catchable=True)


async def test_error_code_only_is_catchable(caller: FunctionCaller, fail: RunningFunction) -> None:
    with pytest.raises(WorkflowError) as raised:
        await call_fail(caller, fail, mode="code-only", code="app.code")
    assert raised.value == WorkflowError("app.code", "", catchable=True)


async def test_error_message_only_crashes(caller: FunctionCaller, fail: RunningFunction) -> None:
    with pytest.raises(WorkflowError) as raised:
        await call_fail(caller, fail, mode="message-only", message="kaputt")
    assert raised.value == WorkflowError(Code.INTERNAL, "kaputt", catchable=False)


async def test_2022_style_status_with_headers_and_json_body_uses_the_headers(
    caller: FunctionCaller, fail: RunningFunction
) -> None:
    with pytest.raises(WorkflowError) as raised:
        await call_fail(
            caller, fail, mode="status400-with-headers", code="app.input", message="bad"
        )
    assert raised.value == WorkflowError("app.input", "bad", catchable=True)


async def test_status_500_without_headers_is_a_catchable_failure(
    caller: FunctionCaller, fail: RunningFunction
) -> None:
    with pytest.raises(WorkflowError) as raised:
        await call_fail(caller, fail, mode="status500")
    error = raised.value
    assert (error.code, error.catchable) == (Code.FUNCTION_FAILED, True)
    assert "HTTP 500" in error.message
    assert "boom" in error.message


async def test_body_that_is_not_json_is_base64(
    caller: FunctionCaller, fail: RunningFunction
) -> None:
    value = await call_fail(caller, fail, mode="not-json")
    assert isinstance(value, str)
    assert base64.b64decode(value, validate=True) == b"\x00\x01 not json \xff"


async def test_empty_body_is_empty_string(caller: FunctionCaller, fail: RunningFunction) -> None:
    assert await call_fail(caller, fail, mode="empty") == ""


async def test_connection_closed_without_answer_is_a_catchable_failure(
    caller: FunctionCaller, fail: RunningFunction
) -> None:
    with pytest.raises(WorkflowError) as raised:
        await call_fail(caller, fail, mode="close")
    assert (raised.value.code, raised.value.catchable) == (Code.FUNCTION_FAILED, True)


async def test_connection_refused_is_a_catchable_failure(caller: FunctionCaller) -> None:
    url = f"http://127.0.0.1:{free_port()}/"
    with pytest.raises(WorkflowError) as raised:
        await caller.call(function_call(url))
    error = raised.value
    assert (error.code, error.catchable) == (Code.FUNCTION_FAILED, True)
    assert url in error.message


async def test_a_caller_keeps_working_after_a_failed_connection(
    caller: FunctionCaller, fail: RunningFunction
) -> None:
    with pytest.raises(WorkflowError):
        await call_fail(caller, fail, mode="close")
    assert await call_fail(caller, fail, mode="empty") == ""


# Limits


async def test_input_over_the_limit_fails_before_any_call(
    store: MemoryStore, echo: RunningFunction, temp_root: Path
) -> None:
    caller = FunctionCaller(store, max_input=10, temp_root=temp_root)
    try:
        with pytest.raises(WorkflowError) as raised:
            await caller.call(function_call(echo.url, {"name": "more than ten bytes"}))
        assert caller._http is None  # no connection was ever opened
        assert not exists(temp_root)  # no temp dir was made
        assert (await caller.call(function_call(echo.url, {"a": 1})))["input"] == {"a": 1}
    finally:
        await caller.aclose()
    error = raised.value
    assert (error.code, error.catchable) == (Code.FUNCTION_INPUT, True)
    assert "10 bytes" in error.message


async def test_default_input_limit_is_4_mib(store: MemoryStore, echo: RunningFunction) -> None:
    caller = FunctionCaller(store)
    try:
        big = function_call(echo.url, "x" * (4 * 1024 * 1024))
        with pytest.raises(WorkflowError) as raised:
            await caller.call(big)
        assert raised.value.code == Code.FUNCTION_INPUT
        assert caller._http is None  # no connection was ever opened
    finally:
        await caller.aclose()


@pytest.mark.parametrize("chunked", [False, True])
async def test_output_over_the_limit_is_a_catchable_failure(
    store: MemoryStore, fail: RunningFunction, temp_root: Path, chunked: bool
) -> None:
    caller = FunctionCaller(store, max_output=1000, temp_root=temp_root)
    try:
        exactly = await caller.call(
            function_call(fail.url, {"mode": "huge", "size": 1000, "chunked": chunked})
        )
        assert base64.b64decode(exactly) == b"x" * 1000
        with pytest.raises(WorkflowError) as raised:
            await caller.call(
                function_call(fail.url, {"mode": "huge", "size": 5_000_000, "chunked": chunked})
            )
    finally:
        await caller.aclose()
    error = raised.value
    assert (error.code, error.catchable) == (Code.FUNCTION_FAILED, True)
    assert "1000 bytes" in error.message


def test_a_call_deadline_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        FunctionCall(
            action_id="a",
            url="http://127.0.0.1:1/",
            input=b"{}",
            deadline=datetime.now(),  # naive: the point of the test
            owner=OWNER,
            state="s",
        )


async def test_deadline_in_the_past_fails_without_calling(
    caller: FunctionCaller, echo: RunningFunction
) -> None:
    call = function_call(echo.url, deadline_in=-1)
    with pytest.raises(WorkflowError) as raised:
        await caller.call(call)
    assert raised.value.code == Code.CANCELS_TIMEOUT
    assert call.deadline.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") in raised.value.message

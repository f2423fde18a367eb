"""The SDK's server against the function contract, called by the engine's own `FunctionCaller`
and by plain HTTP; the functions are real processes, the sidecar is real."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
from datetime import datetime

import aiohttp
import orjson
import pytest

from dirigent.errors import Code, WorkflowError
from dirigent.functions import FunctionCaller, new_action_id
from dirigent.sdk.folder import command_for
from dirigent.spec.functions import FunctionFile
from dirigent.store.memory import MemoryStore
from dirigent.store.records import Variable, VariableRef
from tests.functions.support import OWNER, function_call
from tests.sdk.support import FUNCTIONS, Running, start_dev

HEADERS = {"Direktiv-ActionID": "a1", "Content-Type": "application/json"}


async def test_success_is_json_with_content_length(
    kitchen: Running, http: aiohttp.ClientSession
) -> None:
    body = orjson.dumps({"do": "echo", "x": [1, "ü"]})
    async with http.post(kitchen.url, data=body, headers=HEADERS) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/json"
        assert int(response.headers["Content-Length"]) == len(await response.read())
        assert "Transfer-Encoding" not in response.headers
        assert await response.json() == {"do": "echo", "x": [1, "ü"]}


async def test_the_engine_gets_the_output(kitchen: Running, caller: FunctionCaller) -> None:
    assert await caller.call(function_call(kitchen.url, {"do": "echo", "n": 1})) == {
        "do": "echo",
        "n": 1,
    }


async def test_a_call_without_action_id_is_refused(
    kitchen: Running, http: aiohttp.ClientSession
) -> None:
    async with http.post(kitchen.url, data=b'{"do": "echo"}') as response:
        assert response.status == 400
        assert "Direktiv-ActionID" in await response.text()
    async with http.delete(kitchen.url) as response:
        assert response.status == 400


async def test_only_post_and_delete_on_root(kitchen: Running, http: aiohttp.ClientSession) -> None:
    async with http.get(kitchen.url, headers=HEADERS) as response:
        assert response.status == 405
        assert response.headers["Allow"] == "POST, DELETE"
    async with http.post(kitchen.url + "other", data=b"{}", headers=HEADERS) as response:
        assert response.status == 404


async def test_development_mode_takes_calls_without_action_id_and_logs_on_stdout(
    http: aiohttp.ClientSession,
) -> None:
    async with start_dev("kitchen", "--dev") as (url, printed):
        assert "development mode" in await printed.wait_for("listening on")
        async with http.post(url, data=b'{"do": "info"}') as response:
            info = await response.json()
        assert info["action_id"] == "development"
        assert info["deadline"] is None
        assert info["temp_dir_exists"]  # made for the call, with the out/ layout
        async with http.post(url, data=b'{"do": "log", "lines": ["to stdout"]}') as response:
            assert await response.json() == {"logged": 1}
        await printed.wait_for("to stdout")
        async with http.post(url, data=b'{"do": "vars"}') as response:
            assert response.headers["Direktiv-ErrorMessage"].startswith("SidecarError: ")
            assert "Direktiv-ErrorCode" not in response.headers


async def test_development_mode_from_the_environment(
    http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIRIGENT_FUNCTION_DEV", "yes")
    async with (
        start_dev("kitchen") as (url, _),
        http.post(url, data=b'{"do": "echo"}') as response,
    ):
        assert response.status == 200


async def test_a_function_error_is_200_with_both_headers(
    kitchen: Running, http: aiohttp.ClientSession, caller: FunctionCaller
) -> None:
    body = orjson.dumps({"do": "fail", "code": "kitchen.bad", "message": "it went wrong"})
    async with http.post(kitchen.url, data=body, headers=HEADERS) as response:
        assert response.status == 200
        assert response.headers["Direktiv-ErrorCode"] == "kitchen.bad"
        assert response.headers["Direktiv-ErrorMessage"] == "it went wrong"
        assert await response.json() == {
            "errorCode": "kitchen.bad",
            "errorMessage": "it went wrong",
        }
    with pytest.raises(WorkflowError) as raised:
        await caller.call(function_call(kitchen.url, orjson.loads(body)))
    assert raised.value == WorkflowError("kitchen.bad", "it went wrong")


async def test_a_long_multiline_message_fits_in_a_header(
    kitchen: Running, caller: FunctionCaller
) -> None:
    message = "first line\nsecond ✓ line\r\n" + "x" * 10_000
    with pytest.raises(WorkflowError) as raised:
        await caller.call(
            function_call(kitchen.url, {"do": "fail", "code": "k.long", "message": message})
        )
    assert raised.value.code == "k.long"
    assert raised.value.message.startswith("first line second ✓ line  xxx")
    assert raised.value.message.endswith("…")
    assert len(raised.value.message.encode()) <= 4096


async def test_an_unexpected_exception_is_a_crash(
    kitchen: Running, http: aiohttp.ClientSession, caller: FunctionCaller
) -> None:
    async with http.post(kitchen.url, data=b'{"do": "crash"}', headers=HEADERS) as response:
        assert response.status == 200
        assert "Direktiv-ErrorCode" not in response.headers
        assert response.headers["Direktiv-ErrorMessage"] == "RuntimeError: kaboom"
    with pytest.raises(WorkflowError) as raised:
        await caller.call(function_call(kitchen.url, {"do": "crash"}))
    assert raised.value == WorkflowError(Code.INTERNAL, "RuntimeError: kaboom", catchable=False)
    await kitchen.printed.wait_for('raise RuntimeError("kaboom")')  # the traceback, on stderr


async def test_output_that_is_not_json_is_a_crash(kitchen: Running, caller: FunctionCaller) -> None:
    with pytest.raises(WorkflowError) as raised:
        await caller.call(function_call(kitchen.url, {"do": "unencodable"}))
    assert not raised.value.catchable
    assert "cannot be encoded as JSON" in raised.value.message


async def test_bytes_are_answered_raw(kitchen: Running, caller: FunctionCaller) -> None:
    value = await caller.call(function_call(kitchen.url, {"do": "bytes"}))
    assert value == base64.b64encode(b"\x00\xffraw").decode()


async def test_input_that_is_not_json_is_a_catchable_input_error(
    kitchen: Running, http: aiohttp.ClientSession
) -> None:
    async with http.post(kitchen.url, data=b"{nope", headers=HEADERS) as response:
        assert response.headers["Direktiv-ErrorCode"] == "input.invalid"
        assert response.headers["Direktiv-ErrorMessage"].startswith("invalid input: input: ")


async def test_pydantic_validation_names_the_bad_fields(
    greeter: Running, caller: FunctionCaller
) -> None:
    assert await caller.call(function_call(greeter.url, {"name": "Ada"})) == {
        "greeting": "Hello, Ada!"
    }
    with pytest.raises(WorkflowError) as raised:
        await caller.call(function_call(greeter.url, {"times": "many", "nick": "A"}))
    assert raised.value.code == "input.invalid"
    assert raised.value.catchable
    message = raised.value.message
    assert message.startswith("invalid input: ")
    assert "name: Field required" in message
    assert "times: Input should be a valid integer" in message
    assert "nick: Extra inputs are not permitted" in message


async def test_logs_reach_the_sidecar_in_order_with_the_action_id(
    kitchen: Running, caller: FunctionCaller, store: MemoryStore
) -> None:
    call = function_call(kitchen.url, {"do": "log", "lines": ["one", "two ü", "three"]})
    assert await caller.call(call) == {"logged": 3}
    # The answer comes after the lines were delivered: no waiting needed.
    entries = store.logs(OWNER.instance_id)
    assert [e.message for e in entries] == ["one", "two ü", "three"]
    assert {e.action_id for e in entries} == {call.action_id}


async def test_async_handler_logs_and_variables(
    akitchen: Running, caller: FunctionCaller, store: MemoryStore
) -> None:
    await store.set_variable(VariableRef.of("instance", "gone", OWNER), Variable(b"x"))
    call = function_call(akitchen.url, {"do": "log", "lines": ["a", "b"]})
    assert await caller.call(call) == {"logged": 2}
    assert [e.message for e in store.logs(OWNER.instance_id)] == ["a", "b"]
    assert await caller.call(function_call(akitchen.url, {"do": "vars"})) == {"count": 1}
    assert await caller.call(function_call(akitchen.url, {"do": "vars"})) == {"count": 2}
    assert await store.get_variable(VariableRef.of("instance", "gone", OWNER)) is None


@pytest.mark.parametrize("scope", ["instance", "workflow", "namespace"])
async def test_variables_through_the_sidecar(
    kitchen: Running, caller: FunctionCaller, store: MemoryStore, scope: str
) -> None:
    def ref(key: str) -> VariableRef:
        return VariableRef.of(scope, key, OWNER)  # type: ignore[arg-type]

    await store.set_variable(ref("count"), Variable(b"41", "text/plain"))
    await store.set_variable(ref("gone"), Variable(b"bye"))
    result = await caller.call(function_call(kitchen.url, {"do": "vars", "scope": scope}))
    assert result == {"count": 42, "missing": ""}
    assert await store.get_variable(ref("count")) == Variable(b"42", "text/plain; charset=utf-8")
    assert await store.get_variable(ref("blob")) == Variable(b"\x00\x01", "application/x-test")
    assert await store.get_variable(ref("gone")) is None


async def test_temp_dir_files_and_out_files_through_the_caller(
    kitchen: Running, caller: FunctionCaller, store: MemoryStore
) -> None:
    await store.set_variable(VariableRef.of("instance", "data", OWNER), Variable(b"payload"))
    call = function_call(kitchen.url, {"do": "files"}, files=(FunctionFile(key="data"),))
    result = await caller.call(call)
    assert result["data"] == "payload"
    result_var = await store.get_variable(VariableRef.of("instance", "result", OWNER))
    assert result_var is not None
    assert result_var.data == b"PAYLOAD"
    report = await store.get_variable(VariableRef.of("workflow", "report", OWNER))
    assert report is not None
    assert report.mime_type == "application/gzip"


async def test_context_tells_action_id_temp_dir_and_deadline(
    kitchen: Running, caller: FunctionCaller
) -> None:
    call = function_call(kitchen.url, {"do": "info"}, action_id=new_action_id())
    info = await caller.call(call)
    assert info["action_id"] == call.action_id
    assert info["temp_dir_exists"]
    sent = call.deadline.replace(microsecond=call.deadline.microsecond // 1000 * 1000)
    assert datetime.fromisoformat(info["deadline"]) == sent  # sent with milliseconds
    assert info["cancelled"] is False


def _run_kitchen(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*command_for(FUNCTIONS / "kitchen"), *args],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, **env},
        check=False,
    )


def test_bad_settings_end_the_program_with_one_line() -> None:
    result = _run_kitchen(DIRIGENT_FUNCTION_PORT="eighty")
    assert result.returncode == 2
    assert result.stderr == "error: DIRIGENT_FUNCTION_PORT must be a port number, not 'eighty'\n"


def test_a_port_in_use_ends_the_program_with_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _run_kitchen("--host", "127.0.0.1", "--port", str(port))
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: cannot listen on 127.0.0.1:{port}: ")
    assert "Traceback" not in result.stderr

"""`@function`, input validation, answers' header values, settings, function folders: no servers."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from dirigent.errors import InvalidInput
from dirigent.sdk import INPUT_INVALID, AsyncContext, Context, FunctionError, function
from dirigent.sdk.answer import MAX_HEADER_VALUE, header_value
from dirigent.sdk.folder import command_for, environment_for
from dirigent.sdk.harness import parse_variable_name
from dirigent.sdk.settings import Settings, SettingsError


class Order(BaseModel):
    item: str
    count: int


@dataclass
class Point:
    x: float
    y: float


def test_plain_decorator_keeps_the_handler_callable() -> None:
    @function
    def handle(input: dict[str, Any], ctx: Context) -> Any:
        return input["a"] + ctx

    assert handle({"a": 1}, 2) == 3
    assert handle.name == "handle"
    assert not handle.is_async


def test_async_handlers_are_recognised() -> None:
    @function
    async def handle(input: Any, ctx: AsyncContext) -> Any:
        return input

    assert handle.is_async


def test_no_annotation_means_any_json() -> None:
    @function
    def handle(input, ctx):  # type: ignore[no-untyped-def]
        return input

    assert handle.input_type is None
    assert handle.read_input(b'[1, "a"]') == [1, "a"]
    assert handle.read_input(b"") is None


def test_the_annotation_of_input_is_validated() -> None:
    @function
    def handle(input: Order, ctx: Context) -> None:
        pass

    assert handle.read_input(b'{"item": "tea", "count": "2"}') == Order(item="tea", count=2)
    with pytest.raises(FunctionError) as raised:
        handle.read_input(b'{"count": "two"}')
    assert raised.value.code == INPUT_INVALID
    assert raised.value.message == (
        "invalid input: item: Field required; "
        "count: Input should be a valid integer, unable to parse string as an integer"
    )


def test_input_model_and_error_code_in_the_decorator() -> None:
    @function(input_model=Point, input_error="geo.input")
    def handle(input, ctx):  # type: ignore[no-untyped-def]
        return input

    assert handle.read_input(b'{"x": 1, "y": 2.5}') == Point(1.0, 2.5)
    with pytest.raises(FunctionError) as raised:
        handle.read_input(b'{"x": 1}')
    assert (raised.value.code, raised.value.message) == (
        "geo.input",
        "invalid input: y: Field required",
    )


def test_nested_fields_are_named_with_their_path() -> None:
    @function
    def handle(input: dict[str, list[int]], ctx: Context) -> None:
        pass

    with pytest.raises(FunctionError) as raised:
        handle.read_input(b'{"a": [1, "x"]}')
    assert raised.value.message.startswith("invalid input: a.1: Input should be a valid integer")


def test_bad_json_without_a_model_is_an_input_error() -> None:
    @function
    def handle(input: Any, ctx: Context) -> None:
        pass

    with pytest.raises(FunctionError) as raised:
        handle.read_input(b"{")
    assert raised.value.code == INPUT_INVALID
    assert raised.value.message.startswith("input is not JSON: ")


def test_a_handler_must_take_input_and_ctx() -> None:
    def one(input: Any) -> None:
        pass

    with pytest.raises(TypeError, match=r"must take two arguments, \(input, ctx\)"):
        function(one)
    with pytest.raises(TypeError, match="must be a function"):
        function("handle")  # type: ignore[arg-type]


def test_an_unresolvable_annotation_is_reported() -> None:
    def handle(input: Missing, ctx: Any) -> None:  # type: ignore[name-defined]  # noqa: F821
        pass

    with pytest.raises(TypeError, match="cannot be resolved"):
        function(handle)


def test_function_error_needs_a_code() -> None:
    assert FunctionError("a.b").message == ""
    with pytest.raises(ValueError, match="non-empty code"):
        FunctionError(" ", "message")


def test_header_values_are_one_line_and_bounded() -> None:
    assert header_value("a\nb\r\tc ✓") == "a b  c ✓"
    long = header_value("é" * 5000)
    assert long.endswith("…")
    assert len(long.encode()) <= MAX_HEADER_VALUE
    long.encode().decode()  # cut on a character boundary


def test_settings_defaults_environment_and_command_line() -> None:
    assert Settings.load({}) == Settings("0.0.0.0", 8080, "http://127.0.0.1:8889", False)
    environ = {
        "DIRIGENT_FUNCTION_PORT": "9000",
        "DIRIGENT_FUNCTION_HOST": "127.0.0.1",
        "DIRIGENT_SIDECAR_PORT": "9889",
        "DIRIGENT_FUNCTION_DEV": "true",
    }
    assert Settings.load(environ) == Settings("127.0.0.1", 9000, "http://127.0.0.1:9889", True)
    assert Settings.load(environ, ["--port", "0", "--host", "::1"]).port == 0
    assert Settings.load({}, ["--dev"]).dev


@pytest.mark.parametrize(
    ("environ", "argv", "message"),
    [
        ({"DIRIGENT_FUNCTION_PORT": "http"}, [], "DIRIGENT_FUNCTION_PORT must be a port number"),
        ({"DIRIGENT_SIDECAR_PORT": "70000"}, [], "DIRIGENT_SIDECAR_PORT must be in 0..65535"),
        ({"DIRIGENT_FUNCTION_DEV": "maybe"}, [], "DIRIGENT_FUNCTION_DEV must be 1/true/yes"),
        ({}, ["--port", "x"], "--port"),
        ({}, ["--port", "-1"], "--port must be in 0..65535"),
        ({}, ["--verbose"], "unknown option(s): --verbose"),
    ],
)
def test_bad_settings_are_named(environ: dict[str, str], argv: list[str], message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.load(environ, argv)
    assert message in str(raised.value)


def test_a_folder_runs_its_main_py_with_this_python(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text("")
    assert command_for(tmp_path) == [sys.executable, "-u", str(tmp_path / "main.py")]
    assert environment_for(port=1, sidecar_port=2) == {
        "DIRIGENT_FUNCTION_HOST": "127.0.0.1",
        "DIRIGENT_FUNCTION_PORT": "1",
        "DIRIGENT_SIDECAR_PORT": "2",
        "DIRIGENT_FUNCTION_DEV": "0",
    }


def test_a_folder_without_main_py_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"has no main\.py"):
        command_for(tmp_path)
    with pytest.raises(InvalidInput, match="is not a folder"):
        command_for(tmp_path / "nowhere")


def test_variable_names() -> None:
    assert parse_variable_name("workflow/count") == ("workflow", "count")
    assert parse_variable_name("count") == ("instance", "count")
    with pytest.raises(InvalidInput, match="scope must be one of"):
        parse_variable_name("global/count")
    with pytest.raises(InvalidInput, match="variable key"):
        parse_variable_name("instance/9lives")

"""Test a handler through its real HTTP server, called the way the engine calls it.

    from dirigent.sdk.testing import call

    def test_greets():
        result = call(handle, {"name": "Ada"})
        assert result.output == {"greeting": "Hello, Ada!"}
        assert result.logs == ["greeting Ada"]

`call` starts the handler's server and a real sidecar on free loopback ports in this process, makes
one call with Dirigent's own `FunctionCaller` (temp dir, deadline, `files`, out files), and stops
them. It runs an event loop of its own: from an async test, use `await asyncio.to_thread(call, ...)`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pydantic_core

from dirigent.errors import WorkflowError
from dirigent.sdk.context import BYTES_MIME, TEXT_MIME
from dirigent.sdk.errors import FunctionError
from dirigent.sdk.handler import Function, Handler, make_function
from dirigent.sdk.harness import open_harness
from dirigent.sdk.server import open_function_server
from dirigent.sdk.settings import Settings
from dirigent.types import JSON


@dataclass(frozen=True, slots=True)
class CallResult:
    """A successful call: the value the workflow gets, the log lines, the variables after it.

    `variables` are by `scope/key` (e.g. `instance/count`), those given to `call` included.
    """

    output: JSON
    logs: list[str]
    variables: dict[str, bytes]


class FunctionCrashed(Exception):
    """The function crashed: it answered only `Direktiv-ErrorMessage` (an unexpected exception).

    A workflow would end with `direktiv.internal.error`; `message` is the function's message.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def call(
    handler: Handler | Function,
    input: Any = None,
    *,
    variables: Mapping[str, bytes | str] | None = None,
    files: Mapping[str, bytes] | None = None,
    timeout: float = 60.0,
) -> CallResult:
    """Call `handler` with `input` (encoded as JSON, pydantic models too) through its server.

    `variables` preset variables by `scope/key` (a `str` as UTF-8 text); `files` are written into
    the temp dir by key, as a function definition's `files` entries are. Raises `FunctionError`
    for a catchable error (the handler's own, `input.invalid`, or the engine's, such as
    `direktiv.cancels.timeout` after `timeout` seconds) and `FunctionCrashed` for a crash.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RuntimeError(
            "call() runs an event loop of its own; in an async test use "
            "`await asyncio.to_thread(call, handler, input)`"
        )
    function = make_function(handler)
    body = pydantic_core.to_json(input)
    return asyncio.run(_call(function, body, variables or {}, files or {}, timeout))


async def _call(
    function: Function,
    body: bytes,
    variables: Mapping[str, bytes | str],
    files: Mapping[str, bytes],
    deadline_in: float,
) -> CallResult:
    async with open_harness(function.name) as harness:
        for name, value in variables.items():
            if isinstance(value, str):
                await harness.set_variable(name, value.encode(), TEXT_MIME)
            else:
                await harness.set_variable(name, value, BYTES_MIME)
        settings = Settings(
            host="127.0.0.1", port=0, sidecar_url=f"http://127.0.0.1:{harness.sidecar_port}"
        )
        async with open_function_server(function, settings) as port:
            try:
                output = await harness.call(
                    f"http://127.0.0.1:{port}/",
                    body,
                    deadline_in=deadline_in,
                    files=list(files.items()),
                )
            except WorkflowError as error:
                if error.catchable:
                    raise FunctionError(error.code, error.message) from None
                raise FunctionCrashed(error.message) from None
        return CallResult(
            output=output,
            logs=[entry.message for entry in harness.logs()],
            variables={name: v.data for name, v in harness.variables().items()},
        )

"""One call to a function, by URL or by folder, as `dirigent function call` makes it.

The call goes through the engine's own `FunctionCaller` and a live sidecar (see `harness`), so the
function's logs, variables, temp dir and out files work as under Dirigent. A folder is started
first (on free loopback ports) and stopped after.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

from dirigent.errors import WorkflowError
from dirigent.sdk.folder import function_name
from dirigent.sdk.harness import open_harness
from dirigent.sdk.process import free_port, open_function_process
from dirigent.store.records import LogEntry, Variable
from dirigent.types import JSON

#: The name of a function called by URL (its log lines and variables are filed under it).
URL_FUNCTION_NAME = "function"


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """How a call went: its value or error, its log lines, the variables it set or changed.

    `variables` are by `scope/key`; a deleted one does not appear.
    """

    output: JSON
    error: WorkflowError | None
    logs: list[LogEntry]
    variables: dict[str, Variable]


async def call_function(
    target: str | Path,
    input: bytes,
    *,
    deadline_in: float,
    files: Sequence[tuple[str, bytes]] = (),
    sidecar_port: int = 0,
    on_log: Callable[[LogEntry], None] | None = None,
    on_output: Callable[[str], None] = lambda line: None,
) -> CallOutcome:
    """Call the function at URL `target`, or in folder `target`, once with `input`.

    For a URL the sidecar listens on 127.0.0.1:`sidecar_port` (0: any free port; a function
    that hard-codes 8889 needs 8889). For a folder, the function is started with free ports for
    itself and its sidecar; `on_output` sees what it prints. `on_log` sees log lines as they
    arrive. A function's error is in the outcome; raises `Unavailable` (port taken, function not
    starting) and `InvalidInput` (bad folder or `files` key).
    """
    name = URL_FUNCTION_NAME if isinstance(target, str) else function_name(target)
    async with AsyncExitStack() as stack:
        harness = await stack.enter_async_context(
            open_harness(
                name,
                sidecar_port=sidecar_port if isinstance(target, str) else 0,
                on_log=on_log,
            )
        )
        url = target
        if isinstance(target, Path):
            process = await stack.enter_async_context(
                open_function_process(
                    target, port=free_port(), sidecar_port=harness.sidecar_port, on_output=on_output
                )
            )
            url = process.url
        output: JSON = None
        error = None
        try:
            output = await harness.call(str(url), input, deadline_in=deadline_in, files=files)
        except WorkflowError as failure:
            error = failure
        # The `files` entries are variables the call was given, not ones it made.
        given = {f"instance/{key}": Variable(data) for key, data in files}
        changed = {n: v for n, v in harness.variables().items() if given.get(n) != v}
        return CallOutcome(output, error, harness.logs(), changed)

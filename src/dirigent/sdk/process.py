"""A function folder running as a local process, for `dirigent function serve` and `call`."""

from __future__ import annotations

import asyncio
import os
import socket
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from dirigent.errors import Unavailable
from dirigent.sdk.folder import command_for, environment_for

#: How long a function may take to accept connections after its start.
STARTUP_TIMEOUT = 30.0
#: How long a function has to end after SIGTERM before it is killed.
STOP_GRACE = 5.0
#: How many of its last output lines are shown when a function does not start.
OUTPUT_TAIL = 20
_POLL = 0.05


@dataclass(frozen=True, slots=True)
class FunctionProcess:
    """A started function: where to call it."""

    port: int
    process: asyncio.subprocess.Process

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"


@asynccontextmanager
async def open_function_process(
    folder: Path,
    *,
    port: int,
    sidecar_port: int,
    on_output: Callable[[str], None],
    startup_timeout: float = STARTUP_TIMEOUT,
) -> AsyncIterator[FunctionProcess]:
    """Run the function in `folder` on 127.0.0.1:`port` until the block ends.

    Each line it prints (stdout and stderr) goes to `on_output`. Returns once it accepts
    connections; raises `Unavailable` (with its last lines) if it exits or does not listen within
    `startup_timeout` seconds, and `InvalidInput` for a folder without `main.py`. On exit it gets
    SIGTERM, and SIGKILL after `STOP_GRACE` seconds.
    """
    command = command_for(folder)
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=folder,
        env={**os.environ, **environment_for(port=port, sidecar_port=sidecar_port)},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    tail: deque[str] = deque(maxlen=OUTPUT_TAIL)

    def output(line: str) -> None:
        tail.append(line)
        on_output(line)

    reader = asyncio.create_task(_read_lines(process, output))
    try:
        if not await _wait_listening(process, port, startup_timeout):
            await asyncio.wait((reader,), timeout=STOP_GRACE)
            raise Unavailable(
                f"the function in {folder} exited with status {process.returncode} before it "
                "listened; its last output:\n" + "\n".join(tail)
            )
        yield FunctionProcess(port, process)
    finally:
        await _stop(process)
        await asyncio.wait((reader,), timeout=STOP_GRACE)
        reader.cancel()


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _read_lines(process: asyncio.subprocess.Process, output: Callable[[str], None]) -> None:
    if process.stdout is None:  # pragma: no cover - a pipe was asked for
        return
    async for raw in process.stdout:
        output(raw.decode("utf-8", errors="replace").rstrip("\r\n"))


async def _wait_listening(process: asyncio.subprocess.Process, port: int, within: float) -> bool:
    """True once `port` accepts connections; False if the process ended first."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while process.returncode is None:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if loop.time() > deadline:
                raise Unavailable(f"the function did not listen within {within:g} s") from None
            with suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), _POLL)  # a poll that ends early on exit
            continue
        writer.close()
        await writer.wait_closed()
        return True
    return False


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        with suppress(ProcessLookupError):
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), STOP_GRACE)
        except TimeoutError:
            with suppress(ProcessLookupError):
                process.kill()
            await process.wait()

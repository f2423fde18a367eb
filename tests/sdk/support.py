"""Helpers for the SDK tests: the SDK test functions as real processes, and what they print."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from dirigent.sdk.folder import command_for
from dirigent.sdk.process import FunctionProcess, free_port, open_function_process

FUNCTIONS = Path(__file__).resolve().parent / "functions"
ROOT = Path(__file__).resolve().parents[2]
DIRIGENT = [sys.executable, "-m", "dirigent"]


@dataclass
class Printed:
    """Lines a process printed, and a way to wait for one."""

    lines: list[str] = field(default_factory=list)
    _new: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, line: str) -> None:
        self.lines.append(line)
        self._new.set()

    async def wait_for(self, text: str, within: float = 10.0) -> str:
        """The first line containing `text`, waiting up to `within` seconds for it."""
        async with asyncio.timeout(within):
            while True:
                for line in self.lines:
                    if text in line:
                        return line
                self._new.clear()
                await self._new.wait()


@dataclass
class Running:
    """A started SDK test function."""

    process: FunctionProcess
    printed: Printed

    @property
    def url(self) -> str:
        return self.process.url


@asynccontextmanager
async def start(name: str, sidecar_port: int) -> AsyncIterator[Running]:
    """Run test function `name` (a folder of `functions/`) until the block ends."""
    printed = Printed()
    async with open_function_process(
        FUNCTIONS / name, port=free_port(), sidecar_port=sidecar_port, on_output=printed.add
    ) as process:
        yield Running(process, printed)


@asynccontextmanager
async def start_dev(name: str, *args: str) -> AsyncIterator[tuple[str, Printed]]:
    """Run test function `name` with `args` (e.g. `--dev`) on a free port; yields its URL."""
    port = free_port()
    printed = Printed()
    process = await asyncio.create_subprocess_exec(
        *command_for(FUNCTIONS / name),
        "--port",
        str(port),
        "--host",
        "127.0.0.1",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "DIRIGENT_SIDECAR_PORT": str(free_port())},
    )
    assert process.stdout is not None
    reader = asyncio.create_task(read_lines(process.stdout, printed))
    try:
        await printed.wait_for("listening on")
        yield f"http://127.0.0.1:{port}/", printed
    finally:
        process.terminate()
        await process.wait()
        await reader


async def read_lines(stream: asyncio.StreamReader, printed: Printed) -> None:
    """Add each line of `stream` to `printed` until it ends."""
    async for raw in stream:
        printed.add(raw.decode().rstrip("\n"))

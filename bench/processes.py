"""Processes the benchmarks start: the echo function, a Dirigent server, the floor server, peers.

Each listens on a port it picks itself (port 0) and prints it on a line that `start_process` waits
for; its output is kept (the last lines) to explain a process that dies.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import sys
from collections import deque
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
#: How long a process may take to say it listens.
STARTUP_SECONDS = 60.0


class ProcessFailed(RuntimeError):
    """A process the bench needs did not start (the message has its last output)."""


@dataclass
class Running:
    """A started process: its port (from its ready line) and its recent output."""

    name: str
    process: asyncio.subprocess.Process
    port: int = 0
    lines: deque[str] = field(default_factory=lambda: deque(maxlen=40))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_mb(self) -> float:
        """The process's resident set size now, in MiB (Linux: `/proc/<pid>/status`)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise ProcessFailed(f"{self.name}: no VmRSS in /proc/{self.process.pid}/status")

    def output(self) -> str:
        return "\n".join(self.lines)


@asynccontextmanager
async def start_process(
    name: str,
    args: Sequence[str],
    ready: str,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path = ROOT,
) -> AsyncIterator[Running]:
    """Run `args`; ready once a line of its output matches `ready`, whose group 1 is the port.

    On leaving, the process is terminated (killed after five seconds).
    """
    process = await asyncio.create_subprocess_exec(
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )
    running = Running(name, process)
    port: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    reader = asyncio.create_task(_read(running, re.compile(ready), port))
    try:
        try:
            async with asyncio.timeout(STARTUP_SECONDS):
                running.port = await port
        except (TimeoutError, EOFError):
            raise ProcessFailed(f"{name} did not start:\n{running.output()}") from None
        yield running
    finally:
        await _stop(process)
        reader.cancel()
        with suppress(asyncio.CancelledError):
            await reader


async def _read(running: Running, ready: re.Pattern[str], port: asyncio.Future[int]) -> None:
    assert running.process.stdout is not None  # asked for with PIPE
    async for raw in running.process.stdout:
        line = raw.decode("utf-8", errors="replace").rstrip()
        running.lines.append(line)
        found = ready.search(line)
        if found and not port.done():
            port.set_result(int(found.group(1)))
    if not port.done():
        port.set_exception(EOFError())


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    with suppress(ProcessLookupError):
        process.terminate()
    try:
        async with asyncio.timeout(5):
            await process.wait()
    except TimeoutError:
        with suppress(ProcessLookupError):
            process.kill()
        await process.wait()


@dataclass(frozen=True)
class CallLog:
    """The echo's calls since it was last cleared (see `bench.echo`)."""

    lanes: list[object]
    arrivals: list[int]
    durations: list[int]
    in_flight: int

    def mean_function_us(self) -> float:
        return sum(self.durations) / len(self.durations) / 1000 if self.durations else 0.0

    def state_gaps_us(self) -> list[float]:
        """Per lane, the time from one call's arrival to the next one's, less the function's time
        of the first: one action state of a sequence, without its function (µs)."""
        by_lane: dict[object, list[tuple[int, int]]] = {}
        for lane, arrived, took in zip(self.lanes, self.arrivals, self.durations, strict=True):
            if lane is not None:
                by_lane.setdefault(lane, []).append((arrived, took))
        gaps: list[float] = []
        for calls in by_lane.values():
            calls.sort()
            for (arrived, took), (following, _) in itertools.pairwise(calls):
                gaps.append((following - arrived - took) / 1000)
        return gaps


@dataclass
class Echo:
    """The running echo function and a client for its call log."""

    running: Running
    session: aiohttp.ClientSession

    @property
    def url(self) -> str:
        return f"{self.running.url}/"

    def slow_url(self, seconds: float) -> str:
        return f"{self.running.url}/slow/{seconds:g}/"

    async def clear(self) -> None:
        async with self.session.delete(f"{self.running.url}/calls") as response:
            response.raise_for_status()

    async def calls(self) -> CallLog:
        async with self.session.get(f"{self.running.url}/calls") as response:
            response.raise_for_status()
            data = await response.json()
        return CallLog(data["lanes"], data["arrivals"], data["durations"], data["in_flight"])


@asynccontextmanager
async def start_echo() -> AsyncIterator[Echo]:
    """The echo function (`bench.echo`) in a process of its own, with a client for its log."""
    args = [sys.executable, "-m", "bench.echo", "--port", "0"]
    async with (
        start_process("echo function", args, r"^LISTENING (\d+)") as running,
        aiohttp.ClientSession() as session,
    ):
        yield Echo(running, session)

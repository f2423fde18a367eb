"""A `dirigent server` process and the floor server process, and a client for what the bench asks."""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp

from bench.context import BenchError
from bench.processes import STARTUP_SECONDS, ProcessFailed, Running, start_process

NAMESPACE = "default"


@asynccontextmanager
async def start_dirigent(database: str, services: Mapping[str, str]) -> AsyncIterator[Running]:
    """`dirigent server` on `database` with `services`, any free port, no drain on stop."""
    with tempfile.TemporaryDirectory(prefix="dirigent-bench-server-") as data_dir:
        args = [sys.executable, "-m", "dirigent", "server", "--data-dir", data_dir]
        args += ["--port", "0", "--sidecar-port", "0", "--database", database]
        for name, url in services.items():
            args += ["--service", f"{name}={url}"]
        ready = r"Dirigent listening on http://127\.0\.0\.1:(\d+)"
        # Calls still in flight at the end (the slow function's) are not waited for.
        env = {"DIRIGENT_DRAIN_SECONDS": "0"}
        async with start_process("dirigent server", args, ready, env=env) as running:
            await _wait_healthy(running)
            yield running


async def _wait_healthy(running: Running) -> None:
    """Until `/api/healthz` answers: the server names its port just before it starts listening."""
    deadline = time.monotonic() + STARTUP_SECONDS
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(f"{running.url}/api/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            if time.monotonic() > deadline or running.process.returncode is not None:
                raise ProcessFailed(f"dirigent server is not healthy:\n{running.output()}")
            await asyncio.sleep(0.02)


@asynccontextmanager
async def start_floor_server(database: str, echo_url: str) -> AsyncIterator[Running]:
    """The floor server (`bench.floor_server`) on `database`, calling the echo at `echo_url`."""
    args = [sys.executable, "-m", "bench.floor_server", "--database", database, "--echo", echo_url]
    async with start_process("floor server", args, r"^LISTENING (\d+)") as running:
        yield running


@dataclass
class Api:
    """What the bench asks of a Dirigent server (or of the floor server, which has `execute`)."""

    session: aiohttp.ClientSession
    base: str

    async def push(self, source: str) -> None:
        url = f"{self.base}/api/namespaces/{NAMESPACE}/workflows"
        async with self.session.post(url, data=source.encode()) as response:
            if response.status != 200:
                raise BenchError(f"push failed: {response.status} {await response.text()}")

    async def execute(self, workflow: str, body: bytes = b"{}", *, wait: bool = False) -> bytes:
        """Start `workflow` (and with `wait`, wait for its end); its answer's body."""
        url = f"{self.base}/api/namespaces/{NAMESPACE}/workflows/{workflow}/execute"
        params = {"wait": "true"} if wait else None
        async with self.session.post(url, data=body, params=params) as response:
            answer = await response.read()
            if response.status != 200 or "Direktiv-ErrorCode" in response.headers:
                raise BenchError(f"{workflow}: {response.status} {answer[:300]!r}")
            return answer

    async def gauges(self) -> dict[str, float]:
        """The unlabelled series of `/metrics` (such as `dirigent_instances_held`)."""
        async with self.session.get(f"{self.base}/metrics") as response:
            text = await response.text()
        values: dict[str, float] = {}
        for line in text.splitlines():
            name, _, value = line.partition(" ")
            if line and not line.startswith("#") and "{" not in name:
                values[name] = float(value)
        return values

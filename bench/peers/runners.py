"""The 3-step workflow on each peer and on Dirigent: one function per peer, each a `PeerResult`.

Every peer calls the same echo function (`bench.echo`) with the same small JSON, three steps per
workflow, each step durably recorded before the next. A workflow's time is measured by its caller:
in process for the libraries (Dirigent's embedded engine, DBOS), over HTTP for the servers (Dirigent's
`execute?wait=true`, Restate's ingress). Per-step overhead is a workflow's time less the echo's own
time for its three calls, over three. Workflows/s is with 16 workflows at a time.
"""

from __future__ import annotations

import asyncio
import socket
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from bench.context import open_embedded, run_instance
from bench.databases import Kind, fresh_database
from bench.drive import Driven, drive
from bench.peers.environment import PeerUnavailable, ensure_python, ensure_restate_server
from bench.processes import ROOT, Echo, start_process
from bench.server import Api, start_dirigent
from bench.workflows import PEER_PAYLOAD, peer_steps

STEPS = 3
CONCURRENCY = 16


@dataclass(frozen=True)
class PeerResult:
    """One peer on one storage: per-step overhead (µs) and workflows per second."""

    peer: str
    storage: str
    caller: str  # "in process" or "HTTP"
    step_p50_us: float | None = None
    step_p99_us: float | None = None
    workflows_per_second: float | None = None
    version: str = ""
    #: The Dirigent row this one is compared with (same storage, same kind of caller).
    compare_with: str = ""
    error: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.peer} ({self.caller}, {self.storage})"


def _result(
    peer: str,
    storage: str,
    caller: str,
    sequential: Driven,
    rate: float,
    function_us: float,
    *,
    version: str = "",
) -> PeerResult:
    per_step = sequential.measure(less_us=STEPS * function_us)
    return PeerResult(
        peer,
        storage,
        caller,
        step_p50_us=(per_step.p50_us or 0) / STEPS,
        step_p99_us=(per_step.p99_us or 0) / STEPS,
        workflows_per_second=rate,
        version=version,
        extra={"function_us": function_us, "workflows": len(sequential.took_us)},
    )


async def _measure(
    echo: Echo, one: Callable[[], Awaitable[object]], runs: int, total: int
) -> tuple[Driven, float, float]:
    """Warm up; `runs` workflows one at a time; `total`, 16 at a time. Returns the sequential
    times, the workflows per second of the concurrent part, and the echo's mean time per call."""
    await drive(one, 10, 1)
    await echo.clear()
    sequential = await drive(one, runs, 1)
    function_us = (await echo.calls()).mean_function_us()
    rate = total / (await drive(one, total, CONCURRENCY)).wall
    return sequential, rate, function_us


async def dirigent_embedded(echo: Echo, kind: Kind, runs: int, total: int) -> PeerResult:
    async with (
        fresh_database(kind) as url,
        open_embedded(url, [peer_steps(STEPS)], {"bench/echo": echo.url}) as engine,
    ):
        one = partial(run_instance, engine, f"steps-{STEPS}", {})
        measured = await _measure(echo, one, runs, total)
    return _result("Dirigent", kind, "in process", *measured)


async def dirigent_server(echo: Echo, kind: Kind, runs: int, total: int) -> PeerResult:
    async with (
        fresh_database(kind) as url,
        start_dirigent(url, {"bench/echo": echo.url}) as server,
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session,
    ):
        api = Api(session, server.url)
        await api.push(peer_steps(STEPS))
        one = partial(api.execute, f"steps-{STEPS}", b"{}", wait=True)
        measured = await _measure(echo, one, runs, total)
    return _result("Dirigent", kind, "HTTP", *measured)


async def dbos(echo: Echo, kind: Kind, runs: int, total: int) -> PeerResult:
    python = await ensure_python()
    async with _dbos_database(kind) as url:
        await echo.clear()
        args = [str(python), "-m", "bench.peers.dbos_app", "--database", url, "--echo", echo.url]
        args += ["--runs", str(runs), "--workflows", str(total), "--concurrency", str(CONCURRENCY)]
        process = await asyncio.create_subprocess_exec(
            *args, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        output, errors = await process.communicate()
        if process.returncode != 0:
            lines = errors.decode(errors="replace").strip().splitlines()
            raise PeerUnavailable("DBOS failed:\n" + "\n".join(lines[-12:]))
        found = orjson.loads(output.strip().splitlines()[-1])
        function_us = (await echo.calls()).mean_function_us()
    sequential = Driven(found["took_us"], sum(found["took_us"]) / 1e6)
    rate = found["workflows"] / found["wall"]
    return _result(
        "DBOS", kind, "in process", sequential, rate, function_us, version=found["version"]
    )


@asynccontextmanager
async def _dbos_database(kind: Kind) -> AsyncIterator[str]:
    """DBOS's system database: an SQLite file, or a fresh PostgreSQL database."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="dirigent-bench-dbos-") as folder:
            yield f"sqlite:///{Path(folder) / 'dbos.sqlite'}"
    else:
        async with fresh_database(kind) as url:
            yield url


async def restate(echo: Echo, runs: int, total: int) -> PeerResult:
    python = await ensure_python()
    binary = await ensure_restate_server()
    version = (await _output(str(binary), "--version")).split()[-1]
    ingress, admin, node, service = (_free_port() for _ in range(4))
    with tempfile.TemporaryDirectory(prefix="dirigent-bench-restate-") as base:
        env = {
            "RESTATE_INGRESS__BIND_ADDRESS": f"127.0.0.1:{ingress}",
            "RESTATE_ADMIN__BIND_ADDRESS": f"127.0.0.1:{admin}",
            "RESTATE_BIND_ADDRESS": f"127.0.0.1:{node}",
            "NO_COLOR": "1",
        }
        server_args = [str(binary), "--no-logo", "--listen-mode", "tcp", "--base-dir", base]
        app_args = [str(python), "-m", "hypercorn", "bench.peers.restate_app:app"]
        app_args += ["--bind", f"127.0.0.1:{service}"]
        async with (
            start_process("restate-server", server_args, rf"server\.port: ({admin})", env=env),
            start_process(
                "restate service",
                app_args,
                rf"Running on .*:({service})",
                env={"ECHO_URL": echo.url},
            ),
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session,
        ):
            await _register(session, admin, service)
            url = f"http://127.0.0.1:{ingress}/Bench/run"
            body = orjson.dumps(PEER_PAYLOAD)

            async def one() -> object:
                headers = {"Content-Type": "application/json"}
                async with session.post(url, data=body, headers=headers) as response:
                    answer = await response.read()
                    if response.status != 200:
                        raise PeerUnavailable(
                            f"Restate answered {response.status}: {answer[:300]!r}"
                        )
                    return answer

            measured = await _measure(echo, one, runs, total)
    return _result("Restate", "its own (default)", "HTTP", *measured, version=version)


async def _register(session: aiohttp.ClientSession, admin: int, service: int) -> None:
    """Tell the Restate server where the service is (retried while its admin API starts)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while True:
        try:
            async with session.post(
                f"http://127.0.0.1:{admin}/deployments",
                json={"uri": f"http://127.0.0.1:{service}"},
            ) as response:
                if response.status in (200, 201):
                    return
                text = await response.text()
        except aiohttp.ClientError as error:
            text = str(error)
        if loop.time() > deadline:
            raise PeerUnavailable(f"Restate did not register the service: {text}")
        await asyncio.sleep(0.2)


async def _output(*args: str) -> str:
    process = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE)
    output, _ = await process.communicate()
    return output.decode(errors="replace")


def _free_port() -> int:
    # Restate takes its ports from settings only; a race with another process is unlikely.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])

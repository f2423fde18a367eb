"""Isolated functions (function-contract.md §7): one fresh run per call, talking through files.

Per call the engine makes a data directory with `input.json` and `vars/` (the `files`, and
`vars/out/<scope>/` for variables out), starts the program with the directory at `DIREKTIV_DATA` (local
processes) or mounted at `/direktiv-data` (containers), tails `out.log` into the instance log, and once
`done` exists reads `output.json` / `error.json` and ends the program. A program that exits without
`done` crashes the instance; one that outlives the call's deadline is killed with
`direktiv.cancels.timeout`; a cancel kills it with the cancel's error.

`IsolatedRuns` holds this protocol; a runtime supplies only how to start and stop the program.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
from abc import ABC, abstractmethod
from datetime import UTC, datetime
from pathlib import Path
from typing import Generic, TypeVar

import orjson

from dirigent.errors import Code, WorkflowError
from dirigent.functions.answer import ERROR_CODE_HEADER, ERROR_MESSAGE_HEADER, interpret_answer
from dirigent.functions.base import FunctionStore
from dirigent.functions.call import FunctionCall
from dirigent.functions.pods.limits import Cgroup
from dirigent.functions.runtimes.process import (
    function_environment,
    limit_process,
    orphan_proof,
)
from dirigent.functions.runtimes.programs import ProgramMap
from dirigent.functions.tempdir import collect_outputs, make_temp_root, prepare_tempdir
from dirigent.spec.functions import IsolatedFunction
from dirigent.store.records import LogEntry
from dirigent.types import JSON

#: How often the data directory is looked at for new log lines and `done`.
POLL_SECONDS = 0.02
#: Seconds a program gets to exit by itself after writing `done`.
EXIT_GRACE = 1.0
MAX_VARIABLE = 64 * 1024 * 1024

H = TypeVar("H")


class IsolatedRuns(ABC, Generic[H]):
    """Runs isolated functions; subclasses say how a program starts (`_start`) and stops (`_kill`)."""

    def __init__(self, store: FunctionStore) -> None:
        self._store = store
        self._root: Path | None = None
        self._stops: dict[str, asyncio.Future[WorkflowError]] = {}

    async def run(self, function: IsolatedFunction, call: FunctionCall) -> JSON:
        stop: asyncio.Future[WorkflowError] = asyncio.get_running_loop().create_future()
        self._stops[call.action_id] = stop
        data = self._data_root() / f"isolated-{call.action_id}"
        try:
            await self._prepare(data, function, call)
            handle = await self._start(function, call, data)
            try:
                return await self._supervise(handle, call, data, stop)
            finally:
                await self._kill(handle)
        finally:
            del self._stops[call.action_id]
            await asyncio.to_thread(shutil.rmtree, data, True)

    async def aclose(self) -> None:
        """Remove the root of the data directories (each run removes its own)."""
        if self._root is not None:
            await asyncio.to_thread(shutil.rmtree, self._root, True)
            self._root = None

    async def cancel(self, action_id: str, error: WorkflowError | None) -> None:
        stop = self._stops.get(action_id)
        if stop is not None and not stop.done():
            stop.set_result(error or WorkflowError(Code.CANCELS_TIMEOUT, "the call was cancelled"))

    # For runtimes

    @abstractmethod
    async def _start(self, function: IsolatedFunction, call: FunctionCall, data: Path) -> H:
        """Start the program of `function` on the data directory `data`; a handle for the others."""

    @abstractmethod
    async def _exited(self, handle: H) -> int | None:
        """Wait until the program has ended; its exit status if known."""

    @abstractmethod
    async def _kill(self, handle: H) -> None:
        """End the program (if it still runs) and free what it held."""

    # The protocol

    def _data_root(self) -> Path:
        if self._root is None:
            self._root = make_temp_root()
        return self._root

    async def _prepare(self, data: Path, function: IsolatedFunction, call: FunctionCall) -> None:
        await asyncio.to_thread(data.mkdir, 0o755)
        made = await prepare_tempdir(data, function.files, call.owner, self._store)
        await asyncio.to_thread(_lay_out, data, made, call.input)

    async def _supervise(
        self, handle: H, call: FunctionCall, data: Path, stop: asyncio.Future[WorkflowError]
    ) -> JSON:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (call.deadline - datetime.now(UTC)).total_seconds()
        exited = asyncio.ensure_future(self._exited(handle))
        log = _LogTail(data / "out.log")
        try:
            while not (data / "done").exists():
                await self._forward(log, call)
                if stop.done():
                    raise stop.result()
                if exited.done():
                    await self._forward(log, call)
                    if (data / "done").exists():
                        break
                    raise WorkflowError(
                        Code.INTERNAL,
                        f"isolated function exited with status {exited.result()} "
                        "without creating 'done'",
                        catchable=False,
                    )
                if loop.time() >= deadline:
                    raise WorkflowError(
                        Code.CANCELS_TIMEOUT,
                        "isolated function did not finish before its deadline",
                    )
                await asyncio.wait((exited, stop), timeout=POLL_SECONDS)
            await asyncio.wait((exited,), timeout=EXIT_GRACE)
            await self._forward(log, call)
            await collect_outputs(
                data / "vars",
                self._store,
                owner=call.owner,
                state=call.state,
                action_id=call.action_id,
                max_variable=MAX_VARIABLE,
            )
            return _result(data)
        finally:
            if not exited.done():
                exited.cancel()

    async def _forward(self, log: _LogTail, call: FunctionCall) -> None:
        for line in log.new_lines():
            entry = LogEntry(
                call.owner.instance_id,
                datetime.now(UTC),
                line,
                state=call.state,
                action_id=call.action_id,
            )
            await self._store.append_log(entry)


def _lay_out(data: Path, made: Path, input: bytes) -> None:
    made.rename(data / "vars")
    (data / "input.json").write_bytes(input)


class _LogTail:
    """The complete lines appended to a file since the last look."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.partial = b""

    def new_lines(self) -> list[str]:
        try:
            with self.path.open("rb") as file:
                file.seek(self.offset)
                chunk = file.read()
        except FileNotFoundError:
            return []
        self.offset += len(chunk)
        *lines, self.partial = (self.partial + chunk).split(b"\n")
        return [line.decode("utf-8", errors="replace").rstrip("\r") for line in lines if line]


def _result(data: Path) -> JSON:
    """`output.json` as a value, or the error `error.json` stands for (read like HTTP headers)."""
    error_file = data / "error.json"
    if error_file.exists():
        try:
            error = orjson.loads(error_file.read_bytes())
        except orjson.JSONDecodeError:
            error = {"message": "isolated function wrote an error.json that is not JSON"}
        if not isinstance(error, dict):
            error = {"message": "isolated function wrote an error.json that is not an object"}
        code = str(error.get("code") or "")
        message = str(error.get("message") or error.get("msg") or "")
        if code or message:
            interpret_answer(200, {ERROR_CODE_HEADER: code, ERROR_MESSAGE_HEADER: message}, b"")
    output = data / "output.json"
    return interpret_answer(200, {}, output.read_bytes() if output.exists() else b"")


class ProcessIsolatedRunner(IsolatedRuns["_Running"]):
    """Isolated functions as local processes, with `DIREKTIV_DATA` pointing at the data directory."""

    def __init__(self, programs: ProgramMap, store: FunctionStore) -> None:
        super().__init__(store)
        self._programs = programs

    async def _start(self, function: IsolatedFunction, call: FunctionCall, data: Path) -> _Running:
        program = self._programs.program_for(function.image, function.cmd)
        process = await asyncio.create_subprocess_exec(
            *orphan_proof(*program.argv),
            cwd=program.cwd,
            env=function_environment(data, {"DIREKTIV_DATA": str(data)}),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
        cgroup = limit_process(process.pid, function.size)
        return _Running(process, cgroup)

    async def _exited(self, handle: _Running) -> int | None:
        return await handle.process.wait()

    async def _kill(self, handle: _Running) -> None:
        running = handle
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(running.process.pid, signal.SIGKILL)
        await running.process.wait()
        if running.cgroup is not None:
            running.cgroup.remove()


class _Running:
    def __init__(self, process: asyncio.subprocess.Process, cgroup: Cgroup | None) -> None:
        self.process = process
        self.cgroup = cgroup

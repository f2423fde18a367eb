"""Isolated functions in containers (function-contract.md §7): one fresh container per call, with the
call's data directory mounted at `/direktiv-data`. `IsolatedRuns` does the rest (input, logs, results,
deadline); the container is removed when the call ends, however it ends.
"""

from __future__ import annotations

from pathlib import Path

from dirigent.errors import Code, InvalidInput, WorkflowError
from dirigent.functions.base import FunctionStore
from dirigent.functions.call import FunctionCall
from dirigent.functions.runtimes.docker.containers import Containers, ContainerSpec, split_cmd
from dirigent.functions.runtimes.docker.engine import EngineError
from dirigent.functions.runtimes.isolated import IsolatedRuns
from dirigent.spec.functions import IsolatedFunction

#: Where the data directory is inside the container (the contract's path).
DATA_PATH = "/direktiv-data"


class DockerIsolatedRunner(IsolatedRuns[str]):
    """Isolated functions as containers; the handle of a run is its container's id."""

    def __init__(self, containers: Containers, store: FunctionStore) -> None:
        super().__init__(store)
        self._containers = containers

    async def _start(self, function: IsolatedFunction, call: FunctionCall, data: Path) -> str:
        try:
            command = split_cmd(function.cmd)
        except InvalidInput as error:
            raise WorkflowError(Code.INTERNAL, error.message, catchable=False) from None
        return await self._containers.run(
            ContainerSpec(
                pod=f"isolated:{call.action_id}",
                image=function.image,
                namespace=call.owner.namespace,
                command=command,
                size=function.size,
                mounts=((data, DATA_PATH),),
            )
        )

    async def _exited(self, handle: str) -> int | None:
        try:
            return await self._containers.engine.wait(handle)
        except EngineError:
            return None

    async def _kill(self, handle: str) -> None:
        await self._containers.remove(handle)

"""Pods of the docker runtime: one container each, entered through its network namespace.

The container is made by `Containers` (image pulled if needed, `size`, `cmd`, bridge network, labels).
The pod then opens the namespace of the container's main process (`/proc/<pid>/ns/net`): the base
class serves the sidecar on 127.0.0.1:8889 *inside* it and dials the function's 127.0.0.1:8080
there, so the container needs no second container for the sidecar and no published port, and pods
cannot reach each other's. The engine's temp root is mounted at the same path inside, so the
`Direktiv-TempDir` of a call is a real directory in the container. What the container prints is
followed into the pod's output (its tail names a pod that fails to start).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from dirigent.errors import Unavailable
from dirigent.functions.pods.netns import NetworkNamespace
from dirigent.functions.pods.pod import Pod, PodSpec, exited_early
from dirigent.functions.runtimes.docker.containers import Containers, ContainerSpec, split_cmd
from dirigent.functions.runtimes.docker.engine import ContainerState, EngineError
from dirigent.functions.sidecar import Sidecar

log = logging.getLogger("dirigent.pods")

#: Seconds a container gets to stop after SIGTERM before the engine kills it.
STOP_SECONDS = 2
#: Seconds to wait for the last lines of a container that has stopped.
LOG_DRAIN_SECONDS = 2.0


class DockerPod(Pod):
    """A pod whose program is a container; `container_id` names it while it exists."""

    def __init__(
        self,
        spec: PodSpec,
        sidecar: Sidecar,
        containers: Containers,
        temp_root: Path,
        command: tuple[str, ...] | None,
    ) -> None:
        super().__init__(spec, sidecar)
        self.container_id: str | None = None
        self._containers = containers
        self._engine = containers.engine
        self._temp_root = temp_root
        self._command = command
        self._logs: asyncio.Task[None] | None = None

    async def _launch(self) -> NetworkNamespace:
        container = self.container_id = await self._containers.run(
            ContainerSpec(
                pod=self.spec.key,
                image=self.spec.image,
                namespace=self.spec.namespace,
                command=self._command,
                size=self.spec.size,
                mounts=((self._temp_root, str(self._temp_root)),),
            )
        )
        self._logs = asyncio.create_task(self._follow(container))
        state = ContainerState.of(await self._engine.inspect(container))
        if state.running:
            try:
                return _enter(self._engine.socket, container, state.pid)
            except Unavailable:
                # Unless its process has just exited (the engine may not know it yet).
                if _exists(state.pid):
                    raise
        status = await self._engine.wait(container)
        await self._drain_logs()
        raise exited_early(self.spec, status, self.tail())

    async def _wait_exit(self) -> int | None:
        container = self.container_id
        if container is None:
            return None
        try:
            status = await self._engine.wait(container)
        except EngineError as error:
            log.warning("%s: cannot follow its container: %s", self.spec.label, error.message)
            return None
        await self._drain_logs()
        return status

    async def _terminate(self) -> None:
        if self.container_id is None:
            return
        try:
            await self._engine.stop(self.container_id, STOP_SECONDS)
        except EngineError as error:
            log.warning("%s: cannot stop its container: %s", self.spec.label, error.message)

    async def _release(self) -> None:
        container, self.container_id = self.container_id, None
        if container is not None:
            await self._containers.remove(container)
        if self._logs is not None:
            self._logs.cancel()
            await asyncio.wait((self._logs,))
            self._logs = None

    async def _follow(self, container: str) -> None:
        try:
            async for line in self._engine.logs(container):
                self.output(line)
        except EngineError as error:
            log.debug("%s: no more output: %s", self.spec.label, error.message)

    async def _drain_logs(self) -> None:
        if self._logs is not None:
            await asyncio.wait((self._logs,), timeout=LOG_DRAIN_SECONDS)


def _enter(socket: str, container: str, pid: int) -> NetworkNamespace:
    """The network namespace of `container`, whose main process is `pid` of this machine.

    Raises `Unavailable` when process `pid` here is not the container's: an engine that runs its
    containers elsewhere (in a VM, as Docker Desktop does) reports pids of that machine, and
    entering whatever process has that pid here would be wrong. The container's id is part of
    its process's cgroup path with Docker and Podman alike.
    """
    try:
        cgroups = Path(f"/proc/{pid}/cgroup").read_text()
    except OSError:
        cgroups = ""
    if container not in cgroups:
        raise Unavailable(
            f"the Docker Engine at {socket} runs its containers on another machine or in a VM "
            f"(container {container[:12]} is not process {pid} here); the docker runtime needs "
            "an engine on the machine Dirigent runs on"
        )
    return NetworkNamespace.of_process(pid)


def _exists(pid: int) -> bool:
    """Whether process `pid` exists (a look at /proc, which lives in memory)."""
    return Path(f"/proc/{pid}").exists()


class DockerLauncher:
    """Makes docker pods; call temp dirs live under `temp_root`, which every container mounts."""

    name = "docker"

    def __init__(self, containers: Containers, temp_root: Path) -> None:
        self._containers = containers
        self._temp_root = temp_root

    def pod(self, spec: PodSpec, sidecar: Sidecar) -> Pod:
        return DockerPod(spec, sidecar, self._containers, self._temp_root, split_cmd(spec.cmd))

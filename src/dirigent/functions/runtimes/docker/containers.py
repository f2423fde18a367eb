"""This server's containers: made from images pulled on demand, marked with labels, removed when done.

Every container gets the labels `dirigent.pod` (what it runs: a service key, or `isolated:<action id>`)
and `dirigent.owner` (this server process, see `owners`). At start a server removes the containers of
owners that are gone (a crashed server's pods); at the end it removes its own.

What a container gets: the bridge network (it can reach out, nothing reaches in: no port is
published), the `size` as memory and CPU limits, the `cmd` (shell-split) in place of the image's
entrypoint and command, the given bind mounts, the engine's init as PID 1, and a size-capped
`json-file` log so that its output can be followed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dirigent.errors import Code, InvalidInput, WorkflowError
from dirigent.functions.pods.limits import ResourceLimits
from dirigent.functions.runtimes.docker import owners
from dirigent.functions.runtimes.docker.engine import DockerEngine, EngineError
from dirigent.functions.runtimes.docker.registries import (
    RegistryCredentials,
    login_for,
    pull_reference,
)
from dirigent.types import JSONObject

log = logging.getLogger("dirigent.pods")

POD_LABEL = "dirigent.pod"
OWNER_LABEL = "dirigent.owner"
NETWORK = "bridge"
_NAME_UNSAFE = re.compile(r"[^a-zA-Z0-9_.-]+")


@dataclass(frozen=True, slots=True)
class ContainerSpec:
    """One container to run: `pod` labels it, `namespace` says whose registry logins pull `image`."""

    pod: str
    image: str
    namespace: str
    #: Replaces the image's entrypoint and command (see `split_cmd`).
    command: tuple[str, ...] | None = None
    size: str = "small"
    #: (host path, path inside) pairs, mounted read-write.
    mounts: Sequence[tuple[Path, str]] = ()


def split_cmd(cmd: str | None) -> tuple[str, ...] | None:
    """A function's `cmd` as a command line; raises `InvalidInput` when it cannot be split."""
    if not cmd:
        return None
    try:
        return tuple(shlex.split(cmd))
    except ValueError as error:
        raise InvalidInput(f"cmd {cmd!r} cannot be split: {error}") from None


class Containers:
    """Runs and removes the containers of one server process on one engine."""

    def __init__(self, engine: DockerEngine, registries: RegistryCredentials | None) -> None:
        self.engine = engine
        self.owner = owners.this_process()
        self._registries = registries
        self._pulls: dict[str, asyncio.Lock] = {}

    async def run(self, spec: ContainerSpec) -> str:
        """Create and start a container for `spec` (pulling its image first if needed); its id.

        Raises `WorkflowError` (`direktiv.function.failed`) when the image cannot be had or the
        engine refuses the container. Cancelled while the engine makes it, it waits for the engine
        and removes the container, so that none is left behind.
        """
        await self._ensure_image(spec.image, spec.namespace)
        making = asyncio.ensure_future(self._make(spec))
        try:
            return await asyncio.shield(making)
        except asyncio.CancelledError:
            with contextlib.suppress(WorkflowError):
                await self.remove(await making)
            raise

    async def _make(self, spec: ContainerSpec) -> str:
        name = f"dirigent-{_NAME_UNSAFE.sub('-', spec.image.rpartition('/')[2])}-{secrets.token_hex(4)}"
        try:
            container = await self.engine.create(name, self._config(spec))
        except EngineError as error:
            raise WorkflowError(
                Code.FUNCTION_FAILED,
                f"image {spec.image}: cannot make a container: {error.message}",
            ) from None
        try:
            await self.engine.start(container)
        except EngineError as error:
            await self.remove(container)
            raise WorkflowError(
                Code.FUNCTION_FAILED, f"image {spec.image}: cannot start it: {error.message}"
            ) from None
        return container

    async def remove(self, container: str) -> None:
        """Remove `container` (killing it), to the end even when cancelled meanwhile (a removal cut
        short leaves it half removed); failures are logged, not raised: the next start sweeps."""
        removal = asyncio.ensure_future(self._remove(container))
        try:
            await asyncio.shield(removal)
        except asyncio.CancelledError:
            await removal
            raise

    async def _remove(self, container: str) -> None:
        try:
            await self.engine.remove(container)
        except EngineError as error:
            log.warning("cannot remove container %s: %s", container[:12], error.message)

    async def remove_leftovers(self) -> int:
        """Remove the containers of server processes that are gone; how many there were."""
        found = await self.engine.containers(OWNER_LABEL)
        gone = [c for c, labels in found if not owners.is_alive(labels.get(OWNER_LABEL, ""))]
        await asyncio.gather(*(self.remove(container) for container in gone))
        if gone:
            log.info("removed %d containers left by servers that are gone", len(gone))
        return len(gone)

    async def remove_own(self) -> None:
        """Remove every container of this server process (the pods stop first; this catches strays)."""
        found = await self.engine.containers(f"{OWNER_LABEL}={self.owner}")
        await asyncio.gather(*(self.remove(container) for container, _ in found))

    # Inside

    def _config(self, spec: ContainerSpec) -> JSONObject:
        limits = ResourceLimits.for_size(spec.size)
        config: JSONObject = {
            "Image": spec.image,
            "Labels": {POD_LABEL: spec.pod, OWNER_LABEL: self.owner},
            "HostConfig": {
                "NetworkMode": NETWORK,
                # A tiny init as PID 1 passes SIGTERM on (a program that is PID 1 itself never
                # gets it) and reaps the orphans of programs that fork.
                "Init": True,
                "Memory": limits.memory_bytes,
                # Equal to Memory: no swap on top of the limit.
                "MemorySwap": limits.memory_bytes,
                "NanoCpus": int(limits.cpus * 1e9),
                "Binds": [f"{host}:{inside}" for host, inside in spec.mounts],
                "LogConfig": {"Type": "json-file", "Config": {"max-size": "1m", "max-file": "1"}},
            },
        }
        if spec.command:
            # Like Kubernetes' `command`: the image's entrypoint and its command both give way.
            config["Entrypoint"] = list(spec.command)
            config["Cmd"] = []
        return config

    async def _ensure_image(self, image: str, namespace: str) -> None:
        """Pull `image` unless the engine has it, once at a time per image."""
        lock = self._pulls.setdefault(image, asyncio.Lock())
        async with lock:
            try:
                if await self.engine.has_image(image):
                    return
                login = None
                if self._registries is not None and namespace:
                    login = login_for(image, await self._registries.registry_logins(namespace))
                log.info("pulling %s%s", image, f" as {login.username}" if login else "")
                await self.engine.pull(pull_reference(image), login.header() if login else None)
            except EngineError as error:
                raise WorkflowError(
                    Code.FUNCTION_FAILED, f"image {image} cannot be pulled: {error.message}"
                ) from None

"""The docker runtime put together: an engine connection, leftovers removed, pods and isolated runs.

See docs/functions.md, "The docker runtime".
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from dirigent.errors import Unavailable
from dirigent.functions.base import FunctionStore
from dirigent.functions.pods.netns import NamespaceUnavailable, NetworkNamespace
from dirigent.functions.runtimes import FunctionSettings, RuntimeParts
from dirigent.functions.runtimes.docker.containers import Containers
from dirigent.functions.runtimes.docker.engine import DockerEngine, EngineError, engine_socket
from dirigent.functions.runtimes.docker.isolated import DockerIsolatedRunner
from dirigent.functions.runtimes.docker.pod import DockerLauncher
from dirigent.functions.runtimes.docker.registries import RegistryCredentials
from dirigent.functions.tempdir import make_temp_root

log = logging.getLogger("dirigent.pods")


@asynccontextmanager
async def open_docker_runtime(
    settings: FunctionSettings, store: FunctionStore, registries: RegistryCredentials | None
) -> AsyncIterator[RuntimeParts]:
    """Connect to the engine of `settings.docker_host`, remove the containers of servers that are
    gone, and give pods and isolated runs as containers; remove this server's containers at the end.

    Raises `Unavailable` when the engine does not answer or this process cannot enter network
    namespaces (it must run as root on the engine's machine), `InvalidInput` for an engine address
    that is not a local socket.
    """
    socket = engine_socket(settings.docker_host)
    _check_namespaces()
    engine = DockerEngine(socket)
    try:
        version = await engine.version()
        containers = Containers(engine, registries)
        await containers.remove_leftovers()
        log.info("docker runtime: engine %s at %s", version, socket)
        temp_root = make_temp_root()
        isolated = DockerIsolatedRunner(containers, store)
        try:
            yield RuntimeParts(DockerLauncher(containers, temp_root), isolated, temp_root)
        finally:
            await isolated.aclose()
            try:
                await containers.remove_own()
            except EngineError as error:  # the next server to start removes them
                log.warning("cannot remove this server's containers: %s", error.message)
            await asyncio.to_thread(shutil.rmtree, temp_root, True)
    finally:
        await engine.aclose()


def _check_namespaces() -> None:
    """Raise `Unavailable` unless this process may enter network namespaces of the host's processes
    (containers'), which takes CAP_SYS_ADMIN in the host's user namespace: root."""
    own = NetworkNamespace.of_process(os.getpid())
    try:
        own.new_socket().close()
    except NamespaceUnavailable:
        raise Unavailable(
            "the docker runtime reaches each container inside its network namespace, which takes "
            "root on the engine's machine: run the server as root (or use the process runtime)"
        ) from None
    finally:
        own.close()

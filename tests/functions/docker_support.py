"""Helpers for the docker runtime's tests: a Docker Engine with the test images, and an embedded engine
whose functions run as containers of it.

Without a Docker Engine (and root, for the pods' network namespaces) the tests skip with one line
saying why; under CI (`CI=true`) they fail instead.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import pytest

from dirigent.functions.pods.netns import NamespaceUnavailable, NetworkNamespace
from dirigent.functions.pods.pool import PoolSettings
from dirigent.functions.runtimes import FunctionSettings
from dirigent.functions.runtimes.docker.containers import OWNER_LABEL
from dirigent.functions.runtimes.docker.engine import DockerEngine, EngineError
from dirigent.functions.runtimes.docker.pod import DockerPod
from dirigent.operations.local import LOCAL_NAMESPACE, open_local_engine
from dirigent.operations.sources import WorkflowFiles
from dirigent.spec import load_workflow
from tests.fixtures.images import ImagesUnavailable, build_images
from tests.fixtures.images.dockerd import DockerMissing, docker_engine
from tests.functions.pods import PodEngine

#: The image of the test functions (tests/fixtures/images/fn).
FN = "acme/fn:v1"


@contextmanager
def docker_for_tests() -> Iterator[str]:
    """The socket of a Docker Engine that has the test images; skips (fails under CI) without one."""
    try:
        NetworkNamespace.create().close()
        with docker_engine() as socket:
            asyncio.run(build_images(socket))
            yield socket
    except (DockerMissing, ImagesUnavailable, NamespaceUnavailable) as error:
        reason = f"docker runtime unavailable: {error}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


def settings(
    socket: str,
    *,
    services: dict[str, str] | None = None,
    max_function_seconds: float = 900.0,
    **pool: Any,
) -> FunctionSettings:
    """Docker runtime settings for tests: the engine at `socket`, quick cancels, `pool` settings."""
    return FunctionSettings(
        runtime="docker",
        docker_host=f"unix://{socket}",
        services=services or {},
        sidecar_port=0,
        cancel_grace=1.0,
        max_function_seconds=max_function_seconds,
        pool=PoolSettings(**pool),
    )


@asynccontextmanager
async def open_docker_engine(
    socket: str, *workflows: str, **options: Any
) -> AsyncIterator[PodEngine]:
    """An embedded engine running `workflows`, its functions in containers of the engine at `socket`."""
    files = WorkflowFiles(LOCAL_NAMESPACE)
    for text in workflows:
        files.add(load_workflow(text))
    async with open_local_engine(workflows=files, functions=settings(socket, **options)) as engine:
        yield PodEngine(engine)


def container_of(pods: PodEngine, workflow: str, function: str) -> str:
    """The container id of the one pod of `function`."""
    [pod] = pods.pods(workflow, function)
    assert isinstance(pod, DockerPod)
    assert pod.container_id is not None
    return pod.container_id


async def containers_owned(socket: str) -> list[str]:
    """Ids of every container a Dirigent server made on the engine at `socket` (any owner)."""
    engine = DockerEngine(socket)
    try:
        return [container for container, _ in await engine.containers(OWNER_LABEL)]
    finally:
        await engine.aclose()


async def wait_until_gone(pods: PodEngine, workflow: str, function: str) -> None:
    """Wait (bounded) until the pool has dropped every pod of `function`."""
    for _ in range(1500):
        if not pods.pods(workflow, function):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"the pods of {function} are still there")


async def wait_until_removed(engine: DockerEngine, container: str) -> None:
    """Wait (bounded) until `container` no longer exists."""
    for _ in range(1500):
        try:
            await engine.inspect(container)
        except EngineError as error:
            if error.status == 404:
                return
            raise
        await asyncio.sleep(0.02)
    raise AssertionError(f"container {container[:12]} is still there")


async def wait_for_log(pods: PodEngine, instance: str, entry: tuple[str, str]) -> None:
    """Wait (bounded) until `entry` (message, state) is in the instance log: a function's log
    lines may arrive after its call ended."""
    for _ in range(500):
        if entry in pods.log(instance):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{entry} is not in the log: {pods.log(instance)}")

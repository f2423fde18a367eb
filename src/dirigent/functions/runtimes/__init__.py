"""Function runtimes: where pods run (`process`: local processes; `docker`: containers), behind one
`PodLauncher` interface, composed with the caller and the sidecar by `open_functions`.

`dirigent run` and `dirigent server` both get their `Functions` from here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from dirigent.errors import InvalidInput
from dirigent.functions.base import FunctionStore
from dirigent.functions.call import FunctionCaller
from dirigent.functions.dispatch import Functions, IsolatedRunner
from dirigent.functions.pods.pool import PodLauncher, PodPool, PoolSettings
from dirigent.functions.runtimes.isolated import ProcessIsolatedRunner
from dirigent.functions.runtimes.process import ProcessLauncher
from dirigent.functions.runtimes.programs import ProgramMap
from dirigent.functions.sidecar import Sidecar, open_sidecar

if TYPE_CHECKING:
    from dirigent.functions.runtimes.docker.registries import RegistryCredentials

#: The platform's default limit on one call (the function contract's 15 minutes).
DEFAULT_MAX_FUNCTION_SECONDS = 15 * 60.0

RuntimeName = Literal["process", "docker"]
RUNTIMES: tuple[RuntimeName, ...] = ("process", "docker")


@dataclass(frozen=True)
class FunctionSettings:
    """How a server (or `dirigent run`) runs functions. See docs/functions.md."""

    runtime: RuntimeName = "process"
    #: Process runtime: image → function folder or command.
    functions: dict[str, str] = field(default_factory=dict)
    #: Function id, image or service name → URL (or `image:NAME` for services run in pods).
    services: dict[str, str] = field(default_factory=dict)
    #: The port of the sidecar on the host's loopback, for functions reached at URLs (0: any).
    sidecar_port: int = 8889
    cancel_grace: float = 10.0
    #: The longest any call may run, whatever the workflow says (the seed's "pulls the plug"); the
    #: engine makes it part of every call's deadline (`Limits.max_function_time`).
    max_function_seconds: float = DEFAULT_MAX_FUNCTION_SECONDS
    pool: PoolSettings = field(default_factory=PoolSettings)
    #: Docker runtime: the Engine API address (empty: `DOCKER_HOST` or the default socket).
    docker_host: str = ""


@dataclass(frozen=True)
class RuntimeParts:
    """What a runtime gives `open_functions`: how pods and isolated runs are made, and the root of
    the calls' temp dirs when the runtime needs to know it (None: the caller makes its own)."""

    launcher: PodLauncher
    isolated: IsolatedRunner
    temp_root: Path | None = None


@dataclass
class FunctionHost:
    """The parts that run functions: `functions` for the runtime, `sidecar` for its port."""

    functions: Functions
    sidecar: Sidecar


@asynccontextmanager
async def open_functions(
    store: FunctionStore,
    settings: FunctionSettings,
    *,
    registries: RegistryCredentials | None = None,
) -> AsyncIterator[FunctionHost]:
    """Start the sidecar and the runtime's pod pool; stop every pod when the block ends.

    `registries` gives the namespaces' registry logins to runtimes that pull images.
    """
    if settings.runtime not in RUNTIMES:
        raise InvalidInput(f"unknown runtime '{settings.runtime}' (choose {', '.join(RUNTIMES)})")
    async with AsyncExitStack() as stack:
        sidecar = await stack.enter_async_context(open_sidecar(store, port=settings.sidecar_port))
        runtime = await stack.enter_async_context(_open_runtime(settings, store, registries))
        caller = FunctionCaller(
            store,
            sidecar=sidecar,
            cancel_grace=settings.cancel_grace,
            temp_root=runtime.temp_root,
        )
        stack.push_async_callback(caller.aclose)
        pool = PodPool(runtime.launcher, sidecar, settings.pool)
        stack.push_async_callback(pool.aclose)
        functions = Functions(
            caller,
            services=settings.services,
            pods=pool,
            isolated=runtime.isolated,
        )
        yield FunctionHost(functions, sidecar)


@asynccontextmanager
async def _open_runtime(
    settings: FunctionSettings, store: FunctionStore, registries: RegistryCredentials | None
) -> AsyncIterator[RuntimeParts]:
    if settings.runtime == "docker":
        from dirigent.functions.runtimes.docker.runtime import open_docker_runtime

        async with open_docker_runtime(settings, store, registries) as parts:
            yield parts
        return
    programs = ProgramMap(settings.functions)
    isolated = ProcessIsolatedRunner(programs, store)
    try:
        yield RuntimeParts(ProcessLauncher(programs), isolated)
    finally:
        await isolated.aclose()

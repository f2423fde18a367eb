"""Pods of every function a server runs: started on first use, shared, scaled, replaced, stopped.

A *service* is the set of pods of one function (one `PodSpec.key`). A call reserves a slot on the least
busy pod that has one (a pod takes up to `concurrency` calls at once); when all are full, a new pod
starts, up to `max_pods`; beyond that, calls wait for a slot. A pod still starting counts as capacity,
so a burst of first calls starts one pod, not one each. Pods idle for `idle_seconds` stop, down to the
function's `scale` (kept warm). A pod that dies is dropped and, when the service is below its `scale`,
replaced. Everything stops when the pool closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from dirigent.errors import Code, WorkflowError
from dirigent.functions.pods.pod import Pod, PodSpec
from dirigent.functions.sidecar import Sidecar

log = logging.getLogger("dirigent.pods")


class PodLauncher(Protocol):
    """A runtime's way of making pods (`process`, `docker`)."""

    name: str

    def pod(self, spec: PodSpec, sidecar: Sidecar) -> Pod:
        """A pod for `spec`, not started yet. Raises `InvalidInput` when `spec` cannot run here."""
        ...


@dataclass(frozen=True, slots=True)
class PoolSettings:
    #: Calls one pod serves at once.
    concurrency: int = 10
    #: Pods of one function at most.
    max_pods: int = 4
    #: Seconds a pod may sit unused before it stops (down to the function's `scale`).
    idle_seconds: float = 300.0
    #: Seconds a new pod has to listen on its port 8080.
    ready_seconds: float = 60.0


@dataclass
class _Service:
    spec: PodSpec
    pods: list[Pod] = field(default_factory=list)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)


class PodPool:
    """The pods of one runtime. Use `reserve` around each call; `aclose` stops every pod."""

    def __init__(self, launcher: PodLauncher, sidecar: Sidecar, settings: PoolSettings) -> None:
        self.launcher = launcher
        self.settings = settings
        self._sidecar = sidecar
        self._services: dict[str, _Service] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        self._reaper: asyncio.Task[None] | None = None

    @asynccontextmanager
    async def reserve(self, spec: PodSpec) -> AsyncIterator[Pod]:
        """A ready pod of `spec` with a slot held for the block.

        Raises `WorkflowError` (`direktiv.function.failed`) when no pod can be started, naming the
        function and the pod's last output.
        """
        service = self._service(spec)
        pod = await self._acquire(service)
        try:
            yield pod
        finally:
            pod.inflight -= 1
            pod.idle_since = asyncio.get_running_loop().time()
            async with service.changed:
                service.changed.notify_all()

    def services(self) -> list[str]:
        """The services (`PodSpec.key`) this pool has run."""
        return list(self._services)

    def pods(self, key: str) -> list[Pod]:
        """The pods of the service `key` (starting or ready)."""
        service = self._services.get(key)
        return list(service.pods) if service else []

    async def reap_idle(self) -> None:
        """Stop pods idle for longer than `idle_seconds`, keeping each function's `scale`."""
        now = asyncio.get_running_loop().time()
        for service in list(self._services.values()):
            spare = len(service.pods) - service.spec.min_pods
            for pod in list(service.pods):
                if spare <= 0:
                    break
                idle = pod.ready.done() and pod.inflight == 0
                if idle and now - pod.idle_since >= self.settings.idle_seconds:
                    service.pods.remove(pod)
                    spare -= 1
                    log.info("%s: stopping an idle pod", service.spec.label)
                    self._spawn(pod.stop())

    async def aclose(self) -> None:
        """Stop every pod and wait until they are gone."""
        self._closed = True
        if self._reaper is not None:
            self._reaper.cancel()
        pods = [pod for service in self._services.values() for pod in service.pods]
        self._services.clear()
        await asyncio.gather(*(pod.stop() for pod in pods), return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks))

    # Inside

    def _service(self, spec: PodSpec) -> _Service:
        service = self._services.get(spec.key)
        if service is None:
            if self._closed:
                raise WorkflowError(Code.FUNCTION_FAILED, f"{spec.label}: the server is stopping")
            service = self._services[spec.key] = _Service(spec)
            if self._reaper is None:
                self._reaper = asyncio.create_task(self._reap_forever())
            for _ in range(spec.min_pods):
                self._start_pod(service)
        return service

    async def _acquire(self, service: _Service) -> Pod:
        async with service.changed:
            while True:
                open_pods = [
                    p
                    for p in service.pods
                    if p.inflight < self.settings.concurrency and p.accepts_calls
                ]
                if open_pods:
                    pod = min(open_pods, key=lambda p: p.inflight)
                    break
                if len(service.pods) < self.settings.max_pods:
                    pod = self._start_pod(service)
                    break
                await service.changed.wait()
            pod.inflight += 1
        try:
            await asyncio.shield(pod.ready)
        except BaseException:
            pod.inflight -= 1
            raise
        return pod

    def _start_pod(self, service: _Service) -> Pod:
        pod = self.launcher.pod(service.spec, self._sidecar)
        service.pods.append(pod)
        self._spawn(self._run_pod(service, pod))
        return pod

    async def _run_pod(self, service: _Service, pod: Pod) -> None:
        """Start `pod`, then watch it until it ends; drop it from its service then.

        Only a pod that came up is replaced: one that cannot start would fail again at once.
        """
        started = False
        try:
            await pod.start(self.settings.ready_seconds)
            started = True
            pod.idle_since = asyncio.get_running_loop().time()
            status = await pod.exited
            if pod in service.pods and not self._closed:
                log.warning(
                    "%s: a pod exited (status %s); last output: %s",
                    service.spec.label,
                    status,
                    " | ".join(pod.tail()[-5:]) or "none",
                )
        except Exception as error:
            log.warning("%s: a pod failed to start: %s", service.spec.label, error)
        finally:
            await self._drop(service, pod, replace=started)

    async def _drop(self, service: _Service, pod: Pod, *, replace: bool) -> None:
        with contextlib.suppress(ValueError):
            service.pods.remove(pod)
        await pod.stop()
        async with service.changed:
            service.changed.notify_all()
        if replace and not self._closed and len(service.pods) < service.spec.min_pods:
            self._start_pod(service)

    async def _reap_forever(self) -> None:
        while True:
            await asyncio.sleep(min(30.0, max(self.settings.idle_seconds / 4, 0.05)))
            await self.reap_idle()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

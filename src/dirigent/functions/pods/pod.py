"""A pod: one running copy of a function, with its own network namespace and its sidecar socket.

A runtime says how to launch the program (`Pod._launch`, `_terminate`, `_wait_exit`); everything else
is common: the sidecar listening on the pod's `localhost:8889`, the engine's channel to its
`localhost:8080`, waiting until the program listens, and the last lines it printed for error messages.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from dirigent.errors import Code, WorkflowError
from dirigent.functions.call import KEEPALIVE_TIMEOUT
from dirigent.functions.pods.channel import FUNCTION_URL, open_pod_session, wait_listening
from dirigent.functions.pods.netns import NetworkNamespace
from dirigent.functions.sidecar import Sidecar

log = logging.getLogger("dirigent.pods")

#: The sidecar's address inside every pod (images hard-code it).
SIDECAR_ADDRESS = ("127.0.0.1", 8889)
#: Lines of a pod's output kept for error messages.
TAIL_LINES = 20


@dataclass(frozen=True, slots=True)
class PodSpec:
    """What a pod runs: `key` tells services apart, `label` names the function in messages."""

    key: str
    label: str
    image: str
    cmd: str | None = None
    size: str = "small"
    #: Pods kept warm (the function's `scale`).
    min_pods: int = 0
    #: The namespace whose call starts the pod: its registry credentials pull the image.
    namespace: str = ""


class PodFailed(WorkflowError):
    """A pod did not come up: catchable `direktiv.function.failed`, naming the function and its output."""

    def __init__(self, spec: PodSpec, reason: str, tail: list[str]) -> None:
        output = "\n".join(tail[-TAIL_LINES:]) if tail else "(no output)"
        super().__init__(
            Code.FUNCTION_FAILED, f"{spec.label}: {reason}; its last output:\n{output}"
        )


def exited_early(spec: PodSpec, status: int | None, tail: list[str]) -> PodFailed:
    """The error of a pod whose program ended before it listened on its port 8080."""
    return PodFailed(spec, f"exited with status {status} before listening", tail)


class Pod(ABC):
    """One copy of a function. `start` brings it up; `stop` ends it; `exited` resolves when it ends.

    The pool counts the calls in flight (`inflight`) and when it was last used (`idle_since`).
    """

    #: Where calls go (through `session`, inside the pod's namespace).
    url = FUNCTION_URL

    def __init__(self, spec: PodSpec, sidecar: Sidecar) -> None:
        self.spec = spec
        self.inflight = 0
        #: Calls on this pod being cancelled, not yet ended.
        self.cancelling = 0
        self.idle_since = 0.0
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.exited: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._sidecar = sidecar
        self._namespace: NetworkNamespace | None = None
        self._session: aiohttp.ClientSession | None = None
        self._sidecar_site: web.BaseSite | None = None
        self._tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
        self._replace = False
        #: Tasks of the pod's own (held: the loop keeps only weak references to tasks).
        self._tasks: set[asyncio.Task[None]] = set()

    # For the pool

    async def start(self, ready_timeout: float) -> None:
        """Launch the program and wait (up to `ready_timeout` s) until it listens on its port 8080.

        Raises `PodFailed` when it exits or never listens; the pod is stopped then.
        """
        try:
            self._namespace = await self._launch()
            sidecar = await self._namespace.listen(*SIDECAR_ADDRESS)
            self._sidecar_site = await self._sidecar.serve(sidecar)
            self._spawn(self._watch())
            listening = asyncio.create_task(wait_listening(self._namespace, ready_timeout))
            await asyncio.wait((listening, self.exited), return_when=asyncio.FIRST_COMPLETED)
            if self.exited.done():
                listening.cancel()
                raise exited_early(self.spec, self.exited.result(), self.tail())
            if not listening.result():
                raise PodFailed(
                    self.spec,
                    f"did not listen on port 8080 within {ready_timeout:g} s",
                    self.tail(),
                )
        except BaseException as error:
            await self.stop()
            if not self.ready.done():
                self.ready.set_exception(error)
                self.ready.exception()  # retrieved here; waiting callers get it from `ready`
            raise
        self._session = open_pod_session(self._namespace, keepalive=KEEPALIVE_TIMEOUT)
        self.ready.set_result(None)

    async def stop(self) -> None:
        """End the program (politely, then not) and release the pod's namespace and sockets."""
        with contextlib.suppress(ProcessLookupError):
            await self._terminate()
        if self._sidecar_site is not None:
            await self._sidecar_site.stop()
            self._sidecar_site = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._namespace is not None:
            self._namespace.close()
            self._namespace = None
        await self._release()

    def tail(self) -> list[str]:
        """The last lines the program printed."""
        return list(self._tail)

    @property
    def accepts_calls(self) -> bool:
        """Whether new calls may go here: not while a call on it is being cancelled (the pod may be
        stuck) nor once it is being replaced."""
        return not self._replace and self.cancelling == 0

    # The `Channel` of the calls on this pod

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise WorkflowError(Code.FUNCTION_FAILED, f"{self.spec.label}: the pod has stopped")
        return self._session

    def stopping(self) -> None:
        self.cancelling += 1

    def stopped(self, answered: bool) -> None:
        """A cancelled call ended; if it ignored the cancel past the grace, kill this pod (calls
        still running on it fail) and let the pool start another."""
        self.cancelling -= 1
        if not answered and not self._replace:
            self._replace = True
            log.warning("%s ignored a cancel; killing its pod", self.spec.label)
            self._spawn(self.stop())  # `exited` tells the pool when it is done

    # For runtimes

    def output(self, line: str) -> None:
        """A line the program printed: kept for error messages and logged."""
        self._tail.append(line)
        log.info("%s: %s", self.spec.label, line)

    @abstractmethod
    async def _launch(self) -> NetworkNamespace:
        """Start the program; return the network namespace it runs in."""

    @abstractmethod
    async def _wait_exit(self) -> int | None:
        """Wait until the program has ended; its exit status if known."""

    @abstractmethod
    async def _terminate(self) -> None:
        """Stop the program and wait until it has ended."""

    async def _release(self) -> None:  # noqa: B027 - an optional hook
        """Free what the runtime made for the pod beyond the program (cgroups, containers)."""

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _watch(self) -> None:
        status: int | None = None
        try:
            status = await self._wait_exit()
        finally:
            if not self.exited.done():
                self.exited.set_result(status)

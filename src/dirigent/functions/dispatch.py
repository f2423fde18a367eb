"""Where a function call goes: to a URL, to a pod of the server's runtime, or to an isolated run.

Order of lookup for a `reusable` function: a URL given for its id or image (`--service`, config
`services`) wins; else a pod of the runtime runs its image. `knative-namespace` / `knative-global`
functions name a *service*: a URL, or `image:NAME` to run an image in pods shared by the namespace's
(or, for global ones, every namespace's) workflows. `isolated` functions run once per call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Protocol

from dirigent.errors import Code, DirigentError, WorkflowError
from dirigent.functions.call import FunctionCall, FunctionCaller
from dirigent.functions.pods.pod import PodSpec
from dirigent.functions.pods.pool import PodPool
from dirigent.spec.functions import (
    FunctionDefinition,
    IsolatedFunction,
    KnativeGlobalFunction,
    KnativeNamespaceFunction,
    ReusableFunction,
    SubflowFunction,
)
from dirigent.types import JSON

#: A service value that runs an image in pods instead of naming a URL.
IMAGE_PREFIX = "image:"


@dataclass(frozen=True, slots=True)
class CallSite:
    """Which instance's workflow makes the call (pods of `reusable` functions are per workflow)."""

    namespace: str
    workflow: str


class IsolatedRunner(Protocol):
    async def run(self, function: IsolatedFunction, call: FunctionCall) -> JSON:
        """Run `function` once for `call` (function-contract.md §7)."""
        ...

    async def cancel(self, action_id: str, error: WorkflowError | None) -> None: ...


class Functions:
    """Makes function calls for the runtime; see the module doc for where each kind goes."""

    def __init__(
        self,
        caller: FunctionCaller,
        *,
        services: Mapping[str, str] | None = None,
        pods: PodPool | None = None,
        isolated: IsolatedRunner | None = None,
    ) -> None:
        self.caller = caller
        self.services = {
            name: value if value.startswith(IMAGE_PREFIX) or value.endswith("/") else value + "/"
            for name, value in (services or {}).items()
        }
        self.pods = pods
        self.isolated = isolated

    async def call(self, site: CallSite, function: FunctionDefinition, call: FunctionCall) -> JSON:
        """Make `call` to `function`; raises `WorkflowError` as `FunctionCaller.call` does."""
        if isinstance(function, SubflowFunction):  # never called over HTTP
            raise WorkflowError(Code.INTERNAL, "a subflow is not an HTTP function", catchable=False)
        url = self._url(function)
        if url is not None:
            return await self.caller.call(replace(call, url=url))
        if isinstance(function, IsolatedFunction):
            if self.isolated is None:
                raise self._unreachable(function, function.image)
            return await self.isolated.run(function, call)
        spec = self._pod_spec(site, function)
        if self.pods is None or spec is None:
            name = function.image if isinstance(function, ReusableFunction) else function.service
            raise self._unreachable(function, name)
        try:
            async with self.pods.reserve(spec) as pod:
                return await self.caller.call(replace(call, url=pod.url, channel=pod))
        except DirigentError as error:  # e.g. an image the runtime cannot run
            raise WorkflowError(Code.INTERNAL, str(error), catchable=False) from None

    async def cancel(self, action_id: str, error: WorkflowError | None = None) -> None:
        """Stop the call of `action_id` wherever it runs (see `FunctionCaller.cancel`)."""
        await self.caller.cancel(action_id, error)
        if self.isolated is not None:
            await self.isolated.cancel(action_id, error)

    def _url(self, function: FunctionDefinition) -> str | None:
        if function.id in self.services:
            found = self.services[function.id]
        elif isinstance(function, KnativeNamespaceFunction | KnativeGlobalFunction):
            found = self.services.get(function.service, "")
        elif isinstance(function, ReusableFunction | IsolatedFunction):
            found = self.services.get(function.image, "")
        else:
            found = ""
        return found if found and not found.startswith(IMAGE_PREFIX) else None

    def _pod_spec(self, site: CallSite, function: FunctionDefinition) -> PodSpec | None:
        if isinstance(function, ReusableFunction):
            return PodSpec(
                key=f"{site.namespace}/{site.workflow}/{function.id}|{function.image}|"
                f"{function.cmd}|{function.size}",
                label=f"function '{function.id}' (image {function.image})",
                image=function.image,
                cmd=function.cmd,
                size=function.size,
                min_pods=function.scale,
                namespace=site.namespace,
            )
        if isinstance(function, KnativeNamespaceFunction | KnativeGlobalFunction):
            image = self.services.get(function.service, "").removeprefix(IMAGE_PREFIX)
            if not image:
                return None
            owner = site.namespace if isinstance(function, KnativeNamespaceFunction) else ""
            return PodSpec(
                key=f"service:{owner}:{function.service}|{image}",
                label=f"service '{function.service}' (image {image})",
                image=image,
                namespace=site.namespace,
            )
        return None

    def _unreachable(self, function: FunctionDefinition, name: str) -> WorkflowError:
        runtime = "" if self.pods is None else f" and the {self.pods.launcher.name} runtime cannot"
        return WorkflowError(
            Code.INTERNAL,
            f"function '{function.id}' ({name}) has no address{runtime} run it; "
            f"give one with --service {function.id}=http://host:port",
            catchable=False,
        )

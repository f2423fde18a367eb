"""The runtime: runs instances by feeding triggers to the interpreter and performing its effects.

Each live instance has one actor: a task that takes triggers from a queue one at a time, lets the
interpreter advance the record, stores the record (the commit), and only then performs the effects.
Results of effects come back as triggers. Because the record is stored before any effect is performed,
an instance can be resumed from the store after a crash (`resume_pending`).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import orjson

from dirigent.engine import (
    ActionFailed,
    ActionSucceeded,
    Cancel,
    Instance,
    Limits,
    Start,
    TimerFired,
    Trigger,
    VariablesRead,
    advance,
    resume,
)
from dirigent.engine import effects as fx
from dirigent.engine.inputs import action_input, instance_data
from dirigent.engine.instance import ParentLink
from dirigent.errors import Code, NotFound, WorkflowError
from dirigent.functions import FunctionCall, FunctionCaller
from dirigent.operations.clock import Clock, RealClock, TimerHandle
from dirigent.operations.ports import (
    EventSink,
    FunctionResolver,
    InstanceStore,
    SecretSource,
    WorkflowSource,
)
from dirigent.spec import WorkflowDefinition
from dirigent.store.records import (
    InstanceRef,
    LogEntry,
    Scope,
    StoredInstance,
    Variable,
    VariableRef,
)
from dirigent.types import JSON


@dataclass
class _Actor:
    instance: Instance
    definition: WorkflowDefinition
    queue: asyncio.Queue[Trigger] = field(default_factory=asyncio.Queue)
    calls: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    timers: dict[str, TimerHandle] = field(default_factory=dict)
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    busy: bool = False


class Runtime:
    """Runs workflow instances on the interpreter, against the given store, functions and clock."""

    def __init__(
        self,
        *,
        store: InstanceStore,
        workflows: WorkflowSource,
        caller: FunctionCaller,
        resolver: FunctionResolver,
        secrets: SecretSource,
        events: EventSink,
        clock: Clock | None = None,
        limits: Limits = Limits(),  # noqa: B008 - immutable
        max_concurrent_calls: int = 256,
    ) -> None:
        self.store = store
        self.workflows = workflows
        self.caller = caller
        self.resolver = resolver
        self.secrets = secrets
        self.events = events
        self.clock: Clock = clock or RealClock()
        self.limits = limits
        self._calls = asyncio.Semaphore(max_concurrent_calls)
        self._actors: dict[str, _Actor] = {}
        self._background: set[asyncio.Task[None]] = set()

    # Operations

    async def start(
        self,
        namespace: str,
        workflow: str,
        raw_input: bytes | JSON,
        *,
        invoked_by: str = "api",
        parent: ParentLink | None = None,
        depth: int = 0,
        instance_id: str | None = None,
    ) -> Instance:
        """Create an instance of `workflow` and start running it; returns its record.

        Raises NotFound for an unknown workflow, and WorkflowError(direktiv.mutex) when the workflow is
        `singular` and another instance of it is running.
        """
        definition = await self.workflows.get_workflow(namespace, workflow)
        if definition is None:
            raise NotFound(f"workflow '{workflow}' does not exist in namespace '{namespace}'")
        if definition.workflow.singular and await self.store.has_pending_instance(
            namespace, workflow
        ):
            raise WorkflowError(
                Code.MUTEX, f"workflow '{workflow}' is singular and an instance of it is running"
            )
        data = instance_data(raw_input)
        instance = Instance(
            id=instance_id or f"{namespace}/{workflow}/{secrets.token_hex(8)}",
            namespace=namespace,
            workflow=workflow,
            revision=0,
            input=data,
            data=dict(data),
            created_at=self.clock.now(),
            depth=depth,
            parent=parent,
            invoked_by=invoked_by,
        )
        actor = self._spawn(instance, definition)
        actor.queue.put_nowait(Start())
        return instance

    async def cancel(self, instance_id: str, error: WorkflowError | None = None) -> None:
        """Cancel a running instance; its running calls and child instances are cancelled too."""
        actor = await self._actor(instance_id)
        if actor is None:
            raise NotFound(f"instance '{instance_id}' does not exist")
        error = error or WorkflowError(Code.CANCELS_API, "cancelled by request", catchable=False)
        actor.queue.put_nowait(Cancel(error))

    async def get(self, instance_id: str) -> Instance:
        """The instance's current record."""
        actor = self._actors.get(instance_id)
        instance = actor.instance if actor else await self._load(instance_id)
        if instance is None:
            raise NotFound(f"instance '{instance_id}' does not exist")
        return instance

    async def wait(self, instance_id: str) -> Instance:
        """Block until the instance has ended; returns its final record."""
        actor = self._actors.get(instance_id)
        if actor is not None:
            await actor.finished.wait()
            return actor.instance
        instance = await self._load(instance_id)
        if instance is None:
            raise NotFound(f"instance '{instance_id}' does not exist")
        if not instance.done:
            return await self.wait((await self._resume(instance)).instance.id)
        return instance

    async def resume_pending(self) -> int:
        """Continue every stored instance that had not ended (after a restart); returns how many."""
        count = 0
        for instance_id in await self.store.pending_instances():
            if instance_id not in self._actors:
                instance = await self._load(instance_id)
                if instance is not None:
                    await self._resume(instance)
                    count += 1
        return count

    @property
    def idle(self) -> bool:
        """Nothing is running or queued: every live instance waits for a timer (or nothing)."""
        return not self._background and all(
            not a.busy and a.queue.empty() for a in self._actors.values()
        )

    async def aclose(self) -> None:
        """Stop every actor and call; what was stored stays resumable."""
        tasks = [a.task for a in self._actors.values() if a.task] + list(self._background)
        for actor in self._actors.values():
            for handle in actor.timers.values():
                handle.cancel()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._actors.clear()

    # Actors

    def _spawn(self, instance: Instance, definition: WorkflowDefinition) -> _Actor:
        actor = _Actor(instance, definition)
        self._actors[instance.id] = actor
        actor.task = asyncio.create_task(self._run(actor), name=f"instance {instance.id}")
        return actor

    async def _actor(self, instance_id: str) -> _Actor | None:
        actor = self._actors.get(instance_id)
        if actor is None:
            instance = await self._load(instance_id)
            if instance is not None and not instance.done:
                actor = await self._resume(instance)
        return actor

    async def _resume(self, instance: Instance) -> _Actor:
        definition = await self.workflows.get_workflow(instance.namespace, instance.workflow)
        if definition is None:
            raise NotFound(f"workflow '{instance.workflow}' of instance '{instance.id}' is gone")
        actor = self._spawn(instance, definition)
        await self._perform(actor, resume(definition, instance, self.clock.now(), self.limits))
        return actor

    async def _load(self, instance_id: str) -> Instance | None:
        stored = await self.store.load_instance(instance_id)
        return Instance.from_json(orjson.loads(stored.record)) if stored else None

    async def _run(self, actor: _Actor) -> None:
        instance = actor.instance
        try:
            while not instance.done:
                trigger = await actor.queue.get()
                actor.busy = True
                now = self.clock.now()
                try:
                    effects = advance(actor.definition, instance, trigger, now, self.limits)
                except Exception as exc:  # a bug in the engine must crash the instance, not hang it
                    crash = WorkflowError(Code.INTERNAL, f"engine error: {exc!r}", catchable=False)
                    effects = advance(actor.definition, instance, Cancel(crash), now, self.limits)
                await self._commit(instance)
                await self._perform(actor, effects)
                actor.busy = False
        finally:
            self._actors.pop(instance.id, None)
            actor.finished.set()

    async def _commit(self, instance: Instance) -> None:
        await self.store.save_instance(
            StoredInstance(
                instance.id,
                instance.namespace,
                instance.workflow,
                instance.status.value,
                orjson.dumps(instance.to_json()),
            )
        )

    def _deliver(self, instance_id: str, trigger: Trigger) -> None:
        actor = self._actors.get(instance_id)
        if actor is not None:
            actor.queue.put_nowait(trigger)

    # Effects

    async def _perform(self, actor: _Actor, effects: list[fx.Effect]) -> None:
        instance = actor.instance
        for effect in effects:
            match effect:
                case fx.Log(message, state):
                    await self.store.append_log(
                        LogEntry(instance.id, self.clock.now(), message, state=state)
                    )
                case fx.SetTimer(timer_id, at):
                    self._set_timer(actor, timer_id, at)
                case fx.ClearTimer(timer_id):
                    handle = actor.timers.pop(timer_id, None)
                    if handle is not None:
                        handle.cancel()
                case fx.CallFunction():
                    self._start_call(actor, effect)
                case fx.StartSubflow():
                    self._start_child(actor, effect)
                case fx.CancelAction(action_id, error):
                    await self._cancel_action(actor, action_id, error)
                case fx.ReadVariables(wanted):
                    values = []
                    for scope, key in wanted:
                        found = await self.store.get_variable(_ref(instance, scope, key))
                        values.append((found.data, found.mime_type) if found else None)
                    actor.queue.put_nowait(VariablesRead(tuple(values)))
                case fx.WriteVariables(writes):
                    for scope, key, data, mime in writes:
                        ref = _ref(instance, scope, key)
                        if data is None:
                            await self.store.delete_variable(ref)
                        else:
                            await self.store.set_variable(ref, Variable(data, mime))
                case fx.EmitEvent(event):
                    await self.events.emit(instance.namespace, event)
                case fx.Finished():
                    await self._finish(actor)

    def _set_timer(self, actor: _Actor, timer_id: str, at: datetime) -> None:
        old = actor.timers.pop(timer_id, None)
        if old is not None:
            old.cancel()
        instance_id = actor.instance.id

        def fire() -> None:
            actor.timers.pop(timer_id, None)
            self._deliver(instance_id, TimerFired(timer_id))

        actor.timers[timer_id] = self.clock.call_at(at, fire)

    async def _finish(self, actor: _Actor) -> None:
        instance = actor.instance
        for handle in actor.timers.values():
            handle.cancel()
        actor.timers.clear()
        await self.store.delete_instance_variables(instance.id)
        if instance.parent is not None:
            link = instance.parent
            if instance.error is None:
                self._deliver(link.instance_id, ActionSucceeded(link.action_id, instance.output))
            else:
                # Any failure of a child is catchable in its parent, with the child's code.
                error = WorkflowError(instance.error.code, instance.error.message)
                self._deliver(link.instance_id, ActionFailed(link.action_id, error))

    async def _cancel_action(self, actor: _Actor, action_id: str, error: WorkflowError) -> None:
        if action_id in actor.calls:
            await self.caller.cancel(action_id, error)
        elif action_id in self._actors:
            await self.cancel(
                action_id,
                WorkflowError(
                    Code.CANCELS_PARENT, "the parent instance cancelled it", catchable=False
                ),
            )

    def _background_task(
        self, actor: _Actor, key: str | None, work: Coroutine[Any, Any, None]
    ) -> None:
        task = asyncio.create_task(work)
        if key is not None:
            actor.calls[key] = task
            task.add_done_callback(lambda _: actor.calls.pop(key, None))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _start_call(self, actor: _Actor, effect: fx.CallFunction) -> None:
        self._background_task(actor, effect.action_id, self._call(actor, effect))

    async def _call(self, actor: _Actor, effect: fx.CallFunction) -> None:
        instance = actor.instance
        try:
            value = action_input(
                effect.template, effect.context, await self._secrets(instance, effect.secrets)
            )
            url = self.resolver.url_for(instance.namespace, effect.function)
            call = FunctionCall(
                action_id=effect.action_id,
                url=url,
                input=orjson.dumps(value),
                deadline=effect.deadline,
                owner=InstanceRef(instance.namespace, instance.workflow, instance.id),
                state=effect.state,
                files=tuple(effect.function.files),
            )
            async with self._calls:
                result = await self.caller.call(call)
        except WorkflowError as error:
            if effect.detached:
                await self._log_detached_failure(instance, effect.state, error)
            else:
                self._deliver(instance.id, ActionFailed(effect.action_id, error))
            return
        if not effect.detached:
            self._deliver(instance.id, ActionSucceeded(effect.action_id, result))

    def _start_child(self, actor: _Actor, effect: fx.StartSubflow) -> None:
        self._background_task(actor, None, self._child(actor, effect))

    async def _child(self, actor: _Actor, effect: fx.StartSubflow) -> None:
        instance = actor.instance
        try:
            value = action_input(
                effect.template, effect.context, await self._secrets(instance, effect.secrets)
            )
            try:
                await self.start(
                    instance.namespace,
                    effect.workflow,
                    value,
                    invoked_by=f"subflow of {instance.id}",
                    parent=None if effect.detached else ParentLink(instance.id, effect.child_id),
                    depth=effect.depth,
                    instance_id=effect.child_id,
                )
            except NotFound:
                raise WorkflowError(
                    Code.SUBFLOW_NOT_EXIST,
                    f"subflow '{effect.workflow}' does not exist in namespace '{instance.namespace}'",
                    catchable=False,
                ) from None
        except WorkflowError as error:
            if effect.detached:
                await self._log_detached_failure(instance, effect.state, error)
            else:
                self._deliver(instance.id, ActionFailed(effect.child_id, error))

    async def _secrets(self, instance: Instance, names: tuple[str, ...]) -> dict[str, str]:
        values: dict[str, str] = {}
        for name in names:
            value = await self.secrets.get_secret(instance.namespace, name)
            if value is None:
                raise WorkflowError(
                    Code.SECRETS_NOT_FOUND,
                    f"secret '{name}' does not exist in namespace '{instance.namespace}'",
                    catchable=False,
                )
            values[name] = value
        return values

    async def _log_detached_failure(
        self, instance: Instance, state: str, error: WorkflowError
    ) -> None:
        with contextlib.suppress(Exception):
            await self.store.append_log(
                LogEntry(
                    instance.id,
                    self.clock.now(),
                    f"async action failed: {error.code}: {error.message}",
                    state=state,
                )
            )


def _ref(instance: Instance, scope: str, key: str) -> VariableRef:
    owner = InstanceRef(instance.namespace, instance.workflow, instance.id)
    return VariableRef.of(cast(Scope, scope), key, owner)

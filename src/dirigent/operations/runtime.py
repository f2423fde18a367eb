"""The runtime: runs instances durably on a Store that several servers may share.

Each runtime has an owner id. It claims instances that have triggers due in their inbox (a start, a
timer, a child's end, a cancel) or whose previous owner died, holds a lease on each while it works on
it, and releases the lease when the instance only waits (a timer, a child, nothing): a waiting instance
lives in the store only.

For one instance an actor takes triggers one at a time, lets the interpreter advance the record, and
commits the record with everything the step wrote (log lines, timers as inbox items, variables, its
parent's notification) in one transaction. Only then does it call functions and start children, whose
results come back as triggers. A runtime that dies loses nothing that was committed: another runtime
takes the instance over when the lease runs out and asks for in-flight calls again (`engine.resume`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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
from dirigent.engine.triggers import trigger_from_json, trigger_to_json
from dirigent.errors import Code, InvalidInput, LeaseLost, NotFound, WorkflowError
from dirigent.events.logs import instance_log_event
from dirigent.functions import FunctionCall
from dirigent.functions.dispatch import CallSite, Functions
from dirigent.ids import random_hex
from dirigent.operations.clock import Clock, RealClock, TimerHandle
from dirigent.operations.metrics import Metrics
from dirigent.operations.ports import EventSink, SecretSource, WorkflowRevision, WorkflowSource
from dirigent.spec import WorkflowDefinition
from dirigent.store.base import Claim, Commit, Store
from dirigent.store.records import (
    EventWait,
    InboxItem,
    InstanceRef,
    Lease,
    LogEntry,
    NewInstance,
    Scope,
    StoredInstance,
    Variable,
    VariableRef,
)
from dirigent.types import JSON, JSONObject

_START = "start"
_CANCEL = "cancel"
#: An inbox key whose trigger the engine ignores: it only makes an instance claimable again.
_WAKE = "wake"
#: Effects that `_prepare` always leaves for after the commit (as its last case does).
_AFTER_COMMIT = frozenset({fx.Entered, fx.CallFunction, fx.ReadVariables})
_PARENT_CANCELLED = WorkflowError(
    Code.CANCELS_PARENT, "the parent instance was cancelled", catchable=False
)


@dataclass
class _Actor:
    instance: Instance
    definition: WorkflowDefinition
    committed: bytes  # the record as last stored: what readers see
    queue: asyncio.Queue[tuple[Trigger, str | None]] = field(default_factory=asyncio.Queue)
    queued: set[str] = field(default_factory=set)  # inbox keys queued and not yet committed
    calls: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    reads: int = 0
    busy: bool = False
    deferred: bool = False  # a call left for the next owner because the runtime drains
    task: asyncio.Task[None] | None = None

    @property
    def waits_in_memory(self) -> bool:
        """Something only this process will deliver is pending: a call or a variable read."""
        return bool(self.calls) or self.reads > 0 or not self.queue.empty()


class Runtime:
    """Runs workflow instances on the interpreter, against the given store, functions and clock.

    Use `async with runtime:` (or `open()` / `aclose()`) to run its claim loop and lease renewal.
    """

    def __init__(
        self,
        *,
        store: Store,
        workflows: WorkflowSource,
        functions: Functions,
        secrets: SecretSource,
        events: EventSink,
        clock: Clock | None = None,
        limits: Limits = Limits(),  # noqa: B008 - immutable
        lease: timedelta = timedelta(seconds=30),
        poll_seconds: float = 1.0,
        max_concurrent_calls: int = 256,
        owner: str | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.store = store
        self.workflows = workflows
        self.functions = functions
        self.secrets = secrets
        self.events = events
        self.clock: Clock = clock or RealClock()
        self.limits = limits
        self.lease = lease
        self.poll_seconds = poll_seconds
        #: Unique per process: a restarted server is a new owner, so its old leases count as orphaned.
        self.owner = owner or f"runtime-{secrets_token()}"
        self._calls = asyncio.Semaphore(max_concurrent_calls)
        self._actors: dict[str, _Actor] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._waiters: dict[str, list[asyncio.Future[Instance]]] = {}
        self._wakeup = asyncio.Event()
        self._sleeping = False
        self._alarm: tuple[datetime, TimerHandle] | None = None
        self._loops: list[asyncio.Task[None]] = []
        self._draining = False
        self.metrics = metrics if metrics is not None else Metrics()
        self.metrics.bind(
            lambda: (
                len(self._actors),
                sum(a.queue.qsize() for a in self._actors.values()),
                len(self._background),
            )
        )

    # Lifecycle

    async def open(self) -> None:
        self._loops = [
            asyncio.create_task(self._claim_loop(), name="claim loop"),
            asyncio.create_task(self._renew_loop(), name="lease renewal"),
        ]

    async def __aenter__(self) -> Runtime:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop working and give up every lease. Instances with calls in flight get a wake-up in their
        inbox, so the next runtime to claim them makes those calls again."""
        self._draining = True  # no new instance is run here from now on
        unfinished = [
            i for i, a in self._actors.items() if a.waits_in_memory or a.busy or a.deferred
        ]
        tasks = [*self._loops, *(a.task for a in self._actors.values() if a.task)]
        tasks += list(self._background)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._alarm is not None:
            self._alarm[1].cancel()
        self._actors.clear()
        now = self.clock.now()
        with contextlib.suppress(Exception):
            await self.store.add_inbox(
                tuple(_item(i, _WAKE, TimerFired(_WAKE), now) for i in unfinished)
            )
            await self.store.release_leases(self.owner)

    async def drain(self, grace: float) -> None:
        """Stop taking work and let the calls in flight finish (up to `grace` seconds), committing
        their results; calls the following steps ask for are left for the next owner. Then close."""
        self._draining = True
        for task in self._loops[:1]:  # the claim loop; leases are still renewed meanwhile
            task.cancel()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        # A bounded poll: what it waits for is spread over every actor's calls and queue.
        while loop.time() < deadline and any(  # noqa: ASYNC110
            a.calls or a.busy or not a.queue.empty() for a in self._actors.values()
        ):
            await asyncio.sleep(0.02)
        await self.aclose()

    @property
    def idle(self) -> bool:
        """Nothing runs or is queued here, and the claim loop sleeps: every instance waits for time."""
        return (
            self._sleeping
            and not self._wakeup.is_set()
            and not self._background
            and all(not a.busy and not a.waits_in_memory for a in self._actors.values())
        )

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
        found: WorkflowRevision | None = None,
    ) -> Instance:
        """Create an instance of `workflow` (the latest revision, or `found` when the caller has just
        read it) and start running it here.

        The instance is created with this runtime's lease, and its first step runs without a claim;
        if this runtime dies first, another one takes it over once the lease has run out.

        Raises NotFound for an unknown workflow, WorkflowError(direktiv.mutex) when the workflow is
        `singular` and another instance of it is running, Conflict when `instance_id` exists.
        """
        if found is None:
            found = await self.workflows.get_workflow(namespace, workflow)
        if found is None:
            raise NotFound(f"workflow '{workflow}' does not exist in namespace '{namespace}'")
        if found.definition.workflow.singular and await self.store.has_pending_instance(
            namespace, workflow
        ):
            raise WorkflowError(
                Code.MUTEX, f"workflow '{workflow}' is singular and an instance of it is running"
            )
        now = self.clock.now()
        instance = new_instance(
            namespace,
            workflow,
            found.revision,
            instance_data(raw_input),
            now,
            invoked_by=invoked_by,
            instance_id=instance_id,
            depth=depth,
            parent=parent,
        )
        created = to_create(instance)
        # A runtime that is not running (or drains) leaves the instance to the claim loops.
        lease = Lease(self.owner, now + self.lease) if self._loops and not self._draining else None
        await self.store.create_instance(created.instance, created.inbox, lease=lease)
        self.metrics.instance_started(namespace, workflow)
        if lease is None:
            self._wake()
        elif instance.id not in self._actors:  # else a claim raced the creation and runs it
            record = created.instance.record
            # The actor's own copy: the caller keeps the pending instance it was given.
            actor = self._spawn(Instance.from_json(orjson.loads(record)), found.definition, record)
            actor.queued.add(_START)
            actor.queue.put_nowait((Start(), _START))
        return instance

    async def cancel(self, instance_id: str, error: WorkflowError | None = None) -> None:
        """Cancel a running instance; its running calls and child instances are cancelled too."""
        stored = await self.store.load_instance(instance_id)
        if stored is None:
            raise NotFound(f"instance '{instance_id}' does not exist")
        error = error or WorkflowError(Code.CANCELS_API, "cancelled by request", catchable=False)
        await self.store.add_inbox((_item(instance_id, _CANCEL, Cancel(error), self.clock.now()),))
        self._wake()

    async def get(self, instance_id: str) -> Instance:
        """The instance's record as last committed (never a step that is not stored yet)."""
        actor = self._actors.get(instance_id)
        if actor is not None:
            return Instance.from_json(orjson.loads(actor.committed))
        instance = await self._load(instance_id)
        if instance is None:
            raise NotFound(f"instance '{instance_id}' does not exist")
        return instance

    async def wait(self, instance_id: str) -> Instance:
        """Block until the instance has ended (here or on another server); returns its final record."""
        future: asyncio.Future[Instance] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(instance_id, []).append(future)
        try:
            while True:
                instance = await self.get(instance_id)
                if instance.done:
                    return instance
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.poll_seconds):
                        return await asyncio.shield(future)
        finally:
            waiting = self._waiters.get(instance_id, [])
            if future in waiting:
                waiting.remove(future)
            if not waiting:
                self._waiters.pop(instance_id, None)

    # Claiming work

    def _wake(self) -> None:
        self._wakeup.set()

    def notify(self) -> None:
        """Work was put into the store for this runtime (an event's delivery, a scheduled start):
        claim it now rather than at the next poll."""
        self._wake()

    def _alarm_at(self, when: datetime) -> None:
        """Make the claim loop look again at `when` (a timer of an instance falls due then)."""
        if self._alarm is not None:
            if self._alarm[0] <= when:
                return
            self._alarm[1].cancel()
        self._alarm = (when, self.clock.call_at(when, self._ring))

    def _ring(self) -> None:
        self._alarm = None
        self._wake()

    async def _claim_loop(self) -> None:
        batch = 256
        while True:
            self._wakeup.clear()
            now = self.clock.now()
            claims = await self.store.claim(self.owner, now, now + self.lease, batch)
            for claim in claims:
                await self._take(claim)
            if len(claims) == batch:
                # Let the actors run first: on a store that answers without awaiting (memory),
                # this loop would otherwise claim the same busy instances forever.
                await asyncio.sleep(0)
                continue
            due = await self.store.next_due(self.owner, now)
            if due is not None and due > now:
                self._alarm_at(due)
            self._sleeping = True
            try:
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancel that races it.
                async with asyncio.timeout(self.poll_seconds):
                    await self._wakeup.wait()
            except TimeoutError:
                pass
            finally:
                self._sleeping = False

    async def _renew_loop(self) -> None:
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            with contextlib.suppress(Exception):
                await self.store.renew_leases(self.owner, self.clock.now() + self.lease)

    async def _take(self, claim: Claim) -> None:
        actor = self._actors.get(claim.instance.id)
        fresh = actor is None
        if actor is None:
            actor = await self._adopt(claim.instance)
            if actor is None:
                return  # the workflow was deleted with its instances meanwhile
        for item in claim.due:
            if item.key not in actor.queued:
                actor.queued.add(item.key)
                actor.queue.put_nowait((_decode(item.trigger), item.key))
        if fresh and not actor.waits_in_memory:
            # Nothing to do here: the claim raced a commit that consumed the items it saw (on
            # PostgreSQL the claim's row lock makes that commit wait, then the claim finds no item
            # due), or an orphan waits only for time. A step that changes nothing gives the lease
            # back and ends the actor, which would otherwise hold the instance until its next timer.
            actor.queue.put_nowait((TimerFired(_WAKE), None))

    async def _adopt(self, stored: StoredInstance) -> _Actor | None:
        """An actor for a claimed instance that has none here; None when its workflow is gone."""
        instance = Instance.from_json(orjson.loads(stored.record))
        found = await self.workflows.get_workflow(
            instance.namespace, instance.workflow, instance.revision
        )
        if found is None:
            return None
        actor = self._actors.get(stored.id)
        if actor is not None:
            return actor  # `start` made it while the definition was read
        actor = self._spawn(instance, found.definition, stored.record)
        # No actor here means nothing of this instance runs in this process: whatever its record
        # shows in flight (its previous owner died or stopped) is asked for again.
        now = self.clock.now()
        await self._perform(actor, resume(found.definition, instance, now, self.limits))
        return actor

    def _spawn(self, instance: Instance, definition: WorkflowDefinition, record: bytes) -> _Actor:
        actor = _Actor(instance, definition, record)
        self._actors[instance.id] = actor
        actor.task = asyncio.create_task(self._run(actor), name=f"instance {instance.id}")
        return actor

    async def _load(self, instance_id: str) -> Instance | None:
        stored = await self.store.load_instance(instance_id)
        return Instance.from_json(orjson.loads(stored.record)) if stored else None

    # One instance

    async def _run(self, actor: _Actor) -> None:
        instance = actor.instance
        ended = False  # the instance's end is committed
        try:
            while True:
                trigger, key = await actor.queue.get()
                actor.busy = True
                now = self.clock.now()
                try:
                    effects = advance(actor.definition, instance, trigger, now, self.limits)
                except Exception as exc:  # a bug in the engine must crash the instance, not hang it
                    crash = WorkflowError(Code.INTERNAL, f"engine error: {exc!r}", catchable=False)
                    effects = advance(actor.definition, instance, Cancel(crash), now, self.limits)
                commit, later = await self._prepare(actor, effects, key)
                try:
                    await self.store.commit(commit, self.owner)
                except LeaseLost:
                    return  # another runtime has it now; what this one did was not written
                actor.committed = commit.instance.record
                if instance.done:
                    ended = True
                    # Told only now: what a waiter gets is stored, as listings and logs show it.
                    self._resolve_waiters(instance)
                self.metrics.committed(instance, actor.definition, effects, commit.children, now)
                if key is not None:
                    actor.queued.discard(key)
                if commit.inbox:
                    self._note_inbox(commit.inbox)
                await self._perform(actor, later)
                actor.busy = False
                if commit.release:
                    return
        finally:
            if self._actors.get(instance.id) is actor:
                del self._actors[instance.id]
            # Calls cancelled by a committed last step finish their cancel (DELETE, grace) on their
            # own; any other call ends with its actor.
            if not ended:
                for task in actor.calls.values():
                    task.cancel()

    async def _prepare(
        self, actor: _Actor, effects: list[fx.Effect], key: str | None
    ) -> tuple[Commit, list[fx.Effect]]:
        """What goes into the step's commit, and what is performed after it."""
        instance = actor.instance
        removed: list[str] = [key] if key is not None else []
        inbox: list[InboxItem] = []
        children: list[StoredInstance] = []
        variables: list[tuple[VariableRef, Variable | None]] = []
        logs: list[LogEntry] = []
        later: list[fx.Effect] = []
        waits: tuple[EventWait, ...] | None = None
        events: list[JSONObject] = []
        outputs: list[fx.Log] = []
        now = self.clock.now()
        for effect in effects:
            if type(effect) in _AFTER_COMMIT:
                later.append(effect)  # the common ones, without trying every case below first
                continue
            match effect:
                case fx.Log(message, state, output, logged):
                    extra = {"input": logged} if logged is not None else {}
                    logs.append(LogEntry(instance.id, now, message, state=state, extra=extra))
                    if output:
                        outputs.append(effect)
                case fx.WaitForEvents(wanted):
                    waits = tuple(
                        EventWait(instance.id, w.key, instance.namespace, w.type, w.context)
                        for w in wanted
                    )
                case fx.EmitEvent(event):
                    events.append(event)
                case fx.SetTimer(timer_id, at):
                    inbox.append(_item(instance.id, timer_id, TimerFired(timer_id), at))
                case fx.ClearTimer(timer_id):
                    removed.append(timer_id)
                case fx.WriteVariables(writes):
                    for scope, name, data, mime in writes:
                        ref = _ref(instance, scope, name)
                        variables.append((ref, None if data is None else Variable(data, mime)))
                case fx.StartSubflow():
                    # The child is created in this very commit, so no crash can lose or repeat it.
                    try:
                        child = await self._new_child(instance, effect, now)
                    except WorkflowError as error:
                        if effect.detached:
                            logs.append(_detached_failure(instance, effect.state, error, now))
                        else:
                            failed = ActionFailed(effect.child_id, error)
                            inbox.append(
                                _item(instance.id, f"child:{effect.child_id}", failed, now)
                            )
                    else:
                        children.append(_stored(child))
                        inbox.append(_item(child.id, _START, Start(), now))
                case fx.CancelAction(action_id, _) if _is_child_id(action_id):
                    inbox.append(_item(action_id, _CANCEL, Cancel(_PARENT_CANCELLED), now))
                case fx.Finished() if instance.parent is not None:
                    inbox.append(_notify_parent(instance, instance.parent, now))
                case _:
                    later.append(effect)
        if outputs:
            events += await self._log_events(instance, outputs, now)
        if events:
            logs += await self._emit(instance, events, now)
        in_memory = any(
            isinstance(e, fx.ReadVariables) or (isinstance(e, fx.CallFunction) and not e.detached)
            for e in later
        )
        commit = Commit(
            instance=_stored(instance),
            removed=tuple(removed),
            inbox=tuple(inbox),
            children=tuple(children),
            variables=tuple(variables),
            logs=tuple(logs),
            release=instance.done or not (in_memory or actor.waits_in_memory),
            waits=waits,
        )
        return commit, later

    async def _emit(
        self, instance: Instance, events: list[JSONObject], now: datetime
    ) -> list[LogEntry]:
        """Send the step's events to the namespace before its commit: if the commit is lost, the
        step runs again and sends them again under the same ids, which the intake drops. An event
        the intake refuses (a bad attribute) is told in the instance log instead."""
        refused = []
        for event in events:
            try:
                await self.events.emit(instance.namespace, event)
            except (InvalidInput, NotFound) as error:
                message = f"event '{event.get('type')}' was not sent: {error.message}"
                refused.append(LogEntry(instance.id, now, message, state=instance.state))
        self._wake()  # it may have woken or started an instance here
        return refused

    async def _log_events(
        self, instance: Instance, outputs: list[fx.Log], now: datetime
    ) -> list[JSONObject]:
        """`log:` output as `direktiv.instanceLog` events, when the workflow's `logEvent` is set."""
        found = await self.workflows.get_workflow(instance.namespace, instance.workflow)
        logger = found.log_to_events if found is not None else ""
        if not logger:
            return []
        return [
            instance_log_event(
                instance.id,
                instance.workflow,
                instance.visit,
                n,
                log.state,
                log.message,
                logger,
                now,
            )
            for n, log in enumerate(outputs)
        ]

    async def _new_child(
        self, parent: Instance, effect: fx.StartSubflow, now: datetime
    ) -> Instance:
        found = await self.workflows.get_workflow(parent.namespace, effect.workflow)
        if found is None:
            raise WorkflowError(
                Code.SUBFLOW_NOT_EXIST,
                f"subflow '{effect.workflow}' does not exist in namespace '{parent.namespace}'",
                catchable=False,
            )
        if found.definition.workflow.singular and await self.store.has_pending_instance(
            parent.namespace, effect.workflow
        ):
            raise WorkflowError(
                Code.MUTEX,
                f"workflow '{effect.workflow}' is singular and an instance of it is running",
            )
        secrets = await self._secrets(parent, effect.secrets)
        data = instance_data(action_input(effect.template, effect.context, secrets))
        return Instance(
            id=effect.child_id,
            namespace=parent.namespace,
            workflow=effect.workflow,
            revision=found.revision,
            input=data,
            data=dict(data),
            created_at=now,
            depth=effect.depth,
            parent=None if effect.detached else ParentLink(parent.id, effect.child_id),
            invoked_by=f"subflow of {parent.id}",
        )

    def _note_inbox(self, items: tuple[InboxItem, ...]) -> None:
        now = self.clock.now()
        if any(i.due_at <= now for i in items):
            self._wake()
        future = [i.due_at for i in items if i.due_at > now]
        if future:
            self._alarm_at(min(future))

    def _resolve_waiters(self, instance: Instance) -> None:
        for future in self._waiters.get(instance.id, []):
            if not future.done():
                future.set_result(instance)

    # Effects after the commit

    async def _perform(self, actor: _Actor, effects: list[fx.Effect]) -> None:
        instance = actor.instance
        for effect in effects:
            match effect:
                case fx.CallFunction() if self._draining and not effect.detached:
                    actor.deferred = True
                case fx.CallFunction():
                    self._background_task(actor, effect.action_id, self._call(actor, effect))
                case fx.CancelAction(action_id, error) if action_id in actor.calls:
                    await self.functions.cancel(action_id, error)
                case fx.ReadVariables(wanted):
                    actor.reads += 1
                    try:
                        values = []
                        for scope, key in wanted:
                            found = await self.store.get_variable(_ref(instance, scope, key))
                            values.append((found.data, found.mime_type) if found else None)
                    finally:
                        actor.reads -= 1
                    actor.queue.put_nowait((VariablesRead(tuple(values)), None))
                case _:
                    # Timers and children are in the store already (made by the commit, and still
                    # there after a restart); `Entered` and `Finished` concern the commit only.
                    pass

    def _background_task(
        self, actor: _Actor, key: str | None, work: Coroutine[Any, Any, None]
    ) -> None:
        task = asyncio.create_task(work)
        if key is not None:
            actor.calls[key] = task
            task.add_done_callback(lambda _: actor.calls.pop(key, None))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _call(self, actor: _Actor, effect: fx.CallFunction) -> None:
        instance = actor.instance
        try:
            value = action_input(
                effect.template, effect.context, await self._secrets(instance, effect.secrets)
            )
            call = FunctionCall(
                action_id=effect.action_id,
                url="",  # chosen by `functions`
                input=orjson.dumps(value),
                deadline=effect.deadline,
                owner=InstanceRef(instance.namespace, instance.workflow, instance.id),
                state=effect.state,
                files=tuple(effect.function.files),
            )
            async with self._calls:
                self.metrics.call_started(effect.action_id)
                site = CallSite(instance.namespace, instance.workflow)
                result = await self.functions.call(site, effect.function, call)
        except WorkflowError as error:
            self.metrics.call_ended(instance, effect, error)
            if effect.detached:
                await self._log_detached_failure(instance, effect.state, error)
            else:
                actor.queue.put_nowait((ActionFailed(effect.action_id, error), None))
            return
        self.metrics.call_ended(instance, effect, None)
        if not effect.detached:
            actor.queue.put_nowait((ActionSucceeded(effect.action_id, result), None))

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
        entry = _detached_failure(instance, state, error, self.clock.now())
        with contextlib.suppress(Exception):
            await self.store.append_log(entry)


def new_instance(
    namespace: str,
    workflow: str,
    revision: int,
    data: JSONObject,
    now: datetime,
    *,
    invoked_by: str,
    instance_id: str | None = None,
    depth: int = 0,
    parent: ParentLink | None = None,
) -> Instance:
    """A new instance record of `workflow` at `revision` with start data `data`; random id unless
    `instance_id` is given."""
    return Instance(
        id=instance_id or f"{namespace}/{workflow}/{secrets_token()}",
        namespace=namespace,
        workflow=workflow,
        revision=revision,
        input=data,
        data=dict(data),
        created_at=now,
        depth=depth,
        parent=parent,
        invoked_by=invoked_by,
    )


def to_create(instance: Instance) -> NewInstance:
    """What the store creates for a new instance: its row and its Start item."""
    return NewInstance(
        _stored(instance), (_item(instance.id, _START, Start(), instance.created_at),)
    )


def secrets_token() -> str:
    return random_hex(8)


def _encode(trigger: Trigger) -> bytes:
    return orjson.dumps(trigger_to_json(trigger))


def _decode(data: bytes) -> Trigger:
    return trigger_from_json(orjson.loads(data))


def _stored(instance: Instance) -> StoredInstance:
    error = instance.error
    return StoredInstance(
        id=instance.id,
        namespace=instance.namespace,
        workflow=instance.workflow,
        status=instance.status.value,
        record=orjson.dumps(instance.to_json()),
        revision=instance.revision,
        invoked_by=instance.invoked_by,
        created_at=instance.created_at,
        ended_at=instance.ended_at,
        error_code=error.code if error else None,
        error_message=error.message if error else None,
    )


def _item(instance_id: str, key: str, trigger: Trigger, due: datetime) -> InboxItem:
    return InboxItem(instance_id, key, _encode(trigger), due)


def _is_child_id(action_id: str) -> bool:
    # Child instances are named `<namespace>/<workflow>/<random>`; function action ids are plain hex.
    return "/" in action_id


def _detached_failure(
    instance: Instance, state: str, error: WorkflowError, now: datetime
) -> LogEntry:
    message = f"async action failed: {error.code}: {error.message}"
    return LogEntry(instance.id, now, message, state=state)


def _notify_parent(instance: Instance, link: ParentLink, now: datetime) -> InboxItem:
    """The item that tells a waiting parent how its child ended: any failure is catchable there."""
    if instance.error is None:
        trigger: Trigger = ActionSucceeded(link.action_id, instance.output)
    else:
        error = WorkflowError(instance.error.code, instance.error.message)
        trigger = ActionFailed(link.action_id, error)
    return _item(link.instance_id, f"child:{instance.id}", trigger, now)


def _ref(instance: Instance, scope: str, key: str) -> VariableRef:
    owner = InstanceRef(instance.namespace, instance.workflow, instance.id)
    return VariableRef.of(cast(Scope, scope), key, owner)

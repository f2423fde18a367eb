"""Instance operations: execute (start, optionally wait), list, get, cancel, logs, and following an
instance's log and status as they change.

Instance ids are `<namespace>/<workflow>/<random>`. Starting refuses workflows that are inactive or
that start on a schedule or on events (workflow-language.md §7); a `singular` workflow with a running
instance is a Conflict (the engine's `direktiv.mutex`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson

from dirigent.engine import Instance
from dirigent.errors import Code, Conflict, Internal, InvalidInput, NotFound, WorkflowError
from dirigent.jq import Query, TemplateSyntaxError, jq_query
from dirigent.operations.namespaces import InvalidName, check_name, get_namespace
from dirigent.operations.workflows import get_workflow
from dirigent.store.records import InstanceSummary, LogEntry
from dirigent.types import JSON, JSONObject

if TYPE_CHECKING:
    from dirigent.operations.server import Server

#: How often followers look at the store for new log lines or a new status.
POLL_SECONDS = 0.2
#: Log lines read per store query while following.
_LOG_PAGE = 1000
_RANDOM = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


def instance_id(namespace: str, workflow: str, random: str) -> str:
    """The full id from its three parts, each checked (an id that cannot exist is InvalidName)."""
    check_name(namespace, "namespace")
    check_name(workflow, "workflow")
    if not _RANDOM.match(random):
        raise InvalidName(f"id: '{random}' is not an instance id")
    return f"{namespace}/{workflow}/{random}"


def compile_field(text: str) -> Query:
    """The jq program of `?field=`; InvalidInput naming `field` when it does not compile."""
    try:
        return jq_query(text)
    except TemplateSyntaxError as error:
        raise InvalidInput(f"field: {error}") from None


async def start_instance(
    server: Server,
    namespace: str,
    workflow: str,
    raw_input: bytes | JSONObject,
    *,
    invoked_by: str = "api",
) -> Instance:
    """Start an instance of the workflow with `raw_input` (bytes as in workflow-language.md §3, or an
    object); returns it at once, still pending.

    NotFound for a missing namespace or workflow; Conflict when the workflow is inactive or singular
    with an instance running; InvalidInput when it starts on a schedule or events.
    """
    check_name(namespace, "namespace")
    check_name(workflow, "workflow")
    found = await server.workflows.get_workflow(namespace, workflow)
    if found is None:
        await get_workflow(server, namespace, workflow)  # NotFound naming what is missing
        raise Internal(f"workflow '{workflow}' is stored but its definition does not load")
    if not found.active:
        raise Conflict(
            f"workflow '{workflow}' is inactive: activate it (PUT .../workflows/{workflow}/toggle) "
            "to start instances"
        )
    start = found.definition.workflow.start
    if start is not None and start.type != "default":
        how = "on a schedule" if start.type == "scheduled" else "on events"
        raise InvalidInput(
            f"workflow '{workflow}' starts {how} (start.type {start.type}) and cannot be started "
            "by API"
        )
    try:
        return await server.runtime.start(
            namespace, workflow, raw_input, invoked_by=invoked_by, found=found
        )
    except WorkflowError as error:
        if error.code == Code.MUTEX:
            raise Conflict(error.message) from None
        raise


async def wait_instance(server: Server, instance_id: str, seconds: float) -> Instance | None:
    """The instance once it has ended (as stored), or None when it still runs after `seconds`."""
    try:
        return await asyncio.wait_for(server.runtime.wait(instance_id), seconds)
    except TimeoutError:
        return None


async def execute_workflow(
    server: Server,
    namespace: str,
    workflow: str,
    raw_input: bytes | JSONObject,
    *,
    wait: bool = False,
) -> Instance:
    """Start an instance; with `wait`, block until it ends (at most the server's `wait_seconds`).

    Returns the final instance, or the pending one when not waiting or when the wait ran out.
    """
    instance = await start_instance(server, namespace, workflow, raw_input)
    if not wait:
        return instance
    ended = await wait_instance(server, instance.id, server.config.wait_seconds)
    return ended or instance


@dataclass(frozen=True, slots=True)
class FieldValue:
    """One value taken out of an output by `?field=`: the response body and its media type.

    A string that is valid base64 is the decoded bytes (application/octet-stream); any other string
    is its text (text/plain); anything else is JSON.
    """

    body: bytes
    media_type: str


def extract_field(output: JSON, query: Query) -> FieldValue:
    """The first value of `query` over `output` (JSON null when it gives none)."""
    try:
        values = query.all(output)
    except WorkflowError as error:
        raise InvalidInput(f"field: {error.message}") from None
    value = values[0] if values else None
    if isinstance(value, str):
        try:
            return FieldValue(base64.b64decode(value, validate=True), "application/octet-stream")
        except (binascii.Error, ValueError):
            return FieldValue(value.encode(), "text/plain; charset=utf-8")
    return FieldValue(orjson.dumps(value), "application/json")


async def list_instances(
    server: Server,
    namespace: str,
    workflow: str | None = None,
    offset: int = 0,
    limit: int = 100,
    status: str | None = None,
) -> tuple[list[InstanceSummary], int]:
    """A page of instances (only those with `status`, if given), newest first, and how many
    there are."""
    if workflow is None:
        await get_namespace(server, namespace)
    else:
        await get_workflow(server, namespace, workflow)
    return await server.store.list_instances(
        namespace, workflow=workflow, status=status, offset=offset, limit=limit
    )


async def get_instance(server: Server, instance_id: str) -> Instance:
    """The instance's record as last committed; NotFound if there is none."""
    stored = await server.store.load_instance(instance_id)
    if stored is None:
        raise NotFound(f"instance '{instance_id}' does not exist")
    return Instance.from_json(orjson.loads(stored.record))


async def cancel_instance(server: Server, instance_id: str) -> None:
    """Ask a running instance to stop (`direktiv.cancels.api`); Conflict when it has ended already."""
    instance = await get_instance(server, instance_id)
    if instance.done:
        raise Conflict(f"instance '{instance_id}' has ended already ({instance.status.value})")
    await server.runtime.cancel(instance_id)


async def instance_logs(
    server: Server, instance_id: str, offset: int = 0, limit: int = 1000
) -> list[LogEntry]:
    """A page of the instance's log, oldest first."""
    if await server.store.load_instance(instance_id) is None:
        raise NotFound(f"instance '{instance_id}' does not exist")
    return await server.store.list_logs(instance_id, offset, limit)


async def follow_logs(
    server: Server, instance_id: str, offset: int = 0, poll: float = POLL_SECONDS
) -> AsyncIterator[LogEntry]:
    """Every log line from `offset` on, as it is written, until the instance has ended and its log
    is drained. NotFound (before the first line) when the instance does not exist; the iteration
    also ends when the instance is deleted meanwhile.

    The end is read from the store, where the final record and the last lines are committed
    together, so no line written before the end is missed.
    """
    done = (await get_instance(server, instance_id)).done
    while True:
        batch = await server.store.list_logs(instance_id, offset, _LOG_PAGE)
        for entry in batch:
            yield entry
        offset += len(batch)
        if len(batch) == _LOG_PAGE:
            continue
        if done:
            return
        await asyncio.sleep(poll)
        try:
            done = (await get_instance(server, instance_id)).done
        except NotFound:
            return


async def follow_status(
    server: Server, instance_id: str, poll: float = POLL_SECONDS
) -> AsyncIterator[Instance]:
    """The instance now, then again whenever its status or current state changes, until it ends.
    NotFound when it does not exist; the iteration ends if it is deleted meanwhile."""
    instance = await get_instance(server, instance_id)
    seen = (instance.status, instance.state)
    yield instance
    while not instance.done:
        await asyncio.sleep(poll)
        try:
            instance = await get_instance(server, instance_id)
        except NotFound:
            return
        if (instance.status, instance.state) != seen:
            seen = (instance.status, instance.state)
            yield instance

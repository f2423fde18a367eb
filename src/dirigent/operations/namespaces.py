"""Namespace operations: create, list, get, delete; names; the namespace log.

Every API route and CLI command about namespaces calls one of these. Names follow the language's id
rule (`^[a-z]([a-z0-9_-]*[a-z0-9])?$`, at most 64 characters); a name that breaks it is refused with
`InvalidName` (the 2021 API's "invalid argument") before anything is looked up or changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Collection
from typing import TYPE_CHECKING

from dirigent.errors import Conflict, InvalidInput, NotFound
from dirigent.spec.fields import VARIABLE_KEY_PATTERN, WORKFLOW_ID_PATTERN
from dirigent.store.records import LogEntry, Namespace

if TYPE_CHECKING:
    from dirigent.operations.server import Server

#: How long deleting a namespace or workflow waits for its running instances to stop.
CANCEL_WAIT_SECONDS = 5.0

_NAME = re.compile(WORKFLOW_ID_PATTERN)
_KEY = re.compile(VARIABLE_KEY_PATTERN)
MAX_NAME = 64
MAX_KEY = 128


class InvalidName(InvalidInput):
    """A name or key that does not match its pattern: the request is refused before anything happens.

    The 2021 API answered these with 406 (gRPC InvalidArgument); the API's error table keeps that.
    """


def check_name(value: str, field: str) -> str:
    """`value` if it is a valid namespace or workflow name, else `InvalidName` naming `field`."""
    if len(value) > MAX_NAME or not _NAME.match(value):
        raise InvalidName(
            f"{field}: '{value}' is not a valid name: use lower-case letters, digits, '-' and '_', "
            f"start with a letter, end with a letter or digit, at most {MAX_NAME} characters"
        )
    return value


def check_key(value: str, field: str) -> str:
    """`value` if it is a valid variable or secret key, else `InvalidName` naming `field`."""
    if len(value) > MAX_KEY or not _KEY.match(value):
        raise InvalidName(
            f"{field}: '{value}' is not a valid key: use letters, digits, '-' and '_', start with "
            f"a letter, end with a letter or digit, at most {MAX_KEY} characters"
        )
    return value


async def create_namespace(server: Server, name: str) -> Namespace:
    """Create the namespace `name`; Conflict if it exists."""
    check_name(name, "namespace")
    made = await server.store.create_namespace(name, server.runtime.clock.now())
    await note(server, name, f"namespace '{name}' created")
    return made


async def note(server: Server, namespace: str, message: str) -> None:
    """Add `message` to the namespace log: changes to the namespace and its workflows, for people.

    (Instance starts are not noted there: they have their own logs, and a start must stay one write.)
    """
    entry = LogEntry(namespace, server.runtime.clock.now(), message)
    await server.store.append_log(entry)


async def namespace_log(
    server: Server, namespace: str, offset: int = 0, limit: int = 1000
) -> list[LogEntry]:
    """A page of the namespace log, oldest first; NotFound without the namespace."""
    await get_namespace(server, namespace)
    return await server.store.list_logs(namespace, offset, limit)


async def ensure_namespace(server: Server, name: str) -> Namespace:
    """The namespace `name`, created first if it does not exist yet (used at server start)."""
    found = await server.store.get_namespace(check_name(name, "namespace"))
    if found is not None:
        return found
    try:
        return await server.store.create_namespace(name, server.runtime.clock.now())
    except Conflict:  # another server sharing the database made it meanwhile
        return await get_namespace(server, name)


async def list_namespaces(
    server: Server, offset: int = 0, limit: int = 1000, only: Collection[str] | None = None
) -> tuple[list[Namespace], int]:
    """A page of the namespaces, by name, and how many there are; with `only`, of those among them.

    Names that break the name rule are the server's own (API tokens keep theirs in `_dirigent`) and
    are never listed."""
    found = [
        n
        for n in await server.store.list_namespaces()
        if _NAME.match(n.name) and (only is None or n.name in only)
    ]
    return found[offset : offset + limit], len(found)


async def get_namespace(server: Server, name: str) -> Namespace:
    """The namespace `name`; NotFound if it does not exist."""
    found = await server.store.get_namespace(check_name(name, "namespace"))
    if found is None:
        raise NotFound(f"namespace '{name}' does not exist")
    return found


async def delete_namespace(server: Server, name: str) -> None:
    """Delete the namespace and everything in it (workflows, instances, variables, secrets).

    Its running instances are cancelled first and given a moment to stop, so no function keeps
    working for an instance that no longer exists.
    """
    await get_namespace(server, name)
    await cancel_pending(server, name)
    workflows, _ = await server.store.list_workflows(name, 0, 1_000_000)
    await server.store.delete_namespace(name)
    for record in workflows:
        server.workflows.forget(name, record.id)


async def cancel_pending(server: Server, namespace: str, workflow: str | None = None) -> None:
    """Cancel the running instances of a namespace (or of one workflow) and wait a little for them."""
    summaries, _ = await server.store.list_instances(
        namespace, workflow=workflow, status="pending", offset=0, limit=10_000
    )
    ids = [s.id for s in summaries]
    for instance_id in ids:
        with contextlib.suppress(NotFound):  # it ended (and was cleaned up) meanwhile
            await server.runtime.cancel(instance_id)
    if ids:
        waits = [server.runtime.wait(i) for i in ids]
        with contextlib.suppress(TimeoutError, NotFound):
            await asyncio.wait_for(asyncio.gather(*waits), CANCEL_WAIT_SECONDS)

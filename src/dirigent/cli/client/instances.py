"""`dirigent instance list|get|logs|cancel`, and waiting for an instance to end (used by
`workflow exec --wait`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any

import typer

from dirigent.cli.client.command import Options, client_command
from dirigent.cli.client.http import Api, ApiError, ClientError, Unreachable, call, items, path
from dirigent.cli.client.render import (
    decode_data,
    done,
    print_fields,
    print_json,
    print_json_line,
    print_log_entry,
    print_table,
    row,
    show_data,
    took,
    when,
)
from dirigent.types import JSON, JSONObject

app = typer.Typer(
    name="instance",
    help="List instances, show them and their logs, cancel them.",
    no_args_is_help=True,
)

#: Statuses after which an instance does not change any more.
FINAL_STATUSES = frozenset({"complete", "failed", "crashed", "cancelled"})
#: How often to ask when the server cannot stream (seconds).
POLL_INTERVAL = 0.25
#: Answers to a stream request from a server that has no such stream: fall back to polling.
NO_STREAM = frozenset({404, 405, 406, 501})

IdArgument = Annotated[
    str,
    typer.Argument(
        help="Instance id: NAMESPACE/WORKFLOW/ID (or WORKFLOW/ID in --namespace).",
        show_default=False,
    ),
]

#: Called with (status, state) whenever either may have changed.
OnProgress = Callable[[str, str], None]


def instance_route(instance_id: str, namespace: str) -> str:
    """`/api/instances/{ns}/{wf}/{id}` for an id `ns/wf/id` (or `wf/id` in `namespace`)."""
    parts = instance_id.strip("/").split("/")
    if len(parts) == 2:
        parts.insert(0, namespace)
    if len(parts) != 3 or not all(parts):
        raise ClientError(f"not an instance id: {instance_id!r} (expected NAMESPACE/WORKFLOW/ID)")
    return path("/api/instances", *parts)


def progress_of(instance: JSONObject) -> tuple[str, str]:
    """(status, current state) of an instance or of a status event."""
    status = str(instance.get("status") or "")
    state = instance.get("state")
    if not state:
        flow = instance.get("flow")
        state = flow[-1] if isinstance(flow, list) and flow else ""
    return status, str(state)


def is_over(instance: JSONObject) -> bool:
    return str(instance.get("status") or "") in FINAL_STATUSES


async def list_instances(api: Api, namespace: str, workflow: str | None, limit: int) -> list[Any]:
    if workflow:
        route = path("/api/namespaces", namespace, "/workflows", workflow, "/instances/")
    else:
        route = path("/api/instances", namespace)
    return items(await api.get(route, {"offset": 0, "limit": limit}), "workflowInstances")


async def get_instance(api: Api, route: str) -> JSONObject:
    found = await api.get(route)
    if not isinstance(found, dict):
        raise ClientError("the server sent an instance that is not a JSON object")
    return found


async def wait_for_instance(api: Api, route: str, on_progress: OnProgress) -> JSONObject:
    """Follow an instance until it ends and return it as the server shows it then.

    Follows the status stream when the server has one, else (or when the stream breaks off) asks
    every POLL_INTERVAL seconds."""
    try:
        async for event in api.events(route + "/status", {"follow": "true"}):
            value = event.check().json()
            if isinstance(value, dict):
                on_progress(*progress_of(value))
            if event.name == "end" or (isinstance(value, dict) and is_over(value)):
                break
    except ApiError as error:
        if error.status not in NO_STREAM:
            raise
    except Unreachable:
        pass  # the stream broke off: polling tells whether the server is gone for good
    while True:
        instance = await get_instance(api, route)
        on_progress(*progress_of(instance))
        if is_over(instance):
            return instance
        await asyncio.sleep(POLL_INTERVAL)


async def follow_logs(api: Api, route: str, on_entry: Callable[[JSON], None]) -> None:
    """Show the log from the start and then live, until the instance ends."""
    try:
        async for event in api.events(route + "/logs", {"follow": "true"}):
            if event.check().name == "end":
                break
            on_entry(event.json())
        return
    except ApiError as error:
        if error.status not in NO_STREAM:
            raise
    seen = 0
    while True:
        over = is_over(await get_instance(api, route))
        entries = await api.get_all(route + "/logs", "workflowInstanceLogs")
        for entry in entries[seen:]:
            on_entry(entry)
        seen = max(seen, len(entries))
        if over:
            return
        await asyncio.sleep(POLL_INTERVAL)


@client_command(app, "list")
def list_command(
    options: Options,
    workflow: Annotated[
        str | None, typer.Option("--workflow", "-w", help="Only instances of this workflow.")
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(
            "--status", "-s", help="Only instances with this status (pending, complete, …)."
        ),
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.", min=1)] = 50,
) -> None:
    """List instances in the namespace, newest first.

    Example: dirigent instance list --workflow hello --status failed
    """
    found = call(
        options.server, lambda api: list_instances(api, options.namespace, workflow, limit)
    )
    if status:
        found = [i for i in found if str(i.get("status", "")).lower() == status.lower()]
    if options.json:
        print_json(found)
        return
    print_table(
        ["ID", "STATUS", "STARTED", "TOOK"],
        (
            row(
                i.get("id"),
                i.get("status"),
                when(i.get("beginTime")),
                took(i.get("beginTime"), i.get("endTime")),
            )
            for i in found
        ),
        empty=f"no instances in namespace {options.namespace}",
    )


@client_command(app, "get")
def get_command(options: Options, instance_id: IdArgument) -> None:
    """Show an instance: status, times, the states it went through, error, input and output.

    Example: dirigent instance get default/hello/7c1f3a
    """
    route = instance_route(instance_id, options.namespace)
    instance = call(options.server, lambda api: get_instance(api, route))
    if options.json:
        print_json(instance)
        return
    flow = instance.get("flow")
    error = instance.get("errorCode") or instance.get("errorMessage")
    fields = [
        ("id", str(instance.get("id", instance_id))),
        ("status", str(instance.get("status", "-"))),
        ("invoked by", str(instance.get("invokedBy") or "-")),
        ("revision", str(instance.get("revision", "-"))),
        ("started", when(instance.get("beginTime"))),
        ("ended", when(instance.get("endTime"))),
        ("took", took(instance.get("beginTime"), instance.get("endTime"))),
        ("flow", " → ".join(map(str, flow)) if isinstance(flow, list) and flow else "-"),
    ]
    if error:
        fields.append(
            ("error", f"{instance.get('errorCode') or '-'}: {instance.get('errorMessage') or ''}")
        )
    fields.append(("input", show_data(decode_data(instance.get("input")))))
    if "output" in instance:
        fields.append(("output", show_data(decode_data(instance.get("output")))))
    print_fields(fields)


@client_command(app, "logs")
def logs_command(
    options: Options,
    instance_id: IdArgument,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep showing new lines until the instance ends.")
    ] = False,
) -> None:
    """Show an instance's log (with --output json: one JSON object a line).

    Example: dirigent instance logs default/hello/7c1f3a --follow
    """
    route = instance_route(instance_id, options.namespace)
    show = print_json_line if options.json else print_log_entry
    if follow:
        call(options.server, lambda api: follow_logs(api, route, show))
        return
    for entry in call(
        options.server, lambda api: api.get_all(route + "/logs", "workflowInstanceLogs")
    ):
        show(entry)


@client_command(app, "cancel")
def cancel_command(options: Options, instance_id: IdArgument) -> None:
    """Cancel a running instance (it ends as cancelled, with code direktiv.cancels.api).

    Example: dirigent instance cancel default/hello/7c1f3a
    """
    route = instance_route(instance_id, options.namespace)
    answer = call(options.server, lambda api: api.request("DELETE", route))
    if options.json:
        print_json(answer.json())
    else:
        done(f"cancelled instance {instance_id}")

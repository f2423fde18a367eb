"""`dirigent variable list|get|set|delete`: namespace variables, or a workflow's with --workflow."""

from __future__ import annotations

import json
import mimetypes
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from dirigent.cli.client.command import Options, client_command
from dirigent.cli.client.http import Api, ClientError, call, items, path
from dirigent.cli.client.render import done, print_json, print_table, row

app = typer.Typer(
    name="variable",
    help="Namespace variables, or a workflow's variables with --workflow.",
    no_args_is_help=True,
)

WorkflowOption = Annotated[
    str | None,
    typer.Option("--workflow", "-w", help="A variable of this workflow, not of the namespace."),
]
KeyArgument = Annotated[str, typer.Argument(help="The variable's key.", show_default=False)]


def variables_route(namespace: str, workflow: str | None, key: str = "") -> str:
    """`.../variables/` (the list) or `.../variables/{key}`."""
    if workflow:
        route = path("/api/namespaces", namespace, "/workflows", workflow, "/variables")
    else:
        route = path("/api/namespaces", namespace, "/variables")
    return path(route, key) if key else route + "/"


async def list_variables(api: Api, route: str) -> list[Any]:
    return items(await api.get(route), "variables")


async def set_variable(api: Api, route: str, value: bytes, mime_type: str) -> None:
    """POST the raw value (its Content-Type becomes the variable's MIME type); the API deletes the
    variable when the body is empty."""
    await api.request("POST", route, body=value, content_type=mime_type)


@client_command(app, "list")
def list_command(options: Options, workflow: WorkflowOption = None) -> None:
    """List the variables of the namespace, or of one workflow.

    Example: dirigent variable list --workflow hello
    """
    route = variables_route(options.namespace, workflow)
    found = call(options.server, lambda api: list_variables(api, route))
    if options.json:
        print_json(found)
        return
    print_table(
        ["KEY", "SIZE", "TYPE"],
        (
            row(v.get("name", v.get("key")), v.get("size"), v.get("mimeType"))
            if isinstance(v, dict)
            else row(v, None, None)
            for v in found
        ),
        empty=f"no variables in {_owner(options, workflow)}",
    )


@client_command(app, "get")
def get_command(options: Options, key: KeyArgument, workflow: WorkflowOption = None) -> None:
    """Print a variable's value, byte for byte (whatever --output says).

    Example: dirigent variable get greetings --workflow hello
    """
    route = variables_route(options.namespace, workflow, key)
    answer = call(options.server, lambda api: api.request("GET", route))
    sys.stdout.buffer.write(answer.body)
    sys.stdout.flush()


@client_command(app, "set")
def set_command(
    options: Options,
    key: KeyArgument,
    source: Annotated[
        str, typer.Argument(help="A file with the value, or - for stdin.", show_default=False)
    ],
    workflow: WorkflowOption = None,
    mime_type: Annotated[
        str | None,
        typer.Option(
            "--type",
            help="MIME type to store. Default: from the file name, else application/json for "
            "JSON, else application/octet-stream.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Set a variable to the content of a file (or of stdin).

    Example: dirigent variable set config config.json
    """
    value = sys.stdin.buffer.read() if source == "-" else _read(source)
    if not value:
        raise ClientError(
            f"the value is empty (to remove the variable: dirigent variable delete {key})"
        )
    mime = mime_type or _mime_type(source, value)
    route = variables_route(options.namespace, workflow, key)
    call(options.server, lambda api: set_variable(api, route, value, mime))
    if options.json:
        print_json({"key": key, "size": len(value)})
    else:
        done(f"set variable {key} in {_owner(options, workflow)} ({len(value)} bytes)")


@client_command(app, "delete")
def delete_command(options: Options, key: KeyArgument, workflow: WorkflowOption = None) -> None:
    """Delete a variable.

    Example: dirigent variable delete config
    """
    route = variables_route(options.namespace, workflow, key)
    call(options.server, lambda api: set_variable(api, route, b"", "application/octet-stream"))
    if options.json:
        print_json({"key": key})
    else:
        done(f"deleted variable {key} in {_owner(options, workflow)}")


def _owner(options: Options, workflow: str | None) -> str:
    if workflow:
        return f"workflow {workflow} (namespace {options.namespace})"
    return f"namespace {options.namespace}"


def _mime_type(source: str, value: bytes) -> str:
    guessed = mimetypes.guess_type(source)[0] if source != "-" else None
    if guessed:
        return guessed
    try:
        json.loads(value)
    except ValueError:
        return "application/octet-stream"
    return "application/json"


def _read(source: str) -> bytes:
    try:
        return Path(source).read_bytes()
    except OSError as error:
        raise ClientError(f"cannot read {source}: {error.strerror}") from None

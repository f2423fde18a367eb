"""`dirigent namespace list|create|delete`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from dirigent.cli.client.command import Options, client_command
from dirigent.cli.client.http import Api, call, path
from dirigent.cli.client.render import done, print_json, print_table, row, when
from dirigent.types import JSON

app = typer.Typer(
    name="namespace", help="List, create and delete namespaces.", no_args_is_help=True
)

NameArgument = Annotated[str, typer.Argument(help="The namespace.", show_default=False)]


async def list_namespaces(api: Api) -> list[Any]:
    return await api.get_all("/api/namespaces/", "namespaces")


async def create_namespace(api: Api, name: str) -> JSON:
    return (await api.request("POST", path("/api/namespaces", name))).json()


async def delete_namespace(api: Api, name: str) -> JSON:
    return (await api.request("DELETE", path("/api/namespaces", name))).json()


@client_command(app, "list", namespaced=False)
def list_command(options: Options) -> None:
    """List the namespaces.

    Example: dirigent namespace list
    """
    found = call(options.server, list_namespaces)
    if options.json:
        print_json(found)
        return
    print_table(
        ["NAME", "CREATED"],
        (row(ns.get("name"), when(ns.get("createdAt"))) for ns in found),
        empty="no namespaces (create one with: dirigent namespace create NAME)",
    )


@client_command(app, "create", namespaced=False)
def create_command(options: Options, name: NameArgument) -> None:
    """Create a namespace.

    Example: dirigent namespace create demo
    """
    answer = call(options.server, lambda api: create_namespace(api, name))
    if options.json:
        print_json(answer)
    else:
        done(f"created namespace {name}")


@client_command(app, "delete", namespaced=False)
def delete_command(options: Options, name: NameArgument) -> None:
    """Delete a namespace and everything in it (workflows, instances, variables, secrets).

    Example: dirigent namespace delete demo
    """
    answer = call(options.server, lambda api: delete_namespace(api, name))
    if options.json:
        print_json(answer)
    else:
        done(f"deleted namespace {name}")

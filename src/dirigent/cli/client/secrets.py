"""`dirigent secret list|set|delete`, and the named-value calls that registries share.

Secrets and registries have the same API shape: GET lists names; POST `{"name", "data"}` sets;
DELETE `{"name"}` removes. Values are never shown: the API does not give them back.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any, Literal

import typer

from dirigent.cli.client.command import Options, client_command
from dirigent.cli.client.http import Api, ClientError, call, items, path
from dirigent.cli.client.render import done, print_json, print_table, row

app = typer.Typer(
    name="secret", help="Secrets for actions: list their names, set, delete.", no_args_is_help=True
)

Kind = Literal["secrets", "registries"]

NameArgument = Annotated[str, typer.Argument(help="The secret's name.", show_default=False)]


def _route(namespace: str, kind: Kind) -> str:
    return path("/api/namespaces", namespace, f"/{kind}/")


async def list_named(api: Api, namespace: str, kind: Kind) -> list[Any]:
    """The list as the server gives it: `[{"name": …}, …]` (registries also have an `id`)."""
    return items(await api.get(_route(namespace, kind)), kind)


async def set_value(api: Api, namespace: str, kind: Kind, name: str, data: str) -> None:
    await api.request("POST", _route(namespace, kind), json_body={"name": name, "data": data})


async def delete_value(api: Api, namespace: str, kind: Kind, name: str) -> None:
    await api.request("DELETE", _route(namespace, kind), json_body={"name": name})


def print_named(options: Options, found: list[Any], what: str) -> None:
    if options.json:
        print_json(found)
        return
    print_table(
        ["NAME"],
        (row(f.get("name") if isinstance(f, dict) else f) for f in found),
        empty=f"no {what} in namespace {options.namespace}",
    )


@client_command(app, "list")
def list_command(options: Options) -> None:
    """List the names of the namespace's secrets.

    Example: dirigent secret list
    """
    found = call(options.server, lambda api: list_named(api, options.namespace, "secrets"))
    print_named(options, found, "secrets")


@client_command(app, "set")
def set_command(
    options: Options,
    name: NameArgument,
    value: Annotated[
        str | None,
        typer.Argument(
            help="The value; - reads stdin (one trailing newline dropped); none: asked for, hidden.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Create a secret, or replace its value.

    Example: dirigent secret set apikey - < apikey.txt
    """
    data = read_value(value, f"value of secret {name}")
    call(options.server, lambda api: set_value(api, options.namespace, "secrets", name, data))
    if options.json:
        print_json({"name": name})
    else:
        done(f"set secret {name} in namespace {options.namespace}")


@client_command(app, "delete")
def delete_command(options: Options, name: NameArgument) -> None:
    """Delete a secret.

    Example: dirigent secret delete apikey
    """
    call(options.server, lambda api: delete_value(api, options.namespace, "secrets", name))
    if options.json:
        print_json({"name": name})
    else:
        done(f"deleted secret {name} in namespace {options.namespace}")


def read_value(value: str | None, prompt: str) -> str:
    """A value from the command line, from stdin (`-`), or typed in without echo."""
    if value == "-":
        try:
            text = sys.stdin.buffer.read().decode()
        except UnicodeDecodeError:
            raise ClientError("the value on stdin is not UTF-8 text") from None
        text = text.removesuffix("\n").removesuffix("\r")
    elif value is None:
        if not sys.stdin.isatty():
            raise ClientError("no value given (pass it, or - to read it from stdin)")
        text = typer.prompt(prompt, hide_input=True, confirmation_prompt=True)
    else:
        text = value
    if not text:
        raise ClientError("the value is empty")
    return text

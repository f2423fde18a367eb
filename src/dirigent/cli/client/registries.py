"""`dirigent registry list|set|delete`: container registry logins, by registry URL."""

from __future__ import annotations

from typing import Annotated

import typer

from dirigent.cli.client.command import Options, client_command
from dirigent.cli.client.http import ClientError, call
from dirigent.cli.client.render import done, print_json
from dirigent.cli.client.secrets import delete_value, list_named, print_named, set_value

app = typer.Typer(
    name="registry",
    help="Container registry logins for functions: list, set, delete.",
    no_args_is_help=True,
)

UrlArgument = Annotated[
    str, typer.Argument(help="The registry URL, e.g. https://ghcr.io.", show_default=False)
]


@client_command(app, "list")
def list_command(options: Options) -> None:
    """List the registries the namespace has a login for.

    Example: dirigent registry list
    """
    found = call(options.server, lambda api: list_named(api, options.namespace, "registries"))
    print_named(options, found, "registries")


@client_command(app, "set")
def set_command(
    options: Options,
    url: UrlArgument,
    login: Annotated[str, typer.Argument(help="USER:TOKEN.", show_default=False)],
) -> None:
    """Set the login for a registry.

    Example: dirigent registry set https://ghcr.io ada:ghp_abc123
    """
    user, sep, token = login.partition(":")
    if not sep or not user or not token:
        raise ClientError("the login must be USER:TOKEN")
    call(options.server, lambda api: set_value(api, options.namespace, "registries", url, login))
    if options.json:
        print_json({"name": url})
    else:
        done(f"set registry {url} in namespace {options.namespace}")


@client_command(app, "delete")
def delete_command(options: Options, url: UrlArgument) -> None:
    """Delete the login for a registry.

    Example: dirigent registry delete https://ghcr.io
    """
    call(options.server, lambda api: delete_value(api, options.namespace, "registries", url))
    if options.json:
        print_json({"name": url})
    else:
        done(f"deleted registry {url} in namespace {options.namespace}")

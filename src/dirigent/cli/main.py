"""The `dirigent` command: a Typer app; each command parses input, calls one operation, renders."""

from __future__ import annotations

import typer

from dirigent.cli import function, lint, run, server, tokens
from dirigent.cli.client import events as event_commands
from dirigent.cli.client import instances, namespaces, registries, secrets, variables, workflows

app = typer.Typer(
    name="dirigent",
    help="Dirigent: a fast, durable engine for Direktiv workflows and functions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("run")(run.run_command)
app.command("lint")(lint.lint_command)
app.command("schema")(lint.schema_command)
app.command("server")(server.server_command)
app.add_typer(tokens.app, name="token")
app.add_typer(function.app, name="function")
app.add_typer(namespaces.app, name="namespace", rich_help_panel="Client (talks to a server)")
app.add_typer(workflows.app, name="workflow", rich_help_panel="Client (talks to a server)")
app.add_typer(instances.app, name="instance", rich_help_panel="Client (talks to a server)")
app.add_typer(variables.app, name="variable", rich_help_panel="Client (talks to a server)")
app.add_typer(secrets.app, name="secret", rich_help_panel="Client (talks to a server)")
app.add_typer(registries.app, name="registry", rich_help_panel="Client (talks to a server)")
app.add_typer(event_commands.app, name="event", rich_help_panel="Client (talks to a server)")


def main() -> None:
    app()

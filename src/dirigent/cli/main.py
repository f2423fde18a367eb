"""The `dirigent` command: a Typer app; each command parses input, calls one operation, renders."""

from __future__ import annotations

import typer

from dirigent.cli import lint, run

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


def main() -> None:
    app()

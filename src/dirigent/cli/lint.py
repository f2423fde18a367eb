"""`dirigent lint` and `dirigent schema`: the load-time checks, and the language as JSON Schema."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer

from dirigent.cli.render import print_problems

EXIT_DEFINITION = 3


def lint_command(
    files: Annotated[list[Path], typer.Argument(help="Workflow YAML files to check.")],
) -> None:
    """Check workflow definitions with the same checks as an upload; exit 3 on any error."""
    # The language loads only for the commands that need it: `dirigent --help` stays fast.
    from dirigent.spec import DefinitionError, load_workflow_file

    failed = False
    for path in files:
        try:
            definition = load_workflow_file(path)
        except DefinitionError as error:
            print_problems(error.problems)
            failed = True
            continue
        print_problems(definition.warnings)
        typer.echo(f"{path}: ok ({len(definition.states)} states)")
    if failed:
        raise typer.Exit(EXIT_DEFINITION)


def schema_command() -> None:
    """Print the workflow language as a JSON Schema (for editors)."""
    from dirigent.spec import workflow_json_schema

    typer.echo(orjson.dumps(workflow_json_schema(), option=orjson.OPT_INDENT_2).decode())

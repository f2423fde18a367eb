"""`dirigent run`: run one workflow on the embedded engine and print its output.

Only the command's options live here; the work is in `running`, imported when the command runs, so that
`dirigent --help` and the other commands do not load the engine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def run_command(
    workflow: Annotated[Path, typer.Argument(help="The workflow YAML file to run.")],
    input: Annotated[
        str | None,
        typer.Option("--input", "-i", help="Input: a file, a JSON text, or - for stdin."),
    ] = None,
    service: Annotated[
        list[str],
        typer.Option(help="NAME=URL: reach a function (by id, service or image) at URL."),
    ] = [],  # noqa: B006 - typer reads the default
    secret: Annotated[list[str], typer.Option(help="NAME=VALUE: a secret for actions.")] = [],  # noqa: B006
    var: Annotated[
        list[str],
        typer.Option(
            help="SCOPE/KEY=FILE: preset a variable (scope instance, workflow, namespace)."
        ),
    ] = [],  # noqa: B006
    sidecar_port: Annotated[
        int, typer.Option(help="Port of the function sidecar (/log, /var) on 127.0.0.1.")
    ] = 8889,
    function: Annotated[
        list[str],
        typer.Option(help="IMAGE=DIR-OR-COMMAND: run IMAGE as a local process in its own pod."),
    ] = [],  # noqa: B006 - typer reads the default
    runtime: Annotated[
        str, typer.Option(help="Where function pods run: process or docker.")
    ] = "process",
) -> None:
    """Run a workflow locally: print its output as JSON, its log on stderr.

    Other workflow files in the same directory are available as subflows by their id. Exit status:
    0 complete, 1 failed/crashed/cancelled, 3 definition error.
    """
    from dirigent.cli.running import run_workflow

    run_workflow(workflow, input, service, secret, var, sidecar_port, function, runtime)

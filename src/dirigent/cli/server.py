"""`dirigent server`: run the server (REST API, web UI, engine, function runtime) in one process.

Only the command's options live here; the work is in `serving`, imported when the command runs, so that
`dirigent --help` and the other commands do not load the server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def server_command(
    data_dir: Annotated[
        Path | None, typer.Option(help="Directory for the SQLite database and the secret key.")
    ] = None,
    database: Annotated[
        str | None,
        typer.Option(help="Database URL: sqlite:///FILE, postgresql://…, or memory://."),
    ] = None,
    host: Annotated[
        str | None,
        typer.Option(
            "--host",
            "--listen",
            help="Address to listen on (default 127.0.0.1). Any other than loopback needs API "
            "tokens (dirigent token create, or api_tokens in the config file).",
        ),
    ] = None,
    require_token: Annotated[
        bool | None,
        typer.Option(
            "--require-token/--no-require-token",
            help="Ask for an API token on loopback too (off loopback it is always asked for).",
            show_default=False,
        ),
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port of the API (default 8780; 0: any).")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="A TOML file of settings.")
    ] = None,
    service: Annotated[
        list[str],
        typer.Option(help="NAME=URL: reach a function (by id, service or image) at URL."),
    ] = [],  # noqa: B006 - typer reads the default
    with_examples: Annotated[
        bool | None,
        typer.Option(
            "--with-examples/--no-examples",
            help="Push the workflows of examples/ into the default namespace if not there yet.",
        ),
    ] = None,
    sidecar_port: Annotated[
        int | None,
        typer.Option(help="Port of the function sidecar on 127.0.0.1 (default 8889; 0: any)."),
    ] = None,
    runtime: Annotated[
        str | None,
        typer.Option(help="Where function pods run: process (default) or docker."),
    ] = None,
    function: Annotated[
        list[str],
        typer.Option(help="IMAGE=DIR-OR-COMMAND: run IMAGE as a local process (process runtime)."),
    ] = [],  # noqa: B006 - typer reads the default
) -> None:
    """Start the Dirigent server: the REST API (and its docs at /api/docs), the engine, and the
    function sidecar, on an SQLite file in the data directory unless told otherwise."""
    from dirigent.cli.serving import serve_command

    serve_command(
        data_dir=data_dir,
        database=database,
        host=host,
        require_token=require_token,
        port=port,
        config=config,
        service=service,
        with_examples=with_examples,
        sidecar_port=sidecar_port,
        runtime=runtime,
        function=function,
    )

"""`dirigent function new|serve|call`: write a function with the SDK, run it, call it locally.

Each command parses its input, calls one operation of `dirigent.sdk` and renders the result.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import orjson
import typer

from dirigent.cli.render import print_log
from dirigent.errors import DirigentError

if TYPE_CHECKING:
    from dirigent.sdk.local_call import CallOutcome

EXIT_FAILED = 1
EXIT_INTERRUPTED = 130
#: The deadline of a call when `--timeout` is not given: an action's default timeout.
DEFAULT_TIMEOUT = 900.0

app = typer.Typer(
    help="Write, run and call functions written with the Python SDK (docs/sdk.md).",
    no_args_is_help=True,
)


class Output(StrEnum):
    TEXT = "text"
    JSON = "json"


@app.command("new")
def new_command(
    name: Annotated[
        str, typer.Argument(help="The function's name: lowercase letters, digits and '-'.")
    ],
    dir: Annotated[
        Path | None, typer.Option("--dir", help="The folder to make (default: ./NAME).")
    ] = None,
) -> None:
    """Make a function folder: main.py, test_main.py, Dockerfile, requirements.txt, README.md."""
    folder = dir or Path(name)
    try:
        from dirigent.sdk.scaffold import create_function_folder  # here: `--help` stays fast

        made = create_function_folder(name, folder)
    except DirigentError as error:
        _fail(error.message)
    typer.echo(f"created function {name} in {folder}:")
    for path in made:
        typer.echo(f"  {path}")
    typer.echo(
        f"next: cd {folder} && pytest && dirigent function serve . (see {folder / 'README.md'})"
    )


@app.command("serve")
def serve_command(
    folder: Annotated[Path, typer.Argument(help="The function folder (with main.py).")] = Path(),
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port to take calls on (0: any free port).")
    ] = 8080,
    host: Annotated[str, typer.Option(help="Address to take calls on.")] = "127.0.0.1",
    sidecar_port: Annotated[
        int,
        typer.Option(
            min=0, max=65535, help="Port of the sidecar (/log, /var) on 127.0.0.1 (0: any free)."
        ),
    ] = 8889,
) -> None:
    """Run the function in FOLDER with a live sidecar, and print its log lines as they arrive.

    Calls to http://HOST:PORT/ reach the function as in a pod: each call's action id is known to
    the sidecar, so logs and variables work (one instance, variables kept in memory). A call
    without Direktiv-ActionID, e.g. from curl, gets one. Ctrl-C stops the function and the sidecar.
    """
    try:
        asyncio.run(_serve(folder, host, port, sidecar_port))
    except DirigentError as error:
        _fail(error.message)


async def _serve(folder: Path, host: str, port: int, sidecar_port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    from dirigent.sdk.folder import function_name
    from dirigent.sdk.local_pod import open_local_pod

    name = function_name(folder)
    async with open_local_pod(
        folder,
        port=port,
        host=host,
        sidecar_port=sidecar_port,
        on_log=print_log,
        on_output=_printer(name),
    ) as pod:
        typer.echo(
            f"function {name} serving on {pod.url} (sidecar 127.0.0.1:{pod.sidecar_port}); "
            "Ctrl-C stops it",
            err=True,
        )
        await stop.wait()
    typer.echo(f"function {name} stopped", err=True)


@app.command("call")
def call_command(
    target: Annotated[
        str, typer.Argument(help="A function's URL (http://…), or a function folder to start.")
    ],
    input: Annotated[
        str, typer.Option("--input", "-i", help="The input: JSON text, @FILE, or - for stdin.")
    ] = "{}",
    timeout: Annotated[
        float,
        typer.Option(min=0.001, help="Seconds until the call's deadline (then it is cancelled)."),
    ] = DEFAULT_TIMEOUT,
    file: Annotated[
        list[str],
        typer.Option(help="KEY=PATH: the file becomes variable KEY and is in the temp dir as KEY."),
    ] = [],  # noqa: B006 - typer reads the default
    output: Annotated[
        Output, typer.Option("--output", "-o", help="text for people, json for scripts.")
    ] = Output.TEXT,
    sidecar_port: Annotated[
        int,
        typer.Option(
            min=0,
            max=65535,
            help="Sidecar port on 127.0.0.1 when calling a URL (0: any free port).",
        ),
    ] = 8889,
) -> None:
    """Call a function once, as the engine does, and show its output, error and logs.

    Exit status: 0 when it answered a value, 1 when it answered an error (or could not be called).
    """
    body = _input(input)
    files = [_file(value) for value in file]
    callee: str | Path = _target(target)
    as_text = output is Output.TEXT
    from dirigent.sdk.folder import function_name
    from dirigent.sdk.local_call import URL_FUNCTION_NAME, call_function

    name = URL_FUNCTION_NAME if isinstance(callee, str) else function_name(callee)
    try:
        outcome = asyncio.run(
            call_function(
                callee,
                body,
                deadline_in=timeout,
                files=files,
                sidecar_port=sidecar_port,
                on_log=print_log if as_text else None,
                on_output=_printer(name),
            )
        )
    except DirigentError as error:
        _fail(error.message)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    if as_text:
        _show(outcome)
    else:
        typer.echo(orjson.dumps(_document(outcome)).decode())
    if outcome.error is not None:
        raise typer.Exit(EXIT_FAILED)


def _show(outcome: CallOutcome) -> None:
    for name, variable in outcome.variables.items():
        size = len(variable.data)
        typer.echo(f"variable {name}: {size} bytes, {variable.mime_type}", err=True)
    error = outcome.error
    if error is None:
        typer.echo(orjson.dumps(outcome.output, option=orjson.OPT_INDENT_2).decode())
    elif error.catchable:
        typer.echo(f"error: {error.code}: {error.message}", err=True)
    else:
        typer.echo(
            f"error: the function crashed (an error message without a code): {error.message}",
            err=True,
        )


def _document(outcome: CallOutcome) -> dict[str, Any]:
    error = outcome.error
    return {
        "output": outcome.output if error is None else None,
        "error": None
        if error is None
        else {"code": error.code, "message": error.message, "catchable": error.catchable},
        "logs": [entry.message for entry in outcome.logs],
        "variables": {
            name: {"size": len(variable.data), "mimeType": variable.mime_type}
            for name, variable in outcome.variables.items()
        },
    }


def _input(value: str) -> bytes:
    """The input as compact JSON (as the engine sends it)."""
    if value == "-":
        raw = sys.stdin.buffer.read()
    elif value.startswith("@"):
        try:
            raw = Path(value[1:]).read_bytes()
        except OSError as error:
            raise typer.BadParameter(
                f"cannot read {value[1:]}: {error.strerror}", param_hint="--input"
            ) from None
    else:
        raw = value.encode()
    try:
        return orjson.dumps(orjson.loads(raw))
    except orjson.JSONDecodeError as error:
        raise typer.BadParameter(f"the input is not JSON: {error}", param_hint="--input") from None


def _file(value: str) -> tuple[str, bytes]:
    key, sep, path = value.partition("=")
    if not sep or not key:
        raise typer.BadParameter(f"expected KEY=PATH, got {value!r}", param_hint="--file")
    try:
        return key, Path(path).read_bytes()
    except OSError as error:
        raise typer.BadParameter(
            f"cannot read {path}: {error.strerror}", param_hint="--file"
        ) from None


def _target(value: str) -> str | Path:
    if value.startswith(("http://", "https://")):
        return value
    folder = Path(value)
    if folder.is_dir():
        return folder
    raise typer.BadParameter(
        f"{value!r} is neither an http(s) URL nor a folder", param_hint="TARGET"
    )


def _printer(name: str) -> Callable[[str], None]:
    """Prints what the function process prints, each line marked with its name."""

    def show(line: str) -> None:
        typer.echo(f"{name}| {line}", err=True)

    return show


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(EXIT_FAILED)

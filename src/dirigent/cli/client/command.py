"""What every client command shares: the connection options, `--output`, and turning failures into
`error: <message>` with exit status 1 (never a stack trace).

A command is a function whose first parameter is `Options`; `client_command` registers it on a Typer
app with `--server`, `--token`, `--namespace` (unless the command is about namespaces themselves)
and `--output` added to its own parameters:

    @client_command(app, "list")
    def list_workflows(options: Options) -> None: ...
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from typer.exceptions import TyperException

from dirigent.cli.client.http import ClientError, Server
from dirigent.cli.client.render import Output, print_error
from dirigent.errors import DirigentError

DEFAULT_SERVER = "http://127.0.0.1:8780"
DEFAULT_NAMESPACE = "default"

EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


@dataclass(frozen=True)
class Options:
    """The options every client command takes."""

    server: Server
    namespace: str
    output: Output

    @property
    def json(self) -> bool:
        return self.output is Output.JSON


ServerOption = Annotated[
    str,
    typer.Option(
        "--server",
        envvar="DIRIGENT_SERVER",
        help="URL of the Dirigent server.",
        rich_help_panel="Connection",
    ),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="DIRIGENT_TOKEN",
        help="Bearer token sent as `Authorization: Bearer …`.",
        show_default=False,
        rich_help_panel="Connection",
    ),
]
NamespaceOption = Annotated[
    str,
    typer.Option(
        "--namespace",
        "-n",
        envvar="DIRIGENT_NAMESPACE",
        help="The namespace to work in.",
        rich_help_panel="Connection",
    ),
]
OutputOption = Annotated[
    Output,
    typer.Option(
        "--output",
        "-o",
        help="table for people, json for scripts.",
        case_sensitive=False,
    ),
]

Command = Callable[..., None]


def client_command(
    app: typer.Typer, name: str, *, namespaced: bool = True
) -> Callable[[Command], Command]:
    """Register `function(options, ...)` as command `name` of `app`, with the common options."""

    def register(function: Command) -> Command:
        signature = inspect.signature(function, eval_str=True)
        own = list(signature.parameters.values())[1:]  # the first is `options`
        common = [
            _keyword("server", ServerOption, DEFAULT_SERVER),
            _keyword("token", TokenOption, None),
            _keyword("output", OutputOption, Output.TABLE),
        ]
        if namespaced:
            common.insert(2, _keyword("namespace", NamespaceOption, DEFAULT_NAMESPACE))

        @functools.wraps(function)
        def command(**arguments: Any) -> None:
            options = Options(
                server=Server.of(arguments.pop("server"), arguments.pop("token")),
                namespace=arguments.pop("namespace", DEFAULT_NAMESPACE),
                output=arguments.pop("output"),
            )
            run_reporting_errors(lambda: function(options, **arguments))

        parameters = own + common
        command.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in parameters}
        app.command(name)(command)
        return function

    return register


def run_reporting_errors(body: Callable[[], None]) -> None:
    """Run a command body; `ClientError` → `error: <message>`, exit 1. Nothing else escapes as a
    stack trace either (set DIRIGENT_DEBUG=1 to see one)."""
    try:
        body()
    except (typer.Exit, typer.Abort, TyperException):  # usage errors: Typer shows them
        raise
    except (ClientError, DirigentError) as error:  # DirigentError: a check done here, not remotely
        print_error(error.message)
        raise typer.Exit(EXIT_FAILED) from None
    except KeyboardInterrupt:
        print_error("interrupted")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except Exception as error:
        if os.environ.get("DIRIGENT_DEBUG"):
            raise
        print_error(f"{type(error).__name__}: {error} (set DIRIGENT_DEBUG=1 for details)")
        raise typer.Exit(EXIT_FAILED) from None


def _keyword(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default
    )

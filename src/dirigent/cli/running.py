"""What `dirigent run` does: load the workflow, run one instance on the embedded engine, print it."""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta
from pathlib import Path
from typing import cast

import orjson
import typer

from dirigent.cli.lint import EXIT_DEFINITION
from dirigent.cli.render import print_log, print_problems
from dirigent.engine import Instance, Status
from dirigent.errors import DirigentError, WorkflowError
from dirigent.functions.pods.userns import restart_in_user_namespace
from dirigent.functions.runtimes import (
    DEFAULT_MAX_FUNCTION_SECONDS,
    RUNTIMES,
    FunctionSettings,
    RuntimeName,
)
from dirigent.functions.runtimes.programs import parse_mapping
from dirigent.operations.local import LOCAL_NAMESPACE, open_local_engine
from dirigent.operations.sources import WorkflowFiles
from dirigent.spec import DefinitionError, load_workflow_file
from dirigent.spec.limits import long_call_warnings
from dirigent.store.records import InstanceRef, Scope, Variable, VariableRef

EXIT_FAILED = 1


def _pairs(values: list[str], option: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name:
            raise typer.BadParameter(f"expected NAME=VALUE, got {value!r}", param_hint=option)
        pairs[name] = rest
    return pairs


def _read_input(value: str | None) -> bytes:
    if value is None:
        return b"{}"  # no input at all: start with empty data rather than {"input": ""}
    if value == "-":
        return sys.stdin.buffer.read()
    path = Path(value)
    if path.is_file():
        return path.read_bytes()
    return value.encode()


def run_workflow(
    workflow: Path,
    input: str | None,
    service: list[str],
    secret: list[str],
    var: list[str],
    sidecar_port: int,
    function: list[str],
    runtime: str,
) -> None:
    """`dirigent run` (see `dirigent.cli.run`)."""
    try:
        definition = load_workflow_file(workflow)
    except DefinitionError as error:
        print_problems(error.problems)
        raise typer.Exit(EXIT_DEFINITION) from None
    print_problems(definition.warnings)
    print_problems(long_call_warnings(definition, timedelta(seconds=DEFAULT_MAX_FUNCTION_SECONDS)))
    files = WorkflowFiles(LOCAL_NAMESPACE)
    files.add(definition)
    files.add_directory(workflow.parent, skip=[workflow])
    variables = _variables(var)
    if runtime == "process":
        restart_in_user_namespace()
    try:
        settings = FunctionSettings(
            runtime=_runtime(runtime),
            functions=parse_mapping(function),
            services=_pairs(service, "--service"),
            sidecar_port=sidecar_port,
        )
        instance = asyncio.run(
            _run(files, definition.workflow.id, _read_input(input), variables, settings, secret)
        )
    except DirigentError as error:
        typer.echo(f"error: {error.message}", err=True)
        raise typer.Exit(EXIT_FAILED) from None
    except WorkflowError as error:
        typer.echo(f"error: {error.code}: {error.message}", err=True)
        raise typer.Exit(EXIT_FAILED) from None
    typer.echo(orjson.dumps(instance.output, option=orjson.OPT_INDENT_2).decode())
    if instance.status is not Status.COMPLETE:
        failure = instance.error
        detail = f"{failure.code}: {failure.message}" if failure else ""
        typer.echo(f"error: {instance.status.value} {detail}", err=True)
        raise typer.Exit(EXIT_FAILED)


def _runtime(name: str) -> RuntimeName:
    for known in RUNTIMES:
        if name == known:
            return known
    raise typer.BadParameter(f"choose one of {', '.join(RUNTIMES)}", param_hint="--runtime")


def _variables(values: list[str]) -> list[tuple[Scope, str, bytes]]:
    parsed: list[tuple[Scope, str, bytes]] = []
    for name, file in _pairs(values, "--var").items():
        scope, sep, key = name.partition("/")
        if not sep or scope not in ("instance", "workflow", "namespace"):
            raise typer.BadParameter(
                f"expected SCOPE/KEY=FILE with scope instance, workflow or namespace, got {name!r}",
                param_hint="--var",
            )
        try:
            parsed.append((cast(Scope, scope), key, Path(file).read_bytes()))
        except OSError as error:
            raise typer.BadParameter(
                f"cannot read {file}: {error.strerror}", param_hint="--var"
            ) from None
    return parsed


async def _run(
    files: WorkflowFiles,
    workflow: str,
    raw_input: bytes,
    variables: list[tuple[Scope, str, bytes]],
    functions: FunctionSettings,
    secrets: list[str],
) -> Instance:
    async with open_local_engine(
        workflows=files, functions=functions, secrets=_pairs(secrets, "--secret")
    ) as engine:
        engine.store.add_log_listener(print_log)
        instance_id = f"{LOCAL_NAMESPACE}/{workflow}/run"
        owner = InstanceRef(LOCAL_NAMESPACE, workflow, instance_id)
        for scope, key, data in variables:
            ref = VariableRef.of(scope, key, owner)
            await engine.store.set_variable(ref, Variable(data, "application/octet-stream"))
        return await engine.run(workflow, raw_input, instance_id=instance_id)

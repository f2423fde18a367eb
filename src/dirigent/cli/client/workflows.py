"""`dirigent workflow list|get|push|delete|toggle|download|exec`."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from dirigent.cli.client.command import EXIT_FAILED, EXIT_INTERRUPTED, Options, client_command
from dirigent.cli.client.http import Api, ApiError, ClientError, call, path
from dirigent.cli.client.instances import instance_route, wait_for_instance
from dirigent.cli.client.render import (
    Progress,
    decode_data,
    done,
    note,
    print_error,
    print_fields,
    print_json,
    print_table,
    row,
    when,
)

if TYPE_CHECKING:
    from dirigent.jq import Query
from dirigent.types import JSON, JSONObject

app = typer.Typer(
    name="workflow",
    help="Push workflows to the server, list and show them, execute them.",
    no_args_is_help=True,
)

NameArgument = Annotated[str, typer.Argument(help="The workflow (its id).", show_default=False)]

#: How often a terminal's progress line redraws the elapsed time (seconds).
TICK = 0.1


def workflows_route(namespace: str, *rest: str) -> str:
    return path("/api/namespaces", namespace, "/workflows", *rest)


@dataclass(frozen=True)
class Pushed:
    """What `push` did with one file."""

    file: str
    id: str | None = None
    action: str | None = None  # "created" or "updated"
    revision: int | None = None
    error: str | None = None
    warnings: tuple[str, ...] = ()

    def to_json(self) -> JSONObject:
        shown = {k: v for k, v in self.__dict__.items() if v is not None and k != "warnings"}
        if self.warnings:
            shown["warnings"] = list(self.warnings)
        return shown


async def push_workflow(api: Api, namespace: str, file: Path, text: bytes) -> Pushed:
    """Create the workflow in `file`, or update it when one with its id exists (PUT with the
    current revision, so that an update made meanwhile by someone else is refused, not lost)."""
    workflow_id = _workflow_id(text)
    try:
        answer = await api.request(
            "POST", workflows_route(namespace), body=text, content_type="text/yaml"
        )
        return _pushed(file, "created", answer.json(), workflow_id)
    except ApiError as error:
        if error.status != 409 or workflow_id is None:
            raise
    current = await api.get(workflows_route(namespace, workflow_id))
    revision = current.get("revision", 0) if isinstance(current, dict) else 0
    answer = await api.request(
        "PUT",
        workflows_route(namespace, workflow_id),
        params={"revision": revision},
        body=text,
        content_type="text/yaml",
    )
    return _pushed(file, "updated", answer.json(), workflow_id)


async def push_workflows(api: Api, namespace: str, files: list[tuple[Path, bytes]]) -> list[Pushed]:
    """Push each file in turn; a file the server refuses does not stop the others."""
    results: list[Pushed] = []
    for file, text in files:
        try:
            results.append(await push_workflow(api, namespace, file, text))
        except ApiError as error:
            results.append(Pushed(str(file), error=error.message))
    return results


async def start_instance(api: Api, namespace: str, workflow: str, data: bytes) -> str:
    answer = (
        await api.request(
            "POST",
            workflows_route(namespace, workflow, "/execute"),
            body=data,
            content_type="application/json" if _is_json(data) else "application/octet-stream",
        )
    ).json()
    instance_id = answer.get("instanceId") if isinstance(answer, dict) else None
    if not isinstance(instance_id, str):
        raise ClientError("the server did not say which instance it started")
    return instance_id


async def execute_and_wait(
    api: Api, namespace: str, workflow: str, data: bytes, started: list[str]
) -> JSONObject:
    """Start an instance, show its progress on stderr until it ends, return it then.

    The id goes into `started` as soon as it is known, for a message when the user interrupts."""
    instance_id = await start_instance(api, namespace, workflow, data)
    started.append(instance_id)
    with Progress(instance_id) as progress:
        ticker = asyncio.create_task(_tick(progress))
        try:
            return await wait_for_instance(
                api, instance_route(instance_id, namespace), progress.update
            )
        finally:
            ticker.cancel()


async def _tick(progress: Progress) -> None:
    while True:
        await asyncio.sleep(TICK)
        progress.refresh()


@client_command(app, "list")
def list_command(options: Options) -> None:
    """List the workflows in the namespace.

    Example: dirigent workflow list -n demo
    """
    found = call(
        options.server,
        lambda api: api.get_all(workflows_route(options.namespace) + "/", "workflows"),
    )
    if options.json:
        print_json(found)
        return
    print_table(
        ["ID", "REVISION", "ACTIVE", "CREATED", "DESCRIPTION"],
        (
            row(
                wf.get("id", wf.get("name")),
                wf.get("revision"),
                _yes_no(wf.get("active")),
                when(wf.get("createdAt")),
                wf.get("description"),
            )
            for wf in found
        ),
        empty=f"no workflows in namespace {options.namespace}",
    )


@client_command(app, "get")
def get_command(options: Options, name: NameArgument) -> None:
    """Show a workflow: revision, whether it is active, when it was created, its description.

    Example: dirigent workflow get hello
    """
    found = call(options.server, lambda api: api.get(workflows_route(options.namespace, name)))
    if options.json:
        print_json(found)
        return
    print_fields(
        [
            ("id", str(found.get("name", found.get("id", name)))),
            ("revision", str(found.get("revision", "-"))),
            ("active", _yes_no(found.get("active"))),
            ("created", when(found.get("createdAt"))),
            ("updated", when(found.get("updatedAt"))),
            ("description", str(found.get("description") or "-")),
            ("log to events", str(found.get("logToEvents") or "-")),
            ("next runs", ", ".join(when(t) for t in found.get("nextRuns") or []) or "-"),
        ]
    )


@client_command(app, "push")
def push_command(
    options: Options,
    sources: Annotated[
        list[Path],
        typer.Argument(
            help="Workflow YAML files, or folders: every *.yaml and *.yml in them.",
            show_default=False,
        ),
    ],
    recursive: Annotated[
        bool, typer.Option("--recursive", "-r", help="Folders: also the files in subfolders.")
    ] = False,
) -> None:
    """Create workflows, or update those that exist already.

    Example: dirigent workflow push flows/
    """
    files = [(file, _read(file)) for file in _workflow_files(sources, recursive)]
    results = call(options.server, lambda api: push_workflows(api, options.namespace, files))
    if options.json:
        print_json([result.to_json() for result in results])
    for result in results:
        for warning in result.warnings:
            note(
                located(
                    result.file, warning if warning.startswith("warning") else f"warning: {warning}"
                )
            )
        if result.error is not None:
            print_error(f"{result.file}: {located(result.file, result.error)}")
        elif not options.json:
            revision = f" (revision {result.revision})" if result.revision is not None else ""
            done(f"{result.file}: {result.action} {result.id or '?'}{revision}")
    if any(result.error is not None for result in results):
        raise typer.Exit(EXIT_FAILED)


@client_command(app, "delete")
def delete_command(options: Options, name: NameArgument) -> None:
    """Delete a workflow with its instances, listeners, schedules and variables.

    Example: dirigent workflow delete hello
    """
    answer = call(
        options.server, lambda api: api.request("DELETE", workflows_route(options.namespace, name))
    )
    if options.json:
        print_json(answer.json())
    else:
        done(f"deleted workflow {name}")


@client_command(app, "toggle")
def toggle_command(options: Options, name: NameArgument) -> None:
    """Make an active workflow inactive (it cannot be started), or an inactive one active.

    Example: dirigent workflow toggle hello
    """

    async def toggle(api: Api) -> JSON:
        answer = (
            await api.request("PUT", workflows_route(options.namespace, name, "/toggle"))
        ).json()
        if isinstance(answer, dict) and "active" in answer:
            return answer
        return await api.get(workflows_route(options.namespace, name))

    found = call(options.server, toggle)
    if options.json:
        print_json(found)
    else:
        state = "active" if found.get("active") else "inactive"
        done(f"workflow {name} is now {state}")


@client_command(app, "download")
def download_command(options: Options, name: NameArgument) -> None:
    """Print a workflow's YAML as stored on the server (whatever --output says).

    Example: dirigent workflow download hello > hello.yaml
    """
    answer = call(
        options.server,
        lambda api: api.request("GET", workflows_route(options.namespace, name, "/download")),
    )
    sys.stdout.buffer.write(answer.body)
    sys.stdout.flush()


@client_command(app, "exec")
def exec_command(
    options: Options,
    name: NameArgument,
    input: Annotated[
        str | None,
        typer.Option(
            "--input", "-i", help="Input: a file, a JSON text, or - for stdin. Default: {}."
        ),
    ] = None,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait", "-w", help="Wait for the end: progress on stderr, the output on stdout."
        ),
    ] = False,
    field: Annotated[
        str | None,
        typer.Option(
            help="With --wait: print only this jq query's value of the output "
            "(a string that is base64 is printed decoded)."
        ),
    ] = None,
) -> None:
    """Start an instance of a workflow: print its id, or with --wait its output.

    With --wait the exit status is 1 when the instance does not complete.

    Example: dirigent workflow exec hello --input '{"name": "Ada"}' --wait
    """
    if field is not None and not wait:
        raise typer.BadParameter("only with --wait", param_hint="--field")
    from dirigent.operations.instances import compile_field  # jq loads only for --field

    query = compile_field(field) if field is not None else None
    data = _read_input(input)
    if not wait:
        instance_id = call(
            options.server, lambda api: start_instance(api, options.namespace, name, data)
        )
        if options.json:
            print_json({"instanceId": instance_id})
        else:
            done(instance_id)
        return
    started: list[str] = []
    try:
        instance = call(
            options.server,
            lambda api: execute_and_wait(api, options.namespace, name, data, started),
        )
    except KeyboardInterrupt:
        if started:
            print_error(
                f"interrupted; instance {started[0]} keeps running "
                f"(stop it with: dirigent instance cancel {started[0]})"
            )
            raise typer.Exit(EXIT_INTERRUPTED) from None
        raise
    _print_result(instance, query)


def _print_result(instance: JSONObject, field: Query | None) -> None:
    """The output on stdout (all of it, or one field); on failure also `error: …`, exit 1."""
    status = str(instance.get("status"))
    raw = decode_data(instance.get("output"))
    if raw.strip():
        try:
            output: JSON = json.loads(raw)
        except ValueError:
            sys.stdout.buffer.write(raw + b"\n")
        else:
            if field is None or status != "complete":
                print_json(output)
            else:
                _print_field(output, field)
    if status != "complete":
        code = instance.get("errorCode") or "-"
        print_error(f"{status} {code}: {instance.get('errorMessage') or ''}".rstrip())
        raise typer.Exit(EXIT_FAILED)


def _print_field(output: JSON, field: Query) -> None:
    """The API's `?field=` rule (one operation, one place): the query's first value; a string that
    is base64 comes out decoded, byte for byte; other strings as text, anything else as JSON."""
    from dirigent.operations.instances import extract_field

    value = extract_field(output, field)
    sys.stdout.buffer.write(value.body)
    if value.media_type != "application/octet-stream":
        sys.stdout.buffer.write(b"\n")
    sys.stdout.flush()


def _read_input(value: str | None) -> bytes:
    """`--input`: none → `{}`; `-` → stdin; an existing file → its bytes; else it must be JSON."""
    if value is None:
        return b"{}"
    if value == "-":
        return sys.stdin.buffer.read()
    file = Path(value)
    if file.is_file():
        try:
            return file.read_bytes()
        except OSError as error:
            raise typer.BadParameter(f"cannot read {value}: {error.strerror}") from None
    if not _is_json(value.encode()):
        raise typer.BadParameter(f"{value!r} is neither a file nor JSON text", param_hint="--input")
    return value.encode()


def _workflow_files(sources: list[Path], recursive: bool) -> list[Path]:
    files: list[Path] = []
    for source in sources:
        if source.is_dir():
            candidates = source.rglob("*") if recursive else source.iterdir()
            found = sorted(p for p in candidates if p.suffix in (".yaml", ".yml") and p.is_file())
            if not found:
                where = f"{source} (or its subfolders)" if recursive else str(source)
                raise ClientError(f"no *.yaml or *.yml files in {where}")
            files.extend(found)
        elif source.is_file():
            files.append(source)
        else:
            raise ClientError(f"no such file or folder: {source}")
    return files


def _read(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except OSError as error:
        raise ClientError(f"cannot read {file}: {error.strerror}") from None


def _workflow_id(text: bytes) -> str | None:
    """The `id` a workflow YAML gives itself, or None when it has none (or is not YAML)."""
    try:
        document: Any = YAML(typ="safe").load(text)
    except YAMLError:
        return None
    found = document.get("id") if isinstance(document, dict) else None
    return found if isinstance(found, str) and found else None


def _pushed(file: Path, action: str, answer: JSON, workflow_id: str | None) -> Pushed:
    answer = answer if isinstance(answer, dict) else {}
    found = answer.get("id", answer.get("name", workflow_id))
    revision = answer.get("revision")
    warnings = answer.get("warnings")
    return Pushed(
        str(file),
        id=found if isinstance(found, str) else workflow_id,
        action=action,
        revision=revision if isinstance(revision, int) else None,
        warnings=tuple(map(str, warnings)) if isinstance(warnings, list) else (),
    )


_LOCATION = re.compile(r"^(warning: )?line (\d+)(?:, column (\d+))?: ")


def located(file: str, message: str) -> str:
    """The server's `line 5, column 17: …` lines as `FILE:5:17: …`, the way `dirigent lint` and
    editors write places."""

    def place(match: re.Match[str]) -> str:
        column = f":{match[3]}" if match[3] else ""
        return f"{match[1] or ''}{file}:{match[2]}{column}: "

    return "\n".join(_LOCATION.sub(place, line) for line in message.splitlines())


def _is_json(data: bytes) -> bool:
    try:
        json.loads(data)
    except ValueError:
        return False
    return True


def _yes_no(value: object) -> str:
    return "-" if value is None else ("yes" if value else "no")

"""`dirigent event send|list`: send CloudEvents to a namespace, list the events it received."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer

from dirigent.cli.client.command import Options, client_command
from dirigent.cli.client.http import Api, ClientError, call, items, path
from dirigent.cli.client.render import done, note, print_json, print_table, row, when
from dirigent.types import JSON, JSONObject

app = typer.Typer(
    name="event",
    help="Send CloudEvents to a namespace; list the events it received.",
    no_args_is_help=True,
)

STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"


def events_route(namespace: str, end: str) -> str:
    return path("/api/namespaces", namespace, end)


async def send_events(api: Api, namespace: str, body: JSON) -> list[Any]:
    """Send one event (an object) or a batch (a list) in structured mode; the receipts."""
    kind = BATCH if isinstance(body, list) else STRUCTURED
    reply = await api.request(
        "POST",
        events_route(namespace, "/event"),
        body=json.dumps(body).encode(),
        content_type=kind,
    )
    return items(reply.json(), "events")


async def list_events(api: Api, namespace: str, limit: int) -> list[Any]:
    return items(await api.get(events_route(namespace, "/events"), {"limit": limit}), "events")


def _read_event(file: Path) -> JSON:
    try:
        text = sys.stdin.read() if str(file) == "-" else file.read_text()
    except OSError as error:
        raise ClientError(f"{file}: {error.strerror or error}") from None
    try:
        return json.loads(text)
    except ValueError as error:
        raise ClientError(f"{file}: not JSON: {error}") from None


def _data(text: str | None) -> JSON:
    """--data: JSON if it parses, else the text itself."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def build_event(
    type_: str,
    source: str,
    *,
    data: str | None,
    event_id: str | None,
    subject: str | None,
    content_type: str | None,
    extensions: list[str],
) -> JSONObject:
    """An event from the command's options (the server validates it)."""
    event: JSONObject = {
        "specversion": "1.0",
        "id": event_id or str(uuid.uuid4()),
        "type": type_,
        "source": source,
    }
    if subject:
        event["subject"] = subject
    value = _data(data)
    if value is not None:
        event["datacontenttype"] = content_type or (
            "application/json" if data is not None and value != data else "text/plain"
        )
        event["data"] = value
    for pair in extensions:
        name, sep, text = pair.partition("=")
        if not sep or not name:
            raise typer.BadParameter(f"expected NAME=VALUE, got {pair!r}", param_hint="--ext")
        event[name.lower()] = text
    return event


@client_command(app, "send")
def send_command(
    options: Options,
    file: Annotated[
        Path | None,
        typer.Argument(
            help="The event as JSON (a list sends a batch); - reads stdin. Or use --type.",
            show_default=False,
        ),
    ] = None,
    type_: Annotated[str | None, typer.Option("--type", help="The event's type.")] = None,
    source: Annotated[str, typer.Option(help="The event's source.")] = "dirigent-cli",
    data: Annotated[
        str | None, typer.Option(help="The data: JSON, or text (sent as text/plain).")
    ] = None,
    event_id: Annotated[
        str | None, typer.Option("--id", help="The event's id (default: a new UUID).")
    ] = None,
    subject: Annotated[str | None, typer.Option(help="The event's subject.")] = None,
    content_type: Annotated[
        str | None, typer.Option("--content-type", help="The data's content type.")
    ] = None,
    extension: Annotated[
        list[str], typer.Option("--ext", help="NAME=VALUE: an extension attribute (repeatable).")
    ] = [],  # noqa: B006 - typer reads the default
) -> None:
    """Send a CloudEvent to the namespace: from a file, or built from --type and the other options.

    Example: dirigent event send order.json
    Example: dirigent event send --type order.paid --source shop --subject order-7 --data '{"amount": 3}'
    """
    if (file is None) == (type_ is None):
        raise ClientError("give either FILE or --type (with --source, --data, …)")
    if file is not None:
        body = _read_event(file)
    else:
        body = build_event(
            type_ or "",
            source,
            data=data,
            event_id=event_id,
            subject=subject,
            content_type=content_type,
            extensions=extension,
        )
    receipts = call(options.server, lambda api: send_events(api, options.namespace, body))
    if options.json:
        print_json(receipts)
        return
    for receipt in receipts:
        what = f"event {receipt.get('id')} ({receipt.get('type')})"
        if receipt.get("duplicate"):
            note(f"{what}: a duplicate (same source and id): ignored")
            continue
        started = receipt.get("started") or []
        done(f"sent {what}: reached {receipt.get('deliveries', 0)}; started {len(started)}")
        for instance_id in started:
            note(f"  started {instance_id}")


@client_command(app, "list")
def list_command(
    options: Options,
    limit: Annotated[int, typer.Option(help="How many, newest first.", min=1)] = 50,
) -> None:
    """List the events the namespace received (kept for the server's event retention).

    Example: dirigent event list --limit 10
    """
    found = call(options.server, lambda api: list_events(api, options.namespace, limit))
    if options.json:
        print_json(found)
        return
    print_table(
        ["RECEIVED", "TYPE", "SOURCE", "ID", "REACHED"],
        (
            row(
                when(e.get("receivedAt")),
                e.get("type"),
                e.get("source"),
                e.get("id"),
                e.get("deliveries"),
            )
            for e in found
        ),
        empty=f"no events in namespace {options.namespace}",
    )

"""`dirigent server`: run the server (REST API, engine, function sidecar) in one process.

Settings come from defaults, a TOML file (`--config`), `DIRIGENT_*` variables and the flags, in that
order (see docs/server.md). SIGINT and SIGTERM stop it cleanly: requests in flight are answered,
leases are given up, the store is closed.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from collections.abc import Coroutine
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dirigent.errors import Conflict, DirigentError, InvalidInput, Unavailable
from dirigent.operations.config import ServerConfig, load_config
from dirigent.operations.namespaces import ensure_namespace
from dirigent.operations.workflows import push_workflow

if TYPE_CHECKING:
    from dirigent.operations.server import Server

#: The namespace every server has, where `--with-examples` puts the examples.
DEFAULT_NAMESPACE = "default"
#: Seconds open connections (log followers) get to finish when the server stops.
GRACEFUL_SECONDS = 5


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
            "tokens (api_tokens in the config file, or DIRIGENT_API_TOKENS).",
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
) -> None:
    """Start the Dirigent server: the REST API (and its docs at /api/docs), the engine, and the
    function sidecar, on an SQLite file in the data directory unless told otherwise."""
    try:
        settings = load_config(
            config,
            data_dir=data_dir,
            database=database,
            host=host,
            port=port,
            with_examples=with_examples,
            sidecar_port=sidecar_port,
        )
        settings = replace(settings, services={**settings.services, **_pairs(service)})
        tokens = _tokens(settings)
        if not _is_loopback(settings.host) and not tokens:
            raise InvalidInput(
                f"listening on {settings.host} needs API tokens: set api_tokens in the config "
                "file or DIRIGENT_API_TOKENS (clients send Authorization: Bearer <token>)"
            )
        _run(_serve(settings, tokens))
    except DirigentError as error:
        typer.echo(f"error: {error.message}", err=True)
        raise typer.Exit(1) from None


def _pairs(values: list[str]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        name, sep, url = value.partition("=")
        if not sep or not name or not url:
            raise typer.BadParameter(f"expected NAME=URL, got {value!r}", param_hint="--service")
        pairs[name] = url
    return pairs


def _tokens(settings: ServerConfig) -> list[str]:
    """The configured API tokens (`api_tokens` in the config file, or DIRIGENT_API_TOKENS)."""
    return list(settings.api_tokens)


def _is_loopback(host: str) -> bool:
    from dirigent.api.middleware import is_loopback

    return is_loopback(host)


def _run(main: Coroutine[Any, Any, None]) -> None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it
        asyncio.run(main)
        return
    uvloop.run(main)


async def _serve(settings: ServerConfig, tokens: list[str]) -> None:
    # The web stack is imported here, so other commands start without it.
    import uvicorn

    from dirigent.api import create_app
    from dirigent.operations.server import open_server

    class Uvicorn(uvicorn.Server):
        """uvicorn's server, minus re-raising the stop signal once it has stopped: the store and
        the runtime still close after it (a re-raised SIGTERM would kill the process first)."""

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            if self.should_exit and sig == signal.SIGINT:
                self.force_exit = True
            else:
                self.should_exit = True

    async with open_server(settings) as server:
        await ensure_namespace(server, DEFAULT_NAMESPACE)
        if settings.with_examples:
            await push_examples(server, _examples_dir())
        sock = _bind(settings.host, settings.port)
        actual = sock.getsockname()[1]
        uv = Uvicorn(
            uvicorn.Config(
                create_app(server, tokens=tokens),
                http="httptools",
                lifespan="off",
                log_level="warning",
                access_log=False,
                timeout_graceful_shutdown=GRACEFUL_SECONDS,
            )
        )
        where = (
            f"{settings.host}:{actual}"
            if ":" not in settings.host
            else f"[{settings.host}]:{actual}"
        )
        print(
            f"Dirigent listening on http://{where} (data: {settings.data_dir.resolve()})",
            flush=True,
        )
        await uv.serve(sockets=[sock])


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise Unavailable(f"cannot listen on {host}:{port}: {error.strerror}") from None
    return sock


def _examples_dir() -> Path:
    """`examples/` of the working directory, else of the source checkout Dirigent runs from."""
    here = Path("examples")
    if here.is_dir():
        return here
    return Path(__file__).resolve().parents[3] / "examples"


async def push_examples(server: Server, directory: Path) -> list[str]:
    """Push every `*.yaml` under `directory` into the default namespace unless a workflow with its
    id is there already; returns the ids pushed. Files that do not load are named on stderr."""
    pushed: list[str] = []
    for path, source in await asyncio.to_thread(_read_examples, directory):
        try:
            result = await push_workflow(server, DEFAULT_NAMESPACE, source)
        except Conflict:
            continue  # there already
        except DirigentError as error:
            print(f"warning: example {path}: {error.message}", file=sys.stderr)
            continue
        pushed.append(result.record.id)
    return pushed


def _read_examples(directory: Path) -> list[tuple[Path, bytes]]:
    return [(path, path.read_bytes()) for path in sorted(directory.rglob("*.yaml"))]

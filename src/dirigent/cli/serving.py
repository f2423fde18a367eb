"""What `dirigent server` does: settings, then the store, the runtime, the API and the UI in one process.

Settings come from defaults, a TOML file (`--config`), `DIRIGENT_*` variables and the flags, in that
order (see docs/server.md). SIGINT and SIGTERM stop it cleanly: requests in flight are answered,
leases are given up, the store is closed.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import sys
import tomllib
from collections.abc import Coroutine
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import typer

from dirigent.errors import Conflict, DirigentError, InvalidInput, Unavailable
from dirigent.functions.pods.userns import restart_in_user_namespace
from dirigent.functions.runtimes.programs import parse_mapping
from dirigent.operations.config import ServerConfig, load_config
from dirigent.operations.namespaces import ensure_namespace
from dirigent.operations.workflows import push_workflow

if TYPE_CHECKING:
    from dirigent.operations.server import Server

#: The namespace every server has, where `--with-examples` puts the examples.
DEFAULT_NAMESPACE = "default"
#: Seconds open connections (log followers) get to finish when the server stops.
GRACEFUL_SECONDS = 5


def serve_command(
    *,
    data_dir: Path | None,
    database: str | None,
    host: str | None,
    require_token: bool | None,
    port: int | None,
    config: Path | None,
    service: list[str],
    with_examples: bool | None,
    sidecar_port: int | None,
    runtime: str | None,
    function: list[str],
) -> None:
    """`dirigent server` (its options: `dirigent.cli.server`)."""
    try:
        settings = load_config(
            config,
            data_dir=data_dir,
            database=database,
            host=host,
            port=port,
            with_examples=with_examples,
            sidecar_port=sidecar_port,
            require_token=require_token,
            runtime=runtime,
        )
        settings = replace(
            settings,
            services={**settings.services, **_pairs(service)},
            functions={**settings.functions, **parse_mapping(function)},
        )
        if settings.with_examples:
            # The examples' own functions run from their folders, unless configured otherwise.
            examples = example_functions(_examples_dir())
            settings = replace(settings, functions={**examples, **settings.functions})
        if settings.runtime == "process":
            restart_in_user_namespace()
        tokens = _tokens(settings)
        if not tokens and _token_required(settings):
            _run(_check_stored_tokens(settings))
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


def _token_required(settings: ServerConfig) -> bool:
    from dirigent.api.middleware import token_required

    return token_required(settings)


async def _check_stored_tokens(settings: ServerConfig) -> None:
    """Refuse to start when the API asks for tokens, none is configured and none is stored."""
    from dirigent.api.middleware import is_loopback
    from dirigent.operations.tokens import has_tokens
    from dirigent.store import open_store

    store = await open_store(settings.database_url)
    try:
        stored = await has_tokens(store)
    finally:
        await store.aclose()
    if not stored:
        where = settings.host + (" with require_token" if is_loopback(settings.host) else "")
        raise InvalidInput(
            f"listening on {where} needs API tokens: make one with `dirigent token create NAME` "
            "(with the same --data-dir/--database), or set api_tokens in the config file or "
            "DIRIGENT_API_TOKENS (clients send Authorization: Bearer <token>)"
        )


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

    # The server's own log (pods starting, stopping, their output): stderr, one line each.
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("dirigent").setLevel(logging.INFO)
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


def example_functions(directory: Path) -> dict[str, str]:
    """The image → folder table of the examples (`examples/functions.toml`), folders made absolute."""
    table = directory / "functions.toml"
    if not table.is_file():
        return {}
    return {
        image: str((directory / folder).resolve())
        for image, folder in tomllib.loads(table.read_text()).items()
    }


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

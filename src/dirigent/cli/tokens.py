"""`dirigent token create|list|revoke`: API tokens, made directly in the server's database.

These commands open the database a server uses (the same `--config`, `--data-dir` and `--database`
as `dirigent server`, and the same `DIRIGENT_*` variables), not its API: the first token can be made
before any server accepts one. The token is printed once, alone on stdout, so a script can keep it
(`TOKEN=$(dirigent token create ci)`); only its hash is stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from dirigent.cli.client.command import OutputOption, run_reporting_errors
from dirigent.cli.client.render import Output, done, note, print_json, print_table
from dirigent.errors import InvalidInput
from dirigent.types import JSONObject

if TYPE_CHECKING:  # the operations and the store load when a command runs: `--help` stays fast
    from dirigent.operations import tokens as ops
    from dirigent.operations.config import ServerConfig
    from dirigent.store.base import Store

T = TypeVar("T")

app = typer.Typer(
    name="token",
    help="API tokens, made in the server's database: create, list, revoke.",
    no_args_is_help=True,
)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="The server's TOML file of settings.", show_default=False),
]
DataDirOption = Annotated[
    Path | None,
    typer.Option(help="The server's data directory (SQLite database).", show_default=False),
]
DatabaseOption = Annotated[
    str | None,
    typer.Option(help="The server's database URL: sqlite:///FILE or postgresql://…."),
]
NameArgument = Annotated[str, typer.Argument(help="The token's name.", show_default=False)]


def _settings(config: Path | None, data_dir: Path | None, database: str | None) -> ServerConfig:
    from dirigent.operations.config import load_config

    settings = load_config(config, data_dir=data_dir, database=database)
    if settings.database_url.split(":", 1)[0].lower() == "memory":
        raise InvalidInput("tokens need the server's database: memory:// keeps nothing")
    return settings


def _on_store(settings: ServerConfig, operation: Callable[[Store], Awaitable[T]]) -> T:
    """The sync facade: open the server's store, run `operation` on it, close it."""

    from dirigent.store import open_store

    async def main() -> T:
        store = await open_store(settings.database_url)
        try:
            return await operation(store)
        finally:
            await store.aclose()

    return asyncio.run(main())


def _timestamp(moment: datetime | None) -> JSONObject | None:
    """A time as the API writes it: `{"seconds", "nanos"}`."""
    if moment is None:
        return None
    return {"seconds": int(moment.timestamp()), "nanos": moment.microsecond * 1000}


def _json(info: ops.TokenInfo) -> JSONObject:
    """A token as `GET /api/tokens` answers it."""
    return {
        "name": info.name,
        "namespaces": list(info.namespaces),
        "createdAt": _timestamp(info.created_at),
        "expiresAt": _timestamp(info.expires_at),
    }


def _scope(info: ops.TokenInfo) -> str:
    return ", ".join(info.namespaces) if info.namespaces else "all"


def _local(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


@app.command("create")
def create_command(
    name: NameArgument,
    namespace: Annotated[
        list[str],
        typer.Option(
            "--namespace",
            "-n",
            help="A namespace the token may use (repeat for more); none: every namespace and the "
            "server-level routes.",
        ),
    ] = [],  # noqa: B006 - typer reads the default
    expires: Annotated[
        str | None,
        typer.Option(help="Lifetime: 30d, 12h, 90m, 45s, 2w; default: never expires."),
    ] = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    database: DatabaseOption = None,
    output: OutputOption = Output.TABLE,
) -> None:
    """Create a token and print it (this once; only its hash is kept).

    Example: dirigent token create ci --namespace billing --expires 90d
    """
    from dirigent.operations import tokens as ops

    def body() -> None:
        settings = _settings(config, data_dir, database)
        expires_in = ops.parse_duration(expires) if expires is not None else None
        created = _on_store(
            settings,
            lambda store: ops.create_token(
                store, name, namespace, now=datetime.now(UTC), expires_in=expires_in
            ),
        )
        if output is Output.JSON:
            print_json({**_json(created.info), "token": created.token})
            return
        info = created.info
        expiry = f"expires {_local(info.expires_at)}" if info.expires_at else "never expires"
        note(
            f"created token {info.name} (namespaces: {_scope(info)}; {expiry}); "
            "it is shown only this once"
        )
        done(created.token)

    run_reporting_errors(body)


@app.command("list")
def list_command(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    database: DatabaseOption = None,
    output: OutputOption = Output.TABLE,
) -> None:
    """List the tokens: names, namespaces, creation and expiry (never the tokens themselves).

    Example: dirigent token list --database postgresql://dirigent@db/dirigent
    """
    from dirigent.operations import tokens as ops

    def body() -> None:
        found = _on_store(_settings(config, data_dir, database), ops.list_tokens)
        if output is Output.JSON:
            print_json([_json(info) for info in found])
            return
        now = datetime.now(UTC)

        def expiry(info: ops.TokenInfo) -> str:
            if info.expires_at is None:
                return "never"
            return ("expired " if info.expired(now) else "") + _local(info.expires_at)

        rows = ([i.name, _scope(i), _local(i.created_at), expiry(i)] for i in found)
        print_table(["NAME", "NAMESPACES", "CREATED", "EXPIRES"], rows, empty="no tokens")

    run_reporting_errors(body)


@app.command("revoke")
def revoke_command(
    name: NameArgument,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    database: DatabaseOption = None,
    output: OutputOption = Output.TABLE,
) -> None:
    """Revoke a token: servers refuse it within `token_cache_seconds` (default 5 s).

    Example: dirigent token revoke ci
    """
    from dirigent.operations import tokens as ops

    def body() -> None:
        settings = _settings(config, data_dir, database)
        _on_store(settings, lambda store: ops.revoke_token(store, name))
        if output is Output.JSON:
            print_json({"name": name})
        else:
            done(f"revoked token {name}")
            note(
                f"servers refuse it within {settings.token_cache_seconds:g} s (token_cache_seconds)"
            )

    run_reporting_errors(body)

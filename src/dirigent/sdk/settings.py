"""Where a function listens and where its sidecar is: defaults, environment, command line.

The contract fixes port 8080 for the function and `localhost:8889` for the sidecar; images
hard-code both. The environment variables below move them, for running several functions on one
machine without network namespaces (`dirigent function serve`, tests). Command line options of
`serve` (`--host`, `--port`, `--dev`) win over the environment.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

#: The port the function listens on (default 8080).
PORT_ENV = "DIRIGENT_FUNCTION_PORT"
#: The address the function listens on (default 0.0.0.0: all interfaces).
HOST_ENV = "DIRIGENT_FUNCTION_HOST"
#: The sidecar's port on localhost (default 8889); the name test functions share.
SIDECAR_PORT_ENV = "DIRIGENT_SIDECAR_PORT"
#: Development mode when set to 1, true or yes: calls without `Direktiv-ActionID` are accepted.
DEV_ENV = "DIRIGENT_FUNCTION_DEV"

DEFAULT_PORT = 8080
DEFAULT_HOST = "0.0.0.0"
DEFAULT_SIDECAR_PORT = 8889
#: The action id of calls in development mode, as every helper library spells it.
DEVELOPMENT = "development"
#: The largest request body accepted; Dirigent's own limit (4 MiB by default) is configurable.
MAX_INPUT = 64 * 1024 * 1024
#: How many sync handlers may run at once (each in a thread of its own).
SYNC_WORKERS = 64

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


class SettingsError(ValueError):
    """A setting in the environment or on the command line has a value that cannot be used."""


@dataclass(frozen=True, slots=True)
class Settings:
    """How a function server runs. `sidecar_url` has no trailing slash."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    sidecar_url: str = f"http://127.0.0.1:{DEFAULT_SIDECAR_PORT}"
    dev: bool = False

    @classmethod
    def load(cls, environ: Mapping[str, str], argv: Sequence[str] = ()) -> Settings:
        """Settings from `environ`, overridden by `--host`, `--port` and `--dev` in `argv`.

        Raises `SettingsError` for a port that is not a number in 0..65535, a dev value that is
        not a yes/no word, or an unknown command line option.
        """
        arguments = _parse(argv)
        host = arguments.host or environ.get(HOST_ENV) or DEFAULT_HOST
        port = (
            arguments.port
            if arguments.port is not None
            else _port(environ.get(PORT_ENV), PORT_ENV, DEFAULT_PORT)
        )
        sidecar_port = _port(environ.get(SIDECAR_PORT_ENV), SIDECAR_PORT_ENV, DEFAULT_SIDECAR_PORT)
        dev = arguments.dev or _flag(environ.get(DEV_ENV, ""), DEV_ENV)
        return cls(host, port, f"http://127.0.0.1:{sidecar_port}", dev)


def _parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Serve this Dirigent function over HTTP (function contract).",
        exit_on_error=False,
    )
    parser.add_argument("--host", help=f"address to listen on (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, help=f"port to listen on (default {DEFAULT_PORT})")
    parser.add_argument(
        "--dev", action="store_true", help="development mode: accept calls without an action id"
    )
    try:
        arguments, unknown = parser.parse_known_args(list(argv))
    except argparse.ArgumentError as error:
        raise SettingsError(str(error)) from None
    if unknown:
        raise SettingsError(
            f"unknown option(s): {' '.join(unknown)} (known: --host, --port, --dev)"
        )
    if arguments.port is not None and not 0 <= arguments.port <= 65535:
        raise SettingsError(f"--port must be in 0..65535, not {arguments.port}")
    return arguments


def _port(value: str | None, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        port = int(value)
    except ValueError:
        raise SettingsError(f"{name} must be a port number, not {value!r}") from None
    if not 0 <= port <= 65535:
        raise SettingsError(f"{name} must be in 0..65535, not {port}")
    return port


def _flag(value: str, name: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise SettingsError(f"{name} must be 1/true/yes or 0/false/no, not {value!r}")

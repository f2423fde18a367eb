"""Server settings: defaults for a laptop, overridable by a TOML file and `DIRIGENT_*` variables."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from dirigent.errors import InvalidInput

#: The API's default port: clear of functions' 8080 and the sidecar's 8889.
DEFAULT_PORT = 8780


@dataclass(frozen=True)
class ServerConfig:
    """Everything `dirigent server` can be told. See docs/server.md for each setting."""

    data_dir: Path = Path(".dirigent")
    #: `sqlite:///…`, `postgresql://…` or `memory://`; empty means SQLite in `data_dir`.
    database: str = ""
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    #: Key for secrets at rest (Fernet, urlsafe base64 of 32 bytes); empty = a key file in `data_dir`.
    secret_key: str = ""
    #: Functions reached at URLs, by function id, image or service name.
    services: dict[str, str] = field(default_factory=dict)
    sidecar_port: int = 8889
    #: Seconds a server's lease on an instance lasts without renewal (another server takes over after).
    lease_seconds: float = 30.0
    #: Seconds a stopping server lets function calls in flight finish before it leaves them to others.
    drain_seconds: float = 10.0
    #: Seconds `?wait=true` blocks before answering with the instance id.
    wait_seconds: float = 90.0
    #: Push the workflows of `examples/` into the `default` namespace on first start.
    with_examples: bool = False
    #: Bearer tokens the API accepts; required when `host` is not loopback. Env: comma-separated.
    api_tokens: tuple[str, ...] = ()

    @property
    def database_url(self) -> str:
        return self.database or f"sqlite:///{(self.data_dir / 'dirigent.db').resolve()}"


def load_config(path: Path | None = None, **overrides: Any) -> ServerConfig:
    """Defaults, then the TOML file (if given), then `DIRIGENT_<NAME>` variables, then `overrides`."""
    values: dict[str, Any] = {}
    if path is not None:
        try:
            values.update(tomllib.loads(path.read_text()))
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise InvalidInput(f"config file {path}: {error}") from None
    known = {f.name: f for f in fields(ServerConfig)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise InvalidInput(f"config file {path}: unknown setting(s): {', '.join(unknown)}")
    for name in known:
        env = os.environ.get(f"DIRIGENT_{name.upper()}")
        if env is not None and name != "services":
            values[name] = env
    values.update({k: v for k, v in overrides.items() if v is not None})
    config = ServerConfig()
    try:
        return replace(config, **{k: _coerce(known[k].type, v) for k, v in values.items()})
    except (TypeError, ValueError) as error:
        raise InvalidInput(f"bad setting: {error}") from None


def _coerce(kind: Any, value: Any) -> Any:
    text = str(kind)
    if "Path" in text:
        return Path(value)
    if text == "int":
        return int(value)
    if text == "float":
        return float(value)
    if "tuple" in text:
        items = value.split(",") if isinstance(value, str) else list(value)
        return tuple(str(item).strip() for item in items if str(item).strip())
    if text == "bool":
        return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
    return value

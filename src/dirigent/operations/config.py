"""Server settings: defaults for a laptop, overridable by a TOML file and `DIRIGENT_*` variables."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from dirigent.errors import InvalidInput
from dirigent.functions.pods.pool import PoolSettings
from dirigent.functions.runtimes import DEFAULT_MAX_FUNCTION_SECONDS, RUNTIMES, FunctionSettings

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
    #: Functions reached at URLs, by function id, image or service name (`image:NAME`: run in pods).
    services: dict[str, str] = field(default_factory=dict)
    #: Where pods run: `process` (local processes) or `docker`.
    runtime: str = "process"
    #: Process runtime: image → function folder or command (`[functions]` table).
    functions: dict[str, str] = field(default_factory=dict)
    #: The longest a function call may run, whatever the workflow says (seconds).
    max_function_seconds: float = DEFAULT_MAX_FUNCTION_SECONDS
    #: Calls one pod serves at once; pods of one function at most; idle seconds before a pod stops;
    #: seconds a new pod has to listen on its port 8080.
    pod_concurrency: int = 10
    max_pods: int = 4
    pod_idle_seconds: float = 300.0
    pod_ready_seconds: float = 60.0
    #: Docker runtime: the Engine API address (empty: `DOCKER_HOST` or the default socket).
    docker_host: str = ""
    sidecar_port: int = 8889
    #: Seconds a server's lease on an instance lasts without renewal (another server takes over after).
    lease_seconds: float = 30.0
    #: Seconds a stopping server lets function calls in flight finish before it leaves them to others.
    drain_seconds: float = 10.0
    #: Seconds `?wait=true` blocks before answering with the instance id.
    wait_seconds: float = 90.0
    #: Push the workflows of `examples/` into the `default` namespace on first start.
    with_examples: bool = False
    #: Seconds a received event is kept (listed, and its source+id refused as a duplicate).
    event_retention_seconds: float = 86400.0
    #: The IANA time zone in which cron schedules tick.
    schedule_time_zone: str = "UTC"
    #: Ticks missed while no server ran: `run_once` (one instance for them) or `skip`.
    schedule_missed: str = "run_once"
    #: Unrestricted bearer tokens the API accepts besides those of `dirigent token create`.
    #: Env: comma-separated.
    api_tokens: tuple[str, ...] = ()
    #: Ask for a token on loopback too (off loopback one is always asked for).
    require_token: bool = False
    #: Seconds a server remembers a stored token's check; a revoke takes effect within this.
    token_cache_seconds: float = 5.0

    def function_settings(self) -> FunctionSettings:
        """How this server runs functions."""
        if self.runtime not in RUNTIMES:
            raise InvalidInput(f"unknown runtime '{self.runtime}' (choose {', '.join(RUNTIMES)})")
        return FunctionSettings(
            runtime=self.runtime,
            functions=self.functions,
            services=self.services,
            sidecar_port=self.sidecar_port,
            max_function_seconds=self.max_function_seconds,
            pool=PoolSettings(
                concurrency=self.pod_concurrency,
                max_pods=self.max_pods,
                idle_seconds=self.pod_idle_seconds,
                ready_seconds=self.pod_ready_seconds,
            ),
            docker_host=self.docker_host,
        )

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
    if path is not None and isinstance(values.get("functions"), dict):
        values["functions"] = _relative_to(path.parent, values["functions"])
    known = {f.name: f for f in fields(ServerConfig)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise InvalidInput(f"config file {path}: unknown setting(s): {', '.join(unknown)}")
    for name in known:
        env = os.environ.get(f"DIRIGENT_{name.upper()}")
        if env is not None and name not in ("services", "functions"):
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


def _relative_to(base: Path, mapping: dict[str, Any]) -> dict[str, str]:
    """Function folders named relative to the config file, made absolute; commands kept."""
    resolved: dict[str, str] = {}
    for image, target in mapping.items():
        folder = base / str(target)
        resolved[image] = str(folder.resolve()) if folder.is_dir() else str(target)
    return resolved

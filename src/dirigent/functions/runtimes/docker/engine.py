"""A small client of the Docker Engine API on a local Unix socket (Docker, or Podman's compatible API).

Only the calls the docker runtime makes. Paths are unversioned, so the engine answers in its own API
version; every field used here is stable since API 1.25. Only *local* engines are supported: the
runtime reaches each container through its network namespace in `/proc`, which an engine on another
machine (`tcp://`, `ssh://`) cannot offer, so such addresses are refused with a clear error.
"""

from __future__ import annotations

import asyncio
import os
import struct
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson

from dirigent.errors import InvalidInput, Unavailable
from dirigent.types import JSONObject

DEFAULT_SOCKET = "/var/run/docker.sock"
#: Requests other than the long-running ones (pull, wait, logs) get this long.
REQUEST_SECONDS = 120.0
_LONG = aiohttp.ClientTimeout(total=None, sock_connect=10.0)
_SHORT = aiohttp.ClientTimeout(total=REQUEST_SECONDS, sock_connect=10.0)
#: How often a container that another request is removing is looked at.
_POLL_SECONDS = 0.02
#: A frame header of a multiplexed log stream: stream type, three zero bytes, payload length.
_FRAME = struct.Struct(">BxxxL")


class EngineError(Unavailable):
    """The Docker Engine refused a request (`status` is its HTTP status) or did not answer (0)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def engine_socket(docker_host: str) -> str:
    """The socket path of `docker_host` (a setting), else of `DOCKER_HOST`, else the default one.

    Raises `InvalidInput` for an address that is not a local Unix socket.
    """
    host = docker_host or os.environ.get("DOCKER_HOST", "") or f"unix://{DEFAULT_SOCKET}"
    if host.startswith("unix://") and len(host) > len("unix://"):
        return host.removeprefix("unix://")
    if host.startswith("/"):
        return host
    raise InvalidInput(
        f"docker host {host!r}: the docker runtime needs the Unix socket of an engine on this "
        "machine (unix:///path/to/docker.sock); it reaches containers through their network "
        "namespaces, which an engine elsewhere cannot offer"
    )


@dataclass(frozen=True, slots=True)
class ContainerState:
    """What inspecting a container tells about its process."""

    running: bool
    pid: int
    exit_code: int

    @classmethod
    def of(cls, document: JSONObject) -> ContainerState:
        state = document.get("State") or {}
        return cls(
            running=bool(state.get("Running")),
            pid=int(state.get("Pid") or 0),
            exit_code=int(state.get("ExitCode") or 0),
        )


class DockerEngine:
    """One connection pool to the engine at `socket`; `aclose` ends it."""

    def __init__(self, socket: str) -> None:
        self.socket = socket
        self._session = aiohttp.ClientSession(
            connector=aiohttp.UnixConnector(path=socket),
            base_url="http://docker",
            timeout=_SHORT,
        )

    async def aclose(self) -> None:
        await self._session.close()

    async def version(self) -> str:
        """The engine's version; raises `EngineError` naming the socket when it does not answer."""
        found = await self._json("GET", "/version")
        return str(found.get("Version", "unknown"))

    # Images

    async def has_image(self, image: str) -> bool:
        try:
            await self._json("GET", f"/images/{quote(image, safe='/:@')}/json")
        except EngineError as error:
            if error.status == 404:
                return False
            raise
        return True

    async def pull(self, reference: str, auth: str | None) -> None:
        """Pull `reference` (with its tag or digest), with `auth` as `X-Registry-Auth` if given.

        The engine reports a failed pull inside a `200` progress stream; that is an `EngineError` too.
        """
        headers = {"X-Registry-Auth": auth} if auth else {}
        async with self._request(
            "POST", "/images/create", params={"fromImage": reference}, headers=headers, long=True
        ) as response:
            async for line in response.content:
                if not line.strip():
                    continue
                progress = orjson.loads(line)
                if isinstance(progress, dict) and progress.get("error"):
                    raise EngineError(response.status, str(progress["error"]))

    # Containers

    async def create(self, name: str, config: JSONObject) -> str:
        """Create a container `name` from `config` (the engine's create document); its id."""
        found = await self._json("POST", "/containers/create", params={"name": name}, body=config)
        return str(found["Id"])

    async def start(self, container: str) -> None:
        async with self._request("POST", f"/containers/{container}/start"):
            pass

    async def inspect(self, container: str) -> JSONObject:
        """The engine's inspect document of `container` (`State`, `HostConfig`, `Config`, ...)."""
        return await self._json("GET", f"/containers/{container}/json")

    async def wait(self, container: str) -> int | None:
        """Wait until `container` has stopped; its exit status, or None if it is gone."""
        try:
            found = await self._json("POST", f"/containers/{container}/wait", long=True)
        except EngineError as error:
            if error.status == 404:
                return None
            raise
        return int(found.get("StatusCode", 0))

    async def stop(self, container: str, seconds: int) -> None:
        """SIGTERM, then SIGKILL after `seconds`; returns when it has stopped. Gone is stopped."""
        await self._ignoring(
            (304, 404), "POST", f"/containers/{container}/stop", params={"t": str(seconds)}
        )

    async def remove(self, container: str) -> None:
        """Remove `container`, killing it first; returns once it is gone (missing is gone).

        When another removal of it is under way (the engine answers 409), waits (up to
        `REQUEST_SECONDS`) until that one is done: the engine's own wait for `removed` returns
        early for a container in that state.
        """
        try:
            await self._ignoring(
                (404,), "DELETE", f"/containers/{container}", params={"force": "1", "v": "1"}
            )
        except EngineError as error:
            if error.status != 409:
                raise
            for _ in range(int(REQUEST_SECONDS / _POLL_SECONDS)):
                if not await self._exists(container):
                    return
                await asyncio.sleep(_POLL_SECONDS)
            raise EngineError(409, f"container {container[:12]} is still being removed") from None

    async def _exists(self, container: str) -> bool:
        try:
            await self.inspect(container)
        except EngineError as error:
            if error.status == 404:
                return False
            raise
        return True

    async def containers(self, label: str) -> list[tuple[str, dict[str, str]]]:
        """(id, labels) of every container, running or not, that has the label `label`."""
        filters = orjson.dumps({"label": [label]}).decode()
        found = await self._request_json(
            "GET", "/containers/json", params={"all": "1", "filters": filters}
        )
        return [(str(item["Id"]), dict(item.get("Labels") or {})) for item in found]

    async def logs(self, container: str) -> AsyncIterator[str]:
        """The lines `container` prints (stdout and stderr), from its start, until it stops."""
        params = {"follow": "1", "stdout": "1", "stderr": "1"}
        async with self._request(
            "GET", f"/containers/{container}/logs", params=params, long=True
        ) as response:
            partial = b""
            while True:
                try:
                    header = await response.content.readexactly(_FRAME.size)
                    _, size = _FRAME.unpack(header)
                    chunk = await response.content.readexactly(size)
                except (EOFError, aiohttp.ClientError):  # it has stopped, or is gone
                    break
                *lines, partial = (partial + chunk).split(b"\n")
                for line in lines:
                    yield line.decode("utf-8", errors="replace").rstrip("\r")
            if partial:
                yield partial.decode("utf-8", errors="replace").rstrip("\r")

    # Plumbing

    async def _json(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: JSONObject | None = None,
        long: bool = False,
    ) -> JSONObject:
        found = await self._request_json(method, path, params=params, body=body, long=long)
        if not isinstance(found, dict):
            raise EngineError(0, f"{method} {path}: the engine answered {found!r}")
        return found

    async def _request_json(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: JSONObject | None = None,
        long: bool = False,
    ) -> Any:
        async with self._request(method, path, params=params, body=body, long=long) as response:
            return orjson.loads(await response.read())

    async def _ignoring(
        self,
        statuses: tuple[int, ...],
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
    ) -> None:
        try:
            async with self._request(method, path, params=params, long=True):
                pass
        except EngineError as error:
            if error.status not in statuses:
                raise

    @asynccontextmanager
    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        body: JSONObject | None = None,
        long: bool = False,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """The response to one request; a failure is an `EngineError` with the engine's message."""
        sent = dict(headers or {})
        if body is not None:
            sent["Content-Type"] = "application/json"
        try:
            response = await self._session.request(
                method,
                path,
                params=params,
                headers=sent,
                data=orjson.dumps(body) if body is not None else None,
                timeout=_LONG if long else _SHORT,
            )
        except (aiohttp.ClientError, OSError) as error:
            raise EngineError(
                0, f"the Docker Engine at {self.socket} does not answer: {error}"
            ) from None
        try:
            if response.status >= 400:
                raise EngineError(response.status, await _message(response))
            yield response
        except aiohttp.ClientError as error:  # while reading the answer
            raise EngineError(0, f"the Docker Engine at {self.socket} broke off: {error}") from None
        finally:
            response.release()


async def _message(response: aiohttp.ClientResponse) -> str:
    """The engine's error message (`{"message": ...}`), else the raw body."""
    raw = await response.read()
    try:
        found = orjson.loads(raw)
    except orjson.JSONDecodeError:
        found = None
    if isinstance(found, dict) and found.get("message"):
        return str(found["message"])
    return (
        raw.decode(errors="replace").strip()
        or f"{response.method} {response.url.path}: {response.status}"
    )

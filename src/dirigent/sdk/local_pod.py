"""A local pod: a function folder's process behind a front, with a live sidecar (contract §1).

As in a real pod, calls reach the function through a front that knows the sidecar: for each
`POST /` it registers the call's action id with the sidecar while the call runs, so the
function's `/log` and `/var` requests are served. A call without `Direktiv-ActionID` (a person
with curl) gets a fresh one. `DELETE /` and everything else is passed through. Status, body and
end-to-end headers go both ways unchanged, `Direktiv-TempDir` too (without it the SDK makes a temp
dir itself).

Variables live in memory for one made-up instance, kept across calls. The instance log gets the
function's lines and, after each call, one line saying how it answered.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from aiohttp import hdrs, web
from multidict import CIMultiDict, MultiMapping

from dirigent.functions import Sidecar, new_action_id, open_sidecar
from dirigent.functions.answer import error_headers
from dirigent.sdk.folder import function_name
from dirigent.sdk.harness import NAMESPACE
from dirigent.sdk.process import free_port, open_function_process
from dirigent.sdk.server import ACTION_ID_HEADER
from dirigent.sdk.settings import MAX_INPUT
from dirigent.store.memory import MemoryStore
from dirigent.store.records import InstanceRef, LogEntry

#: How long log lines posted after an answer are still taken.
LOG_GRACE = 5.0
#: How much of a successful answer's body the answer line shows.
BODY_EXCERPT = 200
# Headers about one connection or one encoding of a message: never passed on.
_HOP_BY_HOP = frozenset(
    name.lower()
    for name in (
        hdrs.CONNECTION,
        hdrs.KEEP_ALIVE,
        hdrs.TRANSFER_ENCODING,
        hdrs.CONTENT_LENGTH,
        hdrs.CONTENT_ENCODING,
        hdrs.HOST,
        hdrs.ACCEPT_ENCODING,
        hdrs.DATE,
        hdrs.SERVER,
        "Proxy-Connection",
        hdrs.TE,
        hdrs.TRAILER,
        hdrs.UPGRADE,
    )
)


@dataclass(frozen=True, slots=True)
class LocalPod:
    """A running local pod: where to call it, and where its sidecar and function listen."""

    url: str
    sidecar_port: int
    function_port: int


class _Front:
    def __init__(
        self, target: str, sidecar: Sidecar, store: MemoryStore, owner: InstanceRef, state: str
    ) -> None:
        self._target = target
        self._sidecar = sidecar
        self._store = store
        self._owner = owner
        self._state = state
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        headers = _passed(request.headers)
        action_id = headers.get(ACTION_ID_HEADER) or new_action_id()
        headers[ACTION_ID_HEADER] = action_id
        body = await request.read()
        is_call = request.method == hdrs.METH_POST
        if is_call:
            self._sidecar.register(action_id, self._owner, self._state)
        started = time.monotonic()
        try:
            async with self._client().request(
                request.method,
                self._target + request.path_qs.lstrip("/"),
                headers=headers,
                data=body,
                allow_redirects=False,
            ) as response:
                answer = await response.read()
        except aiohttp.ClientError as error:
            return web.Response(status=502, text=f"the function cannot be reached: {error}\n")
        finally:
            if is_call:
                self._sidecar.unregister(action_id, LOG_GRACE)
        if is_call:
            elapsed = time.monotonic() - started
            await self._note(
                action_id, _summary(response.status, response.headers, answer, elapsed)
            )
        return web.Response(status=response.status, headers=_passed(response.headers), body=answer)

    async def _note(self, action_id: str, message: str) -> None:
        entry = LogEntry(
            self._owner.instance_id,
            datetime.now(UTC),
            message,
            state=self._state,
            action_id=action_id,
        )
        await self._store.append_log(entry)

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=None), cookie_jar=aiohttp.DummyCookieJar()
            )
        return self._session


@asynccontextmanager
async def open_local_pod(
    folder: Path,
    *,
    port: int,
    sidecar_port: int,
    on_log: Callable[[LogEntry], None],
    on_output: Callable[[str], None],
    host: str = "127.0.0.1",
) -> AsyncIterator[LocalPod]:
    """Run the function in `folder` as a pod until the block ends: front on `host:port`, sidecar
    on 127.0.0.1:`sidecar_port` (0 for free ports), the function on a free loopback port.

    `on_log` sees each instance log line; `on_output` each line the process prints. Raises
    `Unavailable` when a port is taken or the function does not start, `InvalidInput` for a folder
    without `main.py`.
    """
    store = MemoryStore()
    store.add_log_listener(on_log)
    name = function_name(folder)
    owner = InstanceRef(NAMESPACE, name, f"{name}-serve")
    async with (
        open_sidecar(store, port=sidecar_port) as sidecar,
        open_function_process(
            folder, port=free_port(), sidecar_port=sidecar.port, on_output=on_output
        ) as process,
    ):
        front = _Front(process.url, sidecar, store, owner, name)
        app = web.Application(client_max_size=MAX_INPUT)
        app.router.add_route("*", "/{tail:.*}", front.handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        try:
            site = web.TCPSite(runner, host, port)
            await site.start()
            bound = int(runner.addresses[0][1])
            yield LocalPod(f"http://{host}:{bound}/", sidecar.port, process.port)
        finally:
            await runner.cleanup()
            await front.close()


def _passed(headers: MultiMapping[str]) -> CIMultiDict[str]:
    """The end-to-end headers of a message (all of them, repeated ones too, in order)."""
    return CIMultiDict((k, v) for k, v in headers.items() if k.lower() not in _HOP_BY_HOP)


def _summary(status: int, headers: MultiMapping[str], body: bytes, elapsed: float) -> str:
    code, message = error_headers(headers)
    took = f"in {elapsed * 1000:.0f} ms"
    if code:
        return f"answered error {code}: {message} ({took})"
    if message:
        return f"answered a crash: {message} ({took})"
    excerpt = body[:BODY_EXCERPT].decode("utf-8", errors="replace")
    more = "…" if len(body) > BODY_EXCERPT else ""
    return f"answered HTTP {status} {took}: {excerpt}{more}"

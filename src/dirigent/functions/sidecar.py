"""The sidecar's loopback server: `/log` and `/var` for running functions (contract §4).

Functions reach it at `http://localhost:8889` (images hard-code the address) with the action id
of their call in `aid`. Only actions registered by the caller are served: `/var` while the call
runs, `/log` also for a short grace after it, because some functions post logs without waiting
(they arrive after the answer). Anything else gets `404`.

Dirigent differences from the 2021 sidecar: an unknown scope or a bad key is `400` (the 2021
sidecar crashed), and methods other than GET and POST are `405` on both paths.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import hdrs, web

from dirigent.errors import Unavailable
from dirigent.functions.base import VARIABLE_KEY, FunctionStore
from dirigent.store.records import InstanceRef, LogEntry, Scope, Variable, VariableRef

#: The port images hard-code.
DEFAULT_PORT = 8889
#: The largest body accepted on `/log` and `/var`.
DEFAULT_MAX_BODY = 64 * 1024 * 1024
_SCOPES: dict[str, Scope] = {
    "": "instance",
    "instance": "instance",
    "workflow": "workflow",
    "namespace": "namespace",
}
_ALLOWED = {hdrs.METH_GET, hdrs.METH_POST}
_DEFAULT_MIME = "application/octet-stream"


@dataclass(slots=True)
class _Action:
    owner: InstanceRef
    state: str
    running: bool = True
    expiry: asyncio.TimerHandle | None = None


class Sidecar:
    """Serves `/log` and `/var` to the functions of registered actions; see `open_sidecar`.

    Log lines go to the instance log in arrival order, each stamped with its arrival time, the
    state and the action id. Variables are those of the scopes of the action's instance.
    """

    def __init__(self, store: FunctionStore, *, max_body: int = DEFAULT_MAX_BODY) -> None:
        self._store = store
        self._max_body = max_body
        self._actions: dict[str, _Action] = {}
        self._log_order = asyncio.Lock()
        self._runner: web.AppRunner | None = None
        self._port = 0

    @property
    def port(self) -> int:
        """The port the sidecar listens on (the one chosen when opened on port 0)."""
        return self._port

    def register(self, action_id: str, owner: InstanceRef, state: str) -> None:
        """Serve `action_id` from now on, for `owner`'s instance in state `state`."""
        previous = self._actions.get(action_id)
        if previous is not None and previous.expiry is not None:
            previous.expiry.cancel()
        self._actions[action_id] = _Action(owner, state)

    def unregister(self, action_id: str, grace: float) -> None:
        """The action finished: refuse `/var` at once, and `/log` after `grace` seconds."""
        action = self._actions.get(action_id)
        if action is None or not action.running:
            return
        if grace <= 0:
            del self._actions[action_id]
            return
        action.running = False
        loop = asyncio.get_running_loop()
        action.expiry = loop.call_later(grace, self._expire, action_id, action)

    def _expire(self, action_id: str, action: _Action) -> None:
        if self._actions.get(action_id) is action:
            del self._actions[action_id]

    # Lifecycle

    async def serve(self, sock: socket.socket) -> web.BaseSite:
        """Also serve on `sock` (a listening socket, e.g. `localhost:8889` inside a pod's network
        namespace) until the returned site is stopped."""
        if self._runner is None:
            raise RuntimeError("the sidecar is closed")
        site = web.SockSite(self._runner, sock)
        await site.start()
        return site

    async def _start(self, host: str, port: int) -> None:
        app = web.Application(client_max_size=self._max_body)
        app.router.add_route("*", "/log", self._log)
        app.router.add_route("*", "/var", self._var)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        self._runner = runner
        site = web.TCPSite(runner, host, port, reuse_address=True)
        try:
            await site.start()
        except OSError as exc:
            self._runner = None
            await runner.cleanup()
            if exc.errno == errno.EADDRINUSE:
                raise Unavailable(
                    f"sidecar port {port} is in use on {host}; stop whatever listens there "
                    "(another Dirigent?) or configure another sidecar port"
                ) from exc
            raise
        self._port = int(runner.addresses[0][1])  # only the host site exists yet

    async def _close(self) -> None:
        for action in self._actions.values():
            if action.expiry is not None:
                action.expiry.cancel()
        self._actions.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # Handlers

    async def _log(self, request: web.Request) -> web.StreamResponse:
        if request.method not in _ALLOWED:
            return _method_not_allowed()
        action_id = request.query.get("aid", "")
        action = self._actions.get(action_id)
        if action is None:
            return _not_found(action_id)
        arrived = datetime.now(UTC)
        if request.method == hdrs.METH_POST:
            message = (await request.read()).decode("utf-8", errors="replace")
        else:
            message = request.query.get("log", "")
        message = _strip_newline(message)
        if message:
            entry = LogEntry(
                action.owner.instance_id, arrived, message, state=action.state, action_id=action_id
            )
            async with self._log_order:
                await self._store.append_log(entry)
        return web.Response()

    async def _var(self, request: web.Request) -> web.StreamResponse:
        if request.method not in _ALLOWED:
            return _method_not_allowed()
        action_id = request.query.get("aid", "")
        action = self._actions.get(action_id)
        if action is None or not action.running:
            return _not_found(action_id)
        scope = _SCOPES.get(request.query.get("scope", ""))
        if scope is None:
            return _bad_request("scope must be instance, workflow or namespace")
        key = request.query.get("key", "")
        if not VARIABLE_KEY.match(key):
            return _bad_request(f"not a valid variable key: {key!r}")
        ref = VariableRef.of(scope, key, action.owner)
        if request.method == hdrs.METH_GET:
            variable = await self._store.get_variable(ref)
            if variable is None:
                return web.Response()
            return web.Response(body=variable.data, headers={hdrs.CONTENT_TYPE: variable.mime_type})
        data = await request.read()
        if not data:
            await self._store.delete_variable(ref)
        else:
            mime_type = request.headers.get(hdrs.CONTENT_TYPE) or _DEFAULT_MIME
            await self._store.set_variable(ref, Variable(data, mime_type))
        return web.Response()


@asynccontextmanager
async def open_sidecar(
    store: FunctionStore,
    *,
    port: int = DEFAULT_PORT,
    host: str = "127.0.0.1",
    max_body: int = DEFAULT_MAX_BODY,
) -> AsyncIterator[Sidecar]:
    """Serve `/log` and `/var` on `host:port` (port 0: any free port) until the block ends.

    Raises `Unavailable` when the port is taken.
    """
    sidecar = Sidecar(store, max_body=max_body)
    await sidecar._start(host, port)
    try:
        yield sidecar
    finally:
        await sidecar._close()


def _strip_newline(message: str) -> str:
    # Helpers post "line\n"; the log holds lines.
    if message.endswith("\r\n"):
        return message[:-2]
    return message.removesuffix("\n")


def _method_not_allowed() -> web.Response:
    return web.Response(status=405, text="only GET and POST", headers={hdrs.ALLOW: "GET, POST"})


def _not_found(action_id: str) -> web.Response:
    return web.Response(status=404, text=f"action {action_id!r} is not running")


def _bad_request(message: str) -> web.Response:
    return web.Response(status=400, text=message)

"""The HTTP server of a function: `POST /` calls the handler, `DELETE /` cancels (contract §2–§6).

`open_function_server` runs it inside a running event loop (tests, tools); `serve` is the program's
entry point (`if __name__ == "__main__": serve(handle)`).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
import tempfile
import traceback
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import hdrs, web

from dirigent.sdk import answer
from dirigent.sdk.context import SCOPES, AsyncContext, Cancellation, Context, Invocation
from dirigent.sdk.errors import FunctionError
from dirigent.sdk.handler import Function, Handler, make_function
from dirigent.sdk.settings import DEVELOPMENT, MAX_INPUT, SYNC_WORKERS, Settings, SettingsError
from dirigent.sdk.sidecar import ActionLog, SidecarClient

# The request headers of the contract (§2). Spelled out here rather than imported from the engine's
# side (`dirigent.functions`) so that a function imports none of the engine.
ACTION_ID_HEADER = "Direktiv-ActionID"
TEMP_DIR_HEADER = "Direktiv-TempDir"
DEADLINE_HEADER = "Direktiv-Deadline"
#: How long a `DELETE /` that arrives before its `POST /` is remembered (it travels on another
#: connection and can overtake the call it cancels).
EARLY_CANCEL_MEMORY = 60.0


class FunctionServer:
    """Serves one `Function` per the contract. Calls run concurrently; sync handlers in threads.

    * `POST /`: needs `Direktiv-ActionID` (else `400`), except in development mode, where a call
      without it has the action id `development` and logs on stdout. Answers the handler's output
      as JSON, a `FunctionError` as a catchable error, any other exception as a crash (the
      traceback goes to stderr); always after the call's log lines reached the sidecar.
    * `DELETE /` with `Direktiv-ActionID`: that call's `ctx.cancelled` becomes true (answer `200`).
    * Other methods on `/`: `405`; other paths: `404`.
    """

    def __init__(self, function: Function, settings: Settings) -> None:
        self._function = function
        self._dev = settings.dev
        self._sidecar = SidecarClient(settings.sidecar_url)
        self._running: dict[str, set[Cancellation]] = {}
        self._early: dict[str, asyncio.TimerHandle] = {}
        self._workers = ThreadPoolExecutor(SYNC_WORKERS, thread_name_prefix="handler")

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_INPUT)
        app.router.add_route("*", "/", self._root)
        app.on_cleanup.append(self._cleanup)
        return app

    async def _cleanup(self, app: web.Application) -> None:
        for expiry in self._early.values():
            expiry.cancel()
        await self._sidecar.aclose()
        # Threads of handlers that ignore cancels cannot be stopped; do not wait for them.
        self._workers.shutdown(wait=False, cancel_futures=True)

    async def _root(self, request: web.Request) -> web.StreamResponse:
        if request.method == hdrs.METH_POST:
            return await self._call(request)
        if request.method == hdrs.METH_DELETE:
            return self._cancel(request)
        return web.Response(
            status=405, text="only POST and DELETE\n", headers={hdrs.ALLOW: "POST, DELETE"}
        )

    # POST /

    async def _call(self, request: web.Request) -> web.StreamResponse:
        action_id = request.headers.get(ACTION_ID_HEADER, "")
        if not action_id:
            if not self._dev:
                return web.Response(status=400, text=f"missing {ACTION_ID_HEADER} header\n")
            action_id = DEVELOPMENT
        body = await request.read()
        loop = asyncio.get_running_loop()
        cancellation = Cancellation()
        if self._early.pop(action_id, None) is not None:
            cancellation.set()
        self._running.setdefault(action_id, set()).add(cancellation)
        temp_dir, made_here = _temp_dir(request.headers.get(TEMP_DIR_HEADER, ""))
        sidecar = None if action_id == DEVELOPMENT else self._sidecar
        log = ActionLog(loop, sidecar, action_id) if sidecar is not None else None
        invocation = Invocation(
            action_id=action_id,
            temp_dir=temp_dir,
            deadline=_deadline(request.headers.get(DEADLINE_HEADER, "")),
            cancellation=cancellation,
            log=log.write if log is not None else _print_line,
            sidecar=sidecar,
            loop=loop,
        )
        try:
            return await self._answer(invocation, body)
        finally:
            if log is not None:
                await log.drain()
            calls = self._running[action_id]
            calls.discard(cancellation)
            if not calls:
                del self._running[action_id]
            if made_here:
                await asyncio.to_thread(shutil.rmtree, temp_dir, ignore_errors=True)

    async def _answer(self, invocation: Invocation, body: bytes) -> web.Response:
        function = self._function
        try:
            value = function.read_input(body)
            output: Any
            if function.is_async:
                output = await function.handler(value, AsyncContext(invocation))
            else:
                loop = asyncio.get_running_loop()
                output = await loop.run_in_executor(
                    self._workers, function.handler, value, Context(invocation)
                )
            return answer.success(output)
        except FunctionError as error:
            return answer.error(error.code, error.message)
        except Exception as exc:
            print(
                f"call {invocation.action_id} crashed:\n{traceback.format_exc()}",
                file=sys.stderr,
                end="",
                flush=True,
            )
            message = str(exc) if isinstance(exc, answer.OutputError) else _describe(exc)
            return answer.crash(message)

    # DELETE /

    def _cancel(self, request: web.Request) -> web.Response:
        action_id = request.headers.get(ACTION_ID_HEADER, "") or (DEVELOPMENT if self._dev else "")
        if not action_id:
            return web.Response(status=400, text=f"missing {ACTION_ID_HEADER} header\n")
        calls = self._running.get(action_id)
        if calls:
            for cancellation in calls:
                cancellation.set()
        elif action_id not in self._early:
            loop = asyncio.get_running_loop()
            self._early[action_id] = loop.call_later(
                EARLY_CANCEL_MEMORY, self._early.pop, action_id, None
            )
        return web.Response()


@asynccontextmanager
async def open_function_server(function: Function, settings: Settings) -> AsyncIterator[int]:
    """Serve `function` on `settings.host:settings.port` until the block ends; yields the port.

    Port 0 takes a free port. Raises `OSError` when the address cannot be used.
    """
    server = FunctionServer(function, settings)
    runner = web.AppRunner(server.app(), access_log=None, shutdown_timeout=10.0)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.host, settings.port)
        await site.start()
        yield int(runner.addresses[0][1])
    finally:
        await runner.cleanup()


def _temp_dir(header: str) -> tuple[Path, bool]:
    """The call's temp dir, and whether it was made here (for a call without the header)."""
    if header:
        return Path(header), False
    made = Path(tempfile.mkdtemp(prefix="dirigent-call-"))
    for scope in SCOPES:
        (made / "out" / scope).mkdir(parents=True)
    return made, True


def _deadline(header: str) -> datetime | None:
    try:
        deadline = datetime.fromisoformat(header)
    except ValueError:
        return None
    return deadline if deadline.utcoffset() is not None else None


def _describe(exc: Exception) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _print_line(message: str) -> None:
    print(message, flush=True)


def serve(handler: Handler | Function, *, argv: Sequence[str] | None = None) -> None:
    """Serve `handler` until SIGTERM or SIGINT: the entry point of a function program.

    Settings come from the environment and the command line (`--host`, `--port`, `--dev`; see
    `dirigent.sdk.settings`); `argv` defaults to `sys.argv[1:]`. Bad settings or a port in use
    end the program with a one-line error (status 2 and 1).
    """
    function = make_function(handler)
    try:
        settings = Settings.load(os.environ, sys.argv[1:] if argv is None else argv)
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    try:
        asyncio.run(_serve(function, settings))
    except KeyboardInterrupt:  # Ctrl-C before the signal handlers were installed
        pass
    except OSError as error:
        print(
            f"error: cannot listen on {settings.host}:{settings.port}: {error.strerror or error}",
            file=sys.stderr,
        )
        raise SystemExit(1) from None


async def _serve(function: Function, settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with open_function_server(function, settings) as port:
        mode = " in development mode" if settings.dev else ""
        print(
            f"listening on http://{settings.host}:{port}/{mode}",
            file=sys.stderr,
            flush=True,
        )
        await stop.wait()

"""The benchmarks' function: an HTTP echo that times itself, in a process of its own.

    python -m bench.echo [--port 0]

Prints `LISTENING <port>` once it accepts connections. Routes:

* `POST /`: answers the request body as is (`application/json`).
* `POST /slow/S/`: the same after S seconds; a caller that hangs up ends the wait.
* `GET /calls`: the calls to `POST /` since the last `DELETE /calls`, as
  `{"lanes": [...], "arrivals": [...], "durations": [...], "in_flight": n}`: per call its lane (the
  `lane` field of a JSON object body, else null), when it arrived (`time.monotonic_ns()`, the
  system-wide monotonic clock that the bench process reads too) and how long the handler took, in
  nanoseconds; `in_flight` counts the `/slow` calls waiting now.
* `DELETE /`: a function's cancel (the contract's); answered 200, nothing to stop.

The function's own time is the handler's: from entering it (the request line and headers parsed)
to the answer being ready. The bench subtracts it from what it measures, so what remains is the
caller's cost plus the loopback transfer, the same for the engine and for the floor.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import time

import orjson
import uvloop
from aiohttp import web


class Calls:
    """The log of `POST /` calls, and the count of `/slow` calls in flight."""

    def __init__(self) -> None:
        self.lanes: list[object] = []
        self.arrivals: list[int] = []
        self.durations: list[int] = []
        self.in_flight = 0

    def add(self, lane: object, arrived: int) -> None:
        self.lanes.append(lane)
        self.arrivals.append(arrived)
        self.durations.append(time.monotonic_ns() - arrived)

    def clear(self) -> None:
        self.lanes, self.arrivals, self.durations = [], [], []


def _lane(body: bytes) -> object:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return value.get("lane") if isinstance(value, dict) else None


def make_app(calls: Calls) -> web.Application:
    async def echo(request: web.Request) -> web.Response:
        arrived = time.monotonic_ns()
        body = await request.read()
        calls.add(_lane(body), arrived)
        return web.Response(body=body, content_type="application/json")

    async def slow(request: web.Request) -> web.Response:
        body = await request.read()
        calls.in_flight += 1
        try:
            await asyncio.sleep(float(request.match_info["seconds"]))
        finally:
            calls.in_flight -= 1
        return web.Response(body=body, content_type="application/json")

    async def log(_: web.Request) -> web.Response:
        data = {
            "lanes": calls.lanes,
            "arrivals": calls.arrivals,
            "durations": calls.durations,
            "in_flight": calls.in_flight,
        }
        return web.Response(body=orjson.dumps(data), content_type="application/json")

    async def clear(_: web.Request) -> web.Response:
        calls.clear()
        return web.Response()

    async def cancel(_: web.Request) -> web.Response:
        return web.Response()

    app = web.Application()
    app.router.add_post("/", echo)
    app.router.add_post("/slow/{seconds}/", slow)
    app.router.add_delete("/", cancel)
    app.router.add_get("/calls", log)
    app.router.add_delete("/calls", clear)
    return app


async def serve(port: int) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    # handler_cancellation: a /slow call whose caller is gone stops waiting.
    runner = web.AppRunner(make_app(Calls()), access_log=None, handler_cancellation=True)
    await runner.setup()
    await web.SockSite(runner, sock, backlog=4096).start()
    print(f"LISTENING {sock.getsockname()[1]}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    uvloop.run(serve(parser.parse_args().port))


if __name__ == "__main__":
    main()

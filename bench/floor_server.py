"""The floor behind HTTP: the least a server can do for the API figures, in a process of its own.

    python -m bench.floor_server --database URL --echo URL

Prints `LISTENING <port>`. It answers the same routes as Dirigent for the workflows the API figures
run, doing their work without an engine:

* `POST …/workflows/pure-noop-1/execute`: commits a row for a new instance, answers its id;
* `POST …/workflows/steps-3/execute?wait=true`: three times, POSTs the peers' payload to the echo and
  commits the answer; answers the last one.

An aiohttp server on uvloop (Dirigent's is uvicorn with httptools on uvloop), and the floor's commit
(`bench.floor`).
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import socket

import aiohttp
import orjson
import uvloop
from aiohttp import web

from bench.floor import FloorStore, open_floor_store
from bench.workflows import PEER_PAYLOAD

ROUTE = "/api/namespaces/default/workflows/{workflow}/execute"


def make_app(store: FloorStore, session: aiohttp.ClientSession, echo: str) -> web.Application:
    payload = orjson.dumps(PEER_PAYLOAD)
    headers = {"Content-Type": "application/json"}

    async def execute(request: web.Request) -> web.Response:
        key = secrets.token_hex(8)
        if request.match_info["workflow"] != "steps-3":
            await store.commit(key, 0, orjson.loads(await request.read() or b"{}"))
            return web.json_response({"instanceId": key}, dumps=lambda v: orjson.dumps(v).decode())
        answer = b""
        for step in range(3):
            async with session.post(echo, data=payload, headers=headers) as response:
                answer = await response.read()
            await store.commit(key, step, orjson.loads(answer))
        return web.Response(body=answer, content_type="application/json")

    app = web.Application()
    app.router.add_post(ROUTE, execute)
    return app


async def serve(database: str, echo: str) -> None:
    store = await open_floor_store(database)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    async with aiohttp.ClientSession() as session:
        runner = web.AppRunner(make_app(store, session, echo), access_log=None)
        await runner.setup()
        await web.SockSite(runner, sock, backlog=4096).start()
        print(f"LISTENING {sock.getsockname()[1]}", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()
            await store.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", required=True)
    parser.add_argument("--echo", required=True)
    args = parser.parse_args()
    uvloop.run(serve(args.database, args.echo))


if __name__ == "__main__":
    main()

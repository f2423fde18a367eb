"""The 3-step workflow as a Restate service, run in the peers' environment by hypercorn.

    ECHO_URL=… python -m hypercorn bench.peers.restate_app:app --bind 127.0.0.1:PORT

`Bench/run` takes the payload and runs three `ctx.run` steps (each journaled by the Restate server
before the handler goes on), each posting the payload to the echo; it answers the last result.
"""

from __future__ import annotations

import os
from typing import Any

import aiohttp
import orjson
import restate

ECHO_URL = os.environ.get("ECHO_URL", "")
service = restate.Service("Bench")
_client: dict[str, aiohttp.ClientSession] = {}


def session() -> aiohttp.ClientSession:
    if "session" not in _client:
        _client["session"] = aiohttp.ClientSession()
    return _client["session"]


@service.handler()
async def run(ctx: restate.Context, payload: dict[str, Any]) -> dict[str, Any]:
    async def post() -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        async with session().post(ECHO_URL, data=orjson.dumps(payload), headers=headers) as answer:
            value: dict[str, Any] = orjson.loads(await answer.read())
            return value

    result: dict[str, Any] = {}
    for step in range(3):
        result = await ctx.run_typed(f"step{step}", post)
    return result


app = restate.app([service])

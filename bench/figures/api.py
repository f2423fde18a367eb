"""Through the REST API of a real `dirigent server` process: instance starts, and `execute?wait`.

* `api.starts.c1`, `api.starts.c16`: `POST …/execute` of a one-noop workflow by 1 and 16 clients at
  once (aiohttp, keep-alive), without waiting: each call is answered once the instance is stored.
* `api.execute3`: `POST …/steps-3/execute?wait=true`, one at a time: three action states, each posting
  a small JSON to the echo; the echo's time for the three calls is subtracted.

The floor is `bench.floor_server`: the same routes and the same work (commit, calls) without an engine.
"""

from __future__ import annotations

from functools import partial

import aiohttp

from bench.context import Context
from bench.drive import drive
from bench.report import Bound, Figure
from bench.server import Api, start_dirigent, start_floor_server
from bench.workflows import peer_steps, pure_chain

STARTS_TARGET = (Bound("per_second", 1000, most=False),)
EXECUTE_TARGET = (Bound("p50_us", 5000),)


async def measure(ctx: Context) -> list[Figure]:
    starts = ctx.scale(2000, 30)
    runs = ctx.scale(200, 5)
    figures: list[Figure] = []
    async with (
        ctx.database() as url,
        start_dirigent(url, ctx.services) as server,
        start_floor_server(url, ctx.echo.url) as floor_server,
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session,
    ):
        engine, floor = Api(session, server.url), Api(session, floor_server.url)
        await engine.push(pure_chain("noop", 1))
        await engine.push(peer_steps(3))
        for api in (engine, floor):  # warm up: first requests, first instances
            await drive(partial(api.execute, "pure-noop-1"), 20, 4)
            await drive(partial(api.execute, "steps-3", wait=True), 10, 1)
        for clients in (1, 16):
            mine = await drive(partial(engine.execute, "pure-noop-1"), starts, clients)
            base = await drive(partial(floor.execute, "pure-noop-1"), starts, clients)
            figures.append(
                Figure(
                    name=f"api.starts.c{clients}",
                    store=ctx.kind,
                    description=f"POST execute (no wait), {clients} client(s) at once",
                    engine=mine.measure(),
                    floor=base.measure(),
                    targets=STARTS_TARGET if clients == 16 else (),
                    extra={"starts": starts},
                )
            )
        measured = []
        for api in (engine, floor):
            await ctx.echo.clear()
            driven = await drive(partial(api.execute, "steps-3", wait=True), runs, 1)
            function_us = (await ctx.echo.calls()).mean_function_us()
            measured.append(driven.measure(less_us=3 * function_us))
        figures.append(
            Figure(
                name="api.execute3",
                store=ctx.kind,
                description="POST execute?wait=true of 3 action states, end to end, one at a time",
                engine=measured[0],
                floor=measured[1],
                targets=EXECUTE_TARGET,
                extra={"instances": runs},
            )
        )
    return figures

"""Server memory: resident set size of a `dirigent server` process idle, with 1,000 instances
running (each in an action calling a function that answers after an hour) and, on another server,
with 10,000 instances waiting (each in a one-hour `delay` state).

Idle means started, the workflows pushed, and a few instances run to warm it up. An instance counts
as running once the server holds it (`dirigent_instances_held` of `/metrics`); the waiting ones once
the server has settled: nothing queued, and the count held unchanged for a second (a waiting instance
lives in the database only, so that count should be 0; `held_in_memory` in the JSON says what it was).
The floor is the floor server's RSS after the same warm-up: a process with the same libraries and
nothing of an engine.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from functools import partial

import aiohttp

from bench.context import BenchError, Context
from bench.drive import drive
from bench.processes import Running, start_echo
from bench.report import Bound, Figure, Measure
from bench.server import Api, start_dirigent, start_floor_server
from bench.workflows import delay_hour, peer_steps, slow_action

IDLE_TARGET = (Bound("rss_mb", 100),)
#: How long the instances may take to reach the wanted state.
SETTLE_SECONDS = 300.0


async def warm(api: Api) -> None:
    await drive(partial(api.execute, "steps-3", wait=True), 20, 1)


async def wait_settled(api: Api, holds: Callable[[dict[str, float]], bool], what: str) -> float:
    """Poll `/metrics` until `holds`, nothing is queued and the count of instances held has not
    changed for a second (bounded by SETTLE_SECONDS); returns that count."""
    deadline = time.monotonic() + SETTLE_SECONDS
    seen: list[float] = []
    while len(seen) < 5 or len(set(seen[-5:])) > 1:
        if time.monotonic() > deadline:
            raise BenchError(f"memory: {what} not reached in {SETTLE_SECONDS:g} s")
        gauges = await api.gauges()
        if holds(gauges) and gauges["dirigent_queue_depth"] == 0:
            seen.append(gauges["dirigent_instances_held"])
        else:
            seen.clear()
        await asyncio.sleep(0.2)
    return seen[-1]


async def measure(ctx: Context) -> list[Figure]:
    running_n = ctx.scale(1000, 20)
    waiting_n = ctx.scale(10_000, 50)
    figures: list[Figure] = []
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        async with ctx.database() as url, start_floor_server(url, ctx.echo.url) as floor:
            await warm(Api(session, floor.url))
            floor_rss = Measure(rss_mb=floor.rss_mb())
        async with ctx.database() as url, start_echo() as slow:
            services = {**ctx.services, "bench/slow": slow.slow_url(3600)}
            async with start_dirigent(url, services) as server:
                api = await _prepared(session, server)
                idle = server.rss_mb()
                await drive(partial(api.execute, "slow"), running_n, 16)
                await wait_settled(
                    api, lambda g: g["dirigent_instances_held"] >= running_n, "running"
                )
                running = server.rss_mb()
        async with ctx.database() as url, start_dirigent(url, ctx.services) as server:
            api = await _prepared(session, server)
            await drive(partial(api.execute, "delay"), waiting_n, 16)
            held = await wait_settled(api, lambda _: True, "all waiting")
            waiting = server.rss_mb()
    for name, rss, count, text in (
        ("memory.idle", idle, 0, "server RSS, idle"),
        ("memory.running", running, running_n, f"server RSS, {running_n:,} instances running"),
        ("memory.waiting", waiting, waiting_n, f"server RSS, {waiting_n:,} instances waiting"),
    ):
        extra: dict[str, float] = {"instances": count}
        if name == "memory.waiting":
            extra["held_in_memory"] = held  # 0 unless the runtime keeps some (a leak to report)
        if count:
            extra["kb_per_instance"] = (rss - idle) * 1024 / count
        figures.append(
            Figure(
                name=name,
                store=ctx.kind,
                description=text,
                engine=Measure(rss_mb=rss),
                floor=floor_rss,
                targets=IDLE_TARGET if name == "memory.idle" else (),
                extra=extra,
            )
        )
    return figures


async def _prepared(session: aiohttp.ClientSession, server: Running) -> Api:
    api = Api(session, server.url)
    for source in (peer_steps(3), slow_action(), delay_hour()):
        await api.push(source)
    await warm(api)
    return api

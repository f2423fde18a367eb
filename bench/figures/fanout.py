"""Fan-out: one foreach state and one parallel state of 100 actions against the echo function.

A sample is one instance, start to end. The floor makes the same 100 calls at once with the same
client, each with its input jq and a commit of its result (the engine commits each result as it
comes, so that a crash loses none), and is timed the same way. Function time is not subtracted: the
calls overlap, and the echo's handler takes microseconds.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp
import orjson

from bench.context import Context, open_embedded, run_instance, time_instances
from bench.floor import FloorStore, Program, open_floor_store
from bench.report import Figure, latencies
from bench.workflows import foreach_fanout, parallel_fanout

WIDTH = 100


async def fan_out(
    session: aiohttp.ClientSession, url: str, store: FloorStore, program: Program, key: str
) -> None:
    """`WIDTH` calls at once, each: input jq, POST, commit its result."""

    async def one(i: int) -> None:
        body = orjson.dumps(program.first({"i": i}))
        headers = {"Content-Type": "application/json"}
        async with session.post(url, data=body, headers=headers) as response:
            answer = orjson.loads(await response.read())
        await store.commit(f"{key}-{i}", 0, answer)

    await asyncio.gather(*(one(i) for i in range(WIDTH)))


async def measure(ctx: Context) -> list[Figure]:
    runs = ctx.scale(30, 2)
    figures: list[Figure] = []
    sources = [foreach_fanout(WIDTH), parallel_fanout(WIDTH)]
    async with ctx.database() as url:
        store = await open_floor_store(url)
        try:
            async with (
                open_embedded(url, sources, ctx.services) as engine,
                aiohttp.ClientSession() as session,
            ):
                program = Program("{i: .i}")
                floor_samples: list[float] = []
                for n in range(runs + 1):
                    started = time.perf_counter()
                    await fan_out(session, ctx.echo.url, store, program, f"run{n}")
                    floor_samples.append((time.perf_counter() - started) * 1e6)
                floor_samples = floor_samples[1:]  # the first one warmed up
                floor = latencies(floor_samples, per_second=WIDTH * 1e6 / _mean(floor_samples))
                for kind in ("foreach", "parallel"):
                    workflow = f"{kind}-{WIDTH}"
                    await run_instance(engine, workflow, {})
                    took = [t * 1e6 for t in await time_instances(engine, workflow, runs, {})]
                    figures.append(
                        Figure(
                            name=f"fanout.{kind}",
                            store=ctx.kind,
                            description=f"one {kind} state of {WIDTH} actions, instance start to end",
                            engine=latencies(took, per_second=WIDTH * 1e6 / _mean(took)),
                            floor=floor,
                            extra={"width": WIDTH, "instances": runs},
                        )
                    )
        finally:
            await store.aclose()
    return figures


def _mean(samples: list[float]) -> float:
    return sum(samples) / len(samples)

"""Action states against the warm echo function: the engine's cost per state, function time excluded.

Instances of a chain of action states run 1, 16 or 64 at a time. Each instance (and each floor loop)
sends its own `lane` to the echo, which logs when each call arrived and how long it took; one state's
cost is the time from a call's arrival to the next call of the same lane, less the first call's
function time: the answer's way back, the transform, the commit, the next input, the next POST. The
floor does the same work in a plain loop (`bench.floor.ActionFloor`) and is measured the same way.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import aiohttp

from bench.context import Context, open_embedded, run_instance
from bench.floor import ActionFloor, open_floor_store
from bench.report import Bound, Figure, Measure, latencies
from bench.workflows import action_chain

CONCURRENCY = (1, 16, 64)


def targets(kind: str, concurrency: int) -> tuple[Bound, ...]:
    """The issue's targets for this figure on this database."""
    if concurrency == 1 and kind == "sqlite":
        return (Bound("p50_us", 1000), Bound("p99_us", 3000), Bound("ratio", 1.5))
    if concurrency == 1 and kind == "postgres":
        return (Bound("p50_us", 1500), Bound("ratio", 1.5))
    if concurrency == 16 and kind == "sqlite":
        return (Bound("per_second", 2000, most=False),)
    return ()


async def timed(
    ctx: Context,
    concurrency: int,
    rounds: int,
    states: int,
    one: Callable[[str], Awaitable[object]],
) -> tuple[Measure, float]:
    """`concurrency` workers each running `rounds` sequences of `states` calls (`one(lane)`).

    Returns the per-state measure (from the echo's log) and the mean function time (µs).
    """

    async def worker(w: int) -> None:
        for r in range(rounds):
            await one(f"c{concurrency}-{w}-{r}")

    await ctx.echo.clear()
    started = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    wall = time.perf_counter() - started
    log = await ctx.echo.calls()
    rate = concurrency * rounds * states / wall
    return latencies(log.state_gaps_us(), per_second=rate), log.mean_function_us()


async def measure(ctx: Context) -> list[Figure]:
    states = ctx.scale(20, 4)
    rounds = {1: ctx.scale(40, 2), 16: ctx.scale(5, 1), 64: ctx.scale(2, 1)}
    workflow = f"actions-{states}"
    figures: list[Figure] = []
    async with ctx.database() as url:
        floor_store = await open_floor_store(url)
        try:
            async with (
                open_embedded(url, [action_chain(states)], ctx.services) as engine,
                aiohttp.ClientSession() as session,
            ):
                floor = ActionFloor(session, ctx.echo.url, floor_store)

                async def by_engine(lane: str) -> object:
                    return await run_instance(engine, workflow, {"i": 0, "lane": lane})

                async def by_floor(lane: str) -> object:
                    return await floor.run(lane, states, {"i": 0, "lane": lane})

                await by_engine("warm")
                await by_floor("warm")
                for c in CONCURRENCY:
                    mine, function_us = await timed(ctx, c, rounds[c], states, by_engine)
                    base, _ = await timed(ctx, c, rounds[c], states, by_floor)
                    figures.append(
                        Figure(
                            name=f"action.c{c}",
                            store=ctx.kind,
                            description=f"one action state, {c} instance(s) at a time "
                            f"({states}-state chains), function time excluded",
                            engine=mine,
                            floor=base,
                            targets=targets(ctx.kind, c),
                            extra={
                                "function_us": function_us,
                                "states": states,
                                "instances": c * rounds[c],
                            },
                        )
                    )
        finally:
            await floor_store.aclose()
    return figures

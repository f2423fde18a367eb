"""Pure states (noop, switch, transform): the engine's cost per state, with no function and no commit.

A chain of N states (500) runs in one step of the interpreter and one commit, so the cost of a state
is measured as the difference between an N-state chain and a 1-state chain of the same kind run right
after each other, over N - 1: what remains is the state itself (its jq, its bookkeeping, its share of
the record), not starting and storing the instance. The floor evaluates the same
jq program N times in a loop (a noop has no work, so no floor).
"""

from __future__ import annotations

import statistics
import time

from bench.context import Context, open_embedded, time_instances
from bench.floor import Program
from bench.report import Bound, Figure, Measure, latencies
from bench.workflows import PURE_KINDS, SWITCH_CONDITION, TRANSFORM, PureKind, pure_chain

TARGET = (Bound("p50_us", 50),)


def floor(kind: PureKind, states: int, runs: int) -> Measure | None:
    """The same jq work in a plain loop, µs per state."""
    if kind == "noop":
        return None
    program = Program(SWITCH_CONDITION if kind == "switch" else TRANSFORM)
    samples: list[float] = []
    for _ in range(runs):
        data = {"i": 0}
        started = time.perf_counter()
        for _ in range(states):
            if kind == "transform":
                data = program.first(data)
            else:
                program.first(data)
        samples.append((time.perf_counter() - started) / states * 1e6)
    return latencies(samples)


async def measure(ctx: Context) -> list[Figure]:
    states = ctx.scale(500, 50)
    runs = ctx.scale(40, 3)
    sources = [pure_chain(kind, n) for kind in PURE_KINDS for n in (1, states)]
    figures: list[Figure] = []
    async with ctx.database() as url, open_embedded(url, sources, {}) as engine:
        for kind in PURE_KINDS:
            short, chain = f"pure-{kind}-1", f"pure-{kind}-{states}"
            for workflow in (short, chain):
                await time_instances(engine, workflow, 2, {"i": 0})  # warm up
            samples: list[float] = []
            shorts: list[float] = []
            for _ in range(runs):  # interleaved, so that drifts of the machine cancel out
                (one,) = await time_instances(engine, short, 1, {"i": 0})
                (many,) = await time_instances(engine, chain, 1, {"i": 0})
                shorts.append(one)
                samples.append((many - one) / (states - 1) * 1e6)
            figures.append(
                Figure(
                    name=f"pure.{kind}",
                    store=ctx.kind,
                    description=f"one {kind} state (chain of {states} minus chain of 1)",
                    engine=latencies(samples),
                    floor=floor(kind, states, runs),
                    targets=TARGET,
                    extra={
                        "states": states,
                        "instances": runs,
                        "one_state_instance_us": statistics.median(shorts) * 1e6,
                    },
                )
            )
    return figures

"""Per-state time of the embedded engine: a noop chain, and an action chain against a local function.

    .venv/bin/python bench/bench_engine.py [--states 200] [--runs 30]

Prints p50/p99 per state in microseconds. The action chain calls a minimal aiohttp echo function in
another process over loopback; "floor" is the same POSTs made in a plain loop with the same client, so
"overhead" is what the engine adds per action state (jq, bookkeeping, commit to the in-memory store).
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time

import aiohttp

from dirigent.operations.local import open_engine
from dirigent.operations.sources import WorkflowFiles
from dirigent.spec import load_workflow
from dirigent.store import open_store
from timing import p50_p99

ECHO = """
import sys
from aiohttp import web
async def echo(request):
    return web.Response(body=await request.read())
app = web.Application()
app.router.add_post("/", echo)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def noop_chain(n: int) -> str:
    states = "".join(
        f"  - id: s{i}\n    type: noop\n    transform: 'jq(.i += 1)'\n    transition: s{i + 1}\n"
        for i in range(n - 1)
    )
    return f"id: noops\nstates:\n{states}  - id: s{n - 1}\n    type: noop\n    transform: 'jq(.i += 1)'\n"


def action_chain(n: int) -> str:
    states = "".join(
        f"  - id: s{i}\n    type: action\n    action:\n      function: echo\n"
        f"      input: 'jq({{i: .i}})'\n    transform: 'jq({{i: (.return.i + 1)}})'\n"
        + (f"    transition: s{i + 1}\n" if i < n - 1 else "")
        for i in range(n)
    )
    return f"id: actions\nfunctions:\n  - id: echo\n    image: bench/echo\nstates:\n{states}"


def percentiles(samples: list[float]) -> str:
    p50, p99 = p50_p99(samples)
    return f"p50 {p50:8.1f} µs   p99 {p99:8.1f} µs"


async def measure(states: int, runs: int, port: int, store_url: str) -> None:
    files = WorkflowFiles("local")
    started = time.perf_counter()
    files.add(load_workflow(noop_chain(states)))
    files.add(load_workflow(action_chain(states)))
    print(f"load two {states}-state workflows: {(time.perf_counter() - started) * 1000:.1f} ms")
    url = f"http://127.0.0.1:{port}/"
    store = await open_store(store_url)
    print(f"store: {store_url}")
    async with open_engine(
        store, workflows=files, services={"bench/echo": url}, sidecar_port=0
    ) as engine:
        for name in ("noops", "actions"):
            per_state = []
            for _ in range(runs):
                t0 = time.perf_counter()
                instance = await engine.run(name, {"i": 0})
                per_state.append((time.perf_counter() - t0) / states * 1e6)
                assert instance.output["i"] == states, instance.output
            print(f"{name:8} per state: {percentiles(per_state)}")
    await store.aclose()
    async with aiohttp.ClientSession() as session:
        floor = []
        for _ in range(runs):
            t0 = time.perf_counter()
            for i in range(states):
                async with session.post(url, data=b'{"i": %d}' % i) as response:
                    await response.read()
            floor.append((time.perf_counter() - t0) / states * 1e6)
        print(f"floor    per POST:  {percentiles(floor)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--states", type=int, default=200)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--port", type=int, default=18080)
    parser.add_argument(
        "--store", default="memory://", help="memory://, sqlite:///FILE or postgresql://…"
    )
    args = parser.parse_args()
    server = subprocess.Popen([sys.executable, "-c", ECHO, str(args.port)])
    try:
        time.sleep(1.0)
        asyncio.run(measure(args.states, args.runs, args.port, args.store))
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()

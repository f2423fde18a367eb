"""The 3-step workflow on DBOS, run in the peers' environment (it imports only DBOS, aiohttp, orjson).

    python -m bench.peers.dbos_app --database URL --echo URL --runs N --workflows M --concurrency C

Each step is a DBOS step (its result checkpointed in DBOS's system database) posting the payload to
the echo. Runs N workflows one at a time (timing each), then M workflows C at a time (timing the
whole), and prints one JSON line: `{"version", "took_us": [...], "wall": seconds, "workflows": M}`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from importlib.metadata import version
from typing import Any

import aiohttp
import orjson
from dbos import DBOS, DBOSConfig, SetWorkflowID

PAYLOAD = {"message": "hello", "n": 1}
_client: dict[str, Any] = {}


@DBOS.step()
async def post(url: str) -> Any:
    session: aiohttp.ClientSession = _client["session"]
    headers = {"Content-Type": "application/json"}
    async with session.post(url, data=orjson.dumps(PAYLOAD), headers=headers) as response:
        return orjson.loads(await response.read())


@DBOS.workflow()
async def three_steps(url: str) -> Any:
    result = None
    for _ in range(3):
        result = await post(url)
    return result


async def one(url: str) -> None:
    # A workflow id of its own, as every instance of Dirigent's has.
    with SetWorkflowID(str(uuid.uuid4())):
        await three_steps(url)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    for name in ("--database", "--echo"):
        parser.add_argument(name, required=True)
    for name in ("--runs", "--workflows", "--concurrency"):
        parser.add_argument(name, type=int, required=True)
    args = parser.parse_args()
    config: DBOSConfig = {
        "name": "dirigent-bench",
        "system_database_url": args.database,
        "log_level": "WARNING",
    }
    DBOS(config=config)
    DBOS.launch()
    async with aiohttp.ClientSession() as session:
        _client["session"] = session
        for _ in range(10):
            await one(args.echo)  # warm up
        took: list[float] = []
        for _ in range(args.runs):
            started = time.perf_counter()
            await one(args.echo)
            took.append((time.perf_counter() - started) * 1e6)
        remaining = iter(range(args.workflows))

        async def worker() -> None:
            for _ in remaining:
                await one(args.echo)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(args.concurrency)))
        wall = time.perf_counter() - started
    DBOS.destroy()
    result = {
        "version": version("dbos"),
        "took_us": took,
        "wall": wall,
        "workflows": args.workflows,
    }
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    asyncio.run(main())

"""Events on a real `dirigent server`: events accepted per second, the latency from an event's POST to
the first state of the instance it starts, and the server's memory with 10,000 waiting instances.

    .venv/bin/python -m bench.events_load [--database sqlite|postgres] [--waiting 10000]

The server runs in its own process on a fresh database; the client is this process. Latency is the
time from just before the POST to the log time of the started instance's first state (one clock: the
same machine).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time

import aiohttp

from bench.databases import KINDS, Kind, fresh_database
from bench.drive import drive
from bench.report import latencies
from bench.server import NAMESPACE, Api, start_dirigent

_ids = itertools.count()

ON_EVENT = """
id: on-event
start:
  type: event
  event: {type: bench.start}
states:
  - id: first
    type: noop
"""

WAITER = """
id: waiter
timeouts: {interrupt: PT2H, kill: PT3H}
states:
  - id: wait
    type: consumeEvent
    timeout: PT2H
    event:
      type: bench.wake
      context: {subject: 'jq(.k)'}
"""


def event(type_: str, **attributes: object) -> bytes:
    body = {"specversion": "1.0", "id": f"b{next(_ids)}", "source": "bench", "type": type_}
    return json.dumps({**body, **attributes, "data": {"n": 1}}).encode()


async def post_event(session: aiohttp.ClientSession, base: str, body: bytes) -> dict[str, object]:
    url = f"{base}/api/namespaces/{NAMESPACE}/event"
    headers = {"Content-Type": "application/cloudevents+json"}
    async with session.post(url, data=body, headers=headers) as response:
        answer = await response.json()
        if response.status != 200:
            raise RuntimeError(f"event refused: {answer}")
        receipt: dict[str, object] = answer["events"][0]
        return receipt


async def first_state_time(session: aiohttp.ClientSession, base: str, instance_id: str) -> float:
    """The log time (Unix seconds) of the instance's first state, once it is there."""
    url = f"{base}/api/instances/{instance_id}/logs"
    while True:
        async with session.get(url, params={"limit": 10}) as response:
            lines = (await response.json())["workflowInstanceLogs"]
        for line in lines:
            if line["message"].startswith("entering state"):
                stamp = line["timestamp"]
                return float(stamp["seconds"]) + stamp["nanos"] / 1e9
        await asyncio.sleep(0.002)  # a real server: polling is the way to see it


async def accepted_per_second(session: aiohttp.ClientSession, base: str, total: int) -> None:
    for label, type_ in (("nobody listens", "bench.nobody"), ("each starts one", "bench.start")):

        async def send(type_: str = type_) -> None:
            await post_event(session, base, event(type_))

        driven = await drive(send, total, concurrency=16)
        rate = total / driven.wall
        print(f"events accepted/s ({label}, 16 clients): {rate:,.0f}")


async def start_latency(session: aiohttp.ClientSession, base: str, samples: int) -> None:
    took: list[float] = []
    for _ in range(samples):
        before = time.time()
        receipt = await post_event(session, base, event("bench.start"))
        (instance_id,) = receipt["started"]  # type: ignore[misc]
        took.append((await first_state_time(session, base, str(instance_id)) - before) * 1e6)
    measure = latencies(took)
    print(
        f"event POST -> first state: p50 {(measure.p50_us or 0) / 1000:.1f} ms, "
        f"p99 {(measure.p99_us or 0) / 1000:.1f} ms ({samples} sequential)"
    )


async def start_waiting(api: Api, base: str, count: int) -> None:
    """Start `count` instances that each wait for their own event (subject k<n>)."""
    session = api.session
    await api.push(WAITER)

    keys = itertools.count()

    async def start_one() -> None:
        await api.execute("waiter", json.dumps({"k": f"k{next(keys)}"}).encode())

    await drive(start_one, count, concurrency=32)
    # Until the newest (the last claimed) wait: their first state is entered, their waits stored.
    listing = f"{base}/api/namespaces/{NAMESPACE}/workflows/waiter/instances/"
    async with session.get(listing, params={"limit": 100}) as response:
        newest = [i["id"] for i in (await response.json())["workflowInstances"]]
    for instance_id in newest:
        await first_state_time(session, base, instance_id)


async def main(kind: Kind, waiting: int, events: int, samples: int) -> None:
    async with (
        fresh_database(kind) as database,
        start_dirigent(database, {}) as server,
        aiohttp.ClientSession() as session,
    ):
        base = server.url
        api = Api(session, base)
        await api.push(ON_EVENT)
        await accepted_per_second(session, base, events)
        await start_latency(session, base, samples)
        before = server.rss_mb()
        await start_waiting(api, base, waiting)
        after = server.rss_mb()
        print(
            f"server RSS: {before:.0f} MiB before, {after:.0f} MiB with {waiting:,} instances "
            f"waiting for events ({kind})"
        )
        # An event wakes exactly the instance it names.
        woken = await post_event(session, base, event("bench.wake", subject="k7"))
        print(f"an event for one of them reached {woken['deliveries']} instance(s)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=KINDS, default="sqlite")
    parser.add_argument("--waiting", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=2_000)
    parser.add_argument("--samples", type=int, default=200)
    return parser


if __name__ == "__main__":
    options = _parser().parse_args()
    asyncio.run(main(options.database, options.waiting, options.events, options.samples))

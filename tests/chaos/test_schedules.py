"""A schedule ticking every second on two servers that share PostgreSQL: each tick starts exactly one
instance, while one server is stopped and started again and the other is killed; an instance waiting
for an event meanwhile takes it afterwards."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.chaos.server_process import ServerProcess
from tests.postgres import scratch_database

TICKER = b"""\
id: ticker
start:
  type: scheduled
  cron: "@every 1s"
states:
  - id: only
    type: noop
"""


WAITER = b"""\
id: waiter
states:
  - id: wait
    type: consumeEvent
    event: {type: wake, context: {subject: 'jq(.k)'}}
"""


@pytest.fixture
def database() -> Iterator[str]:
    with scratch_database("dirigent_ticks") as url:
        yield url


def instances(url: str) -> list[dict[str, object]]:
    with httpx.Client(base_url=url, timeout=10) as client:
        answer = client.get(
            "/api/namespaces/default/workflows/ticker/instances/", params={"limit": 1000}
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["workflowInstances"]  # type: ignore[no-any-return]


def until_more(url: str, count: int, seconds: float = 20.0) -> list[dict[str, object]]:
    """Poll (bounded) until the workflow has at least `count` instances."""
    deadline = time.monotonic() + seconds
    while True:
        found = instances(url)
        if len(found) >= count:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(found)} instances, not {count}")
        time.sleep(0.1)


def tick_of(instance_id: object) -> datetime:
    stamp = str(instance_id).rsplit("/tick-", 1)[1]
    return datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


# Three server starts: each takes seconds, many on a busy machine.
@pytest.mark.timeout(300)
def test_each_tick_runs_once_across_servers_and_restarts(tmp_path: Path, database: str) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = ServerProcess(tmp_path / "a", {}, database=database)
    second = ServerProcess(tmp_path / "b", {}, database=database)
    first.start()
    second.start()
    try:
        with httpx.Client(base_url=first.url, timeout=10) as client:
            pushed = client.post(
                "/api/namespaces/default/workflows",
                content=TICKER,
                headers={"Content-Type": "text/yaml"},
            )
            assert pushed.status_code == 200, pushed.text
            pushed = client.post(
                "/api/namespaces/default/workflows",
                content=WAITER,
                headers={"Content-Type": "text/yaml"},
            )
            assert pushed.status_code == 200, pushed.text
            waiting = client.post(
                "/api/namespaces/default/workflows/waiter/execute", json={"k": "me"}
            ).json()["instanceId"]
        seen = len(until_more(first.url, 3))
        first.stop()  # SIGTERM: the other server goes on alone
        seen = len(until_more(second.url, seen + 2))
        first.start()
        second.kill()  # SIGKILL, maybe in the middle of firing a tick
        until_more(first.url, seen + 3)
        with httpx.Client(base_url=first.url, timeout=10) as client:
            toggled = client.put("/api/namespaces/default/workflows/ticker/toggle")
            assert toggled.json()["active"] is False
            # The instance that waited for an event through both restarts takes it now.
            event = {"specversion": "1.0", "id": "w1", "source": "t", "type": "wake"}
            sent = client.post("/api/namespaces/default/event", json={**event, "subject": "me"})
            assert sent.json()["events"][0]["deliveries"] == 1
            deadline = time.monotonic() + 20
            while client.get(f"/api/instances/{waiting}").json()["status"] != "complete":
                assert time.monotonic() < deadline, "the waiting instance did not finish"
                time.sleep(0.05)
        found = instances(first.url)
        ticks = sorted(tick_of(i["id"]) for i in found)
        # One instance per tick (ids name their tick), and no tick lost while a server ran.
        assert len(set(ticks)) == len(ticks)
        expected = [ticks[0] + timedelta(seconds=n) for n in range(len(ticks))]
        assert ticks == expected, (first.log_text(), second.log_text())
        assert {i["invokedBy"] for i in found} == {"schedule"}
        deadline = time.monotonic() + 20
        while any(i["status"] == "pending" for i in instances(first.url)):
            assert time.monotonic() < deadline, "instances did not finish"
            time.sleep(0.1)
        assert {i["status"] for i in instances(first.url)} == {"complete"}
    finally:
        first.stop()
        second.stop()

"""Two servers on one PostgreSQL database share the work; when one dies, the other finishes it."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.chaos.server_process import ServerProcess
from tests.chaos.test_kill import CHAIN, wait_all
from tests.postgres import scratch_database


@pytest.fixture
def database() -> Iterator[str]:
    with scratch_database("dirigent_chaos") as url:
        yield url


def test_the_survivor_finishes_a_dead_servers_work(
    tmp_path: Path, slow_function: str, database: str
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = ServerProcess(tmp_path / "a", {"slow": slow_function}, database=database)
    second = ServerProcess(tmp_path / "b", {"slow": slow_function}, database=database)
    first.start()
    second.start()
    try:
        with httpx.Client(base_url=first.url, timeout=10) as client:
            pushed = client.post(
                "/api/namespaces/default/workflows",
                content=CHAIN,
                headers={"Content-Type": "text/yaml"},
            )
            assert pushed.status_code == 200, pushed.text
            ids = [
                client.post(
                    "/api/namespaces/default/workflows/chain/execute", json={"n": i}
                ).json()["instanceId"]
                for i in range(20)
            ]
            time.sleep(0.5)
        first.kill()
        with httpx.Client(base_url=second.url, timeout=10) as client:
            finals = wait_all(client, ids)
            assert len(finals) == len(ids), second.log_text()
            for i, instance_id in enumerate(ids):
                answer = finals[instance_id]
                assert answer["status"] == "complete", answer
                assert json.loads(base64.b64decode(answer["output"])) == {"n": i + 6, "woke": True}
                log = client.get(f"/api/instances/{instance_id}/logs", params={"limit": 1000})
                entries = [e["message"] for e in log.json()["workflowInstanceLogs"]]
                assert entries.count("entering state 'after' (noop)") == 1
                # Each step was entered once: a call the crash interrupted was made again by the
                # survivor within the same step, never by both servers.
                for step in range(6):
                    assert entries.count(f"entering state 'step{step}' (action)") == 1
    finally:
        first.stop()
        second.stop()

"""SIGTERM drains: calls in flight finish and count; the next calls are left for the next server."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import httpx

from tests.chaos.server_process import ServerProcess
from tests.chaos.test_kill import wait_all

TWO_SLOW_STEPS = """
id: twostep
functions:
  - id: slow
    image: test/slow
states:
  - id: first
    type: action
    action:
      function: slow
      input: {seconds: 1}
    transform: 'jq({first: .return.slept})'
    transition: second
  - id: second
    type: action
    action:
      function: slow
      input: {seconds: 0.5}
    transform: 'jq(.second = .return.slept | del(.return))'
"""


def test_sigterm_lets_calls_in_flight_finish(tmp_path: Path, slow_function: str) -> None:
    server = ServerProcess(tmp_path, {"slow": slow_function})
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            pushed = client.post(
                "/api/namespaces/default/workflows",
                content=TWO_SLOW_STEPS,
                headers={"Content-Type": "text/yaml"},
            )
            assert pushed.status_code == 200, pushed.text
            started = client.post("/api/namespaces/default/workflows/twostep/execute", json={})
            instance_id = started.json()["instanceId"]
            time.sleep(0.4)  # the first call is running
        server.stop()  # SIGTERM: the first call finishes within the grace; the second waits
        assert calls(tmp_path) == 1
        server.start()
        with httpx.Client(base_url=server.url, timeout=10) as client:
            final = wait_all(client, [instance_id])[instance_id]
        assert final["status"] == "complete", final
        assert json.loads(base64.b64decode(final["output"])) == {"first": 1, "second": 0.5}
        # The first call was not made again: the drain committed its result.
        assert calls(tmp_path) == 2
    finally:
        server.stop()


def calls(tmp_path: Path) -> int:
    return sum(
        line.startswith("STARTED") for line in (tmp_path / "slow.out").read_text().splitlines()
    )

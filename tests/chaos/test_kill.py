"""Kill the server with SIGKILL in the middle of work, start it again: every instance ends right."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import httpx

from tests.chaos.server_process import ServerProcess

CHAIN = (
    """
id: chain
functions:
  - id: slow
    image: test/slow
states:
"""
    + "".join(
        f"""  - id: step{i}
    type: action
    action:
      function: slow
      input: {{seconds: 0.1}}
    transform: 'jq(.n += 1 | del(.return))'
    transition: {"nap" if i == 5 else f"step{i + 1}"}
"""
        for i in range(6)
    )
    + """  - id: nap
    type: delay
    duration: PT1S
    transition: after
  - id: after
    type: noop
    transform: 'jq(.woke = true)'
"""
)

FANOUT = """
id: fanout
functions:
  - id: slow
    image: test/slow
  - id: chained
    type: subflow
    workflow: chain
states:
  - id: both
    type: parallel
    actions:
      - function: slow
        input: {seconds: 0.3}
      - function: chained
        input: {n: 100}
      - function: slow
        input: {seconds: 0.2}
        retries:
          max_attempts: 1
          delay: PT0.5S
          codes: ['*']
    transform: 'jq({slept: .return[0].slept, child: .return[1]})'
"""


def test_sigkill_mid_work_loses_nothing(tmp_path: Path, slow_function: str) -> None:
    server = ServerProcess(tmp_path, {"slow": slow_function})
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            for source in (CHAIN, FANOUT):
                answer = client.post(
                    "/api/namespaces/default/workflows",
                    content=source,
                    headers={"Content-Type": "text/yaml"},
                )
                assert answer.status_code == 200, answer.text
            ids = []
            for i in range(8):
                for workflow, data in (("chain", {"n": i}), ("fanout", {})):
                    started = client.post(
                        f"/api/namespaces/default/workflows/{workflow}/execute", json=data
                    )
                    ids.append(started.json()["instanceId"])
            time.sleep(0.4)  # the instances are in the middle of their chains and parallel calls
        server.kill()
        server.start()
        with httpx.Client(base_url=server.url, timeout=10) as client:
            finals = wait_all(client, ids)
            assert len(finals) == len(ids), server.log_text()
            for i, instance_id in enumerate(ids):
                answer = finals[instance_id]
                assert answer["status"] == "complete", answer
                output = json.loads(base64.b64decode(answer["output"]))
                if i % 2 == 0:
                    assert output == {"n": i // 2 + 6, "woke": True}
                else:
                    assert output == {"slept": 0.3, "child": {"n": 106, "woke": True}}
                    continue
                log = client.get(f"/api/instances/{instance_id}/logs", params={"limit": 1000})
                entries = [e["message"] for e in log.json()["workflowInstanceLogs"]]
                # The delay's timer fired exactly once, whatever the crash interrupted.
                assert entries.count("entering state 'after' (noop)") == 1, entries
    finally:
        server.stop()


def wait_all(client: httpx.Client, ids: list[str]) -> dict[str, dict[str, object]]:
    finals: dict[str, dict[str, object]] = {}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(finals) < len(ids):
        for instance_id in ids:
            if instance_id not in finals:
                answer = client.get(f"/api/instances/{instance_id}").json()
                if answer["status"] != "pending":
                    finals[instance_id] = answer
        time.sleep(0.1)
    return finals

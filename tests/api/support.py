"""Helpers of the API tests: a real `dirigent server` process, and checks of the API's shapes."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
#: The PostgreSQL server of the tests (the store suite's setting); each API server gets a database
#: of its own there, made and dropped through the `postgres` maintenance database.
POSTGRES_URL = os.environ.get("DIRIGENT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
_POSTGRES_ADMIN = POSTGRES_URL.rsplit("/", 1)[0] + "/postgres"
_LISTENING = re.compile(r"Dirigent listening on (http://\S+)")


@dataclass
class RunningServer:
    """A `dirigent server` process: its base URL and where its output goes."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path
    database: str

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def stop(self) -> int:
        self.process.terminate()
        try:
            return self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise


def start_server(
    data_dir: Path,
    *args: str,
    database: str = "",
    env: dict[str, str] | None = None,
) -> RunningServer:
    """Start `dirigent server` on a free port; returns once /api/healthz answers."""
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / "server.log"
    command = [sys.executable, "-m", "dirigent", "server", "--data-dir", str(data_dir)]
    command += ["--port", "0", "--sidecar-port", "0", *args]
    if database:
        command += ["--database", database]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DIRIGENT_")}
    environment.update(env or {})
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT
        )
    server = RunningServer("", process, log, database or "sqlite")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited ({process.returncode}):\n{server.log_text()}")
        found = _LISTENING.search(log.read_text(errors="replace"))
        if found:
            server.url = found.group(1)
            try:
                if httpx.get(f"{server.url}/api/healthz", timeout=2).status_code == 200:
                    return server
            except httpx.HTTPError:
                pass
        time.sleep(0.05)  # a real process: polling until it listens is the only way
    server.stop()
    raise TimeoutError(f"the server did not start:\n{server.log_text()}")


def postgres_reachable() -> bool:
    import asyncpg

    async def probe() -> None:
        connection = await asyncpg.connect(_POSTGRES_ADMIN, timeout=3)
        await connection.close()

    try:
        asyncio.run(probe())
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    return True


def postgres_admin(statement: str) -> None:
    import asyncpg

    async def run() -> None:
        connection = await asyncpg.connect(_POSTGRES_ADMIN, timeout=5)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run())


def push(client: httpx.Client, ns: str, yaml: str) -> httpx.Response:
    answer = client.post(
        f"/api/namespaces/{ns}/workflows",
        content=yaml.encode(),
        headers={"Content-Type": "text/yaml"},
    )
    assert answer.status_code == 200, answer.text
    return answer


def wait_for_status(
    client: httpx.Client, instance_id: str, wanted: set[str], seconds: float = 15
) -> dict[str, object]:
    """Poll the instance until its status is one of `wanted` (a real server: polling is the way)."""
    deadline = time.monotonic() + seconds
    while True:
        answer = client.get(f"/api/instances/{instance_id}")
        assert answer.status_code == 200, answer.text
        body: dict[str, object] = answer.json()
        if body["status"] in wanted:
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"instance {instance_id} is {body['status']}, not {wanted}")
        time.sleep(0.05)


def is_timestamp(value: object) -> bool:
    return (
        isinstance(value, dict)
        and set(value) == {"seconds", "nanos"}
        and isinstance(value["seconds"], int)
        and isinstance(value["nanos"], int)
        and 0 <= value["nanos"] < 1_000_000_000
        and value["seconds"] > 1_600_000_000
    )


def error(answer: httpx.Response, status: int, *fragments: str) -> str:
    """Assert `answer` is the JSON error with `status` and a message holding each fragment."""
    assert answer.status_code == status, f"{answer.status_code}: {answer.text}"
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert set(body) == {"Code", "Message"}, body
    assert body["Code"] == status
    message: str = body["Message"]
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return message


ECHO = """\
id: echo
description: Answers its input.
states:
  - id: only
    type: noop
"""

NAP = """\
id: nap
description: Sleeps a minute, to be cancelled.
states:
  - id: sleep
    type: delay
    duration: PT60S
"""

"""`dirigent server` itself: tokens off loopback, the wait limit, examples, refusing bad settings,
stopping cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.support import ECHO, NAP, ROOT, RunningServer, error, start_server

TOKEN = "tok-3f9a"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server on 0.0.0.0 (so tokens are required) with a one-second wait limit and examples."""
    running = start_server(
        tmp_path_factory.mktemp("guarded"),
        "--listen",
        "0.0.0.0",
        "--with-examples",
        env={"DIRIGENT_API_TOKENS": f"other,{TOKEN}", "DIRIGENT_WAIT_SECONDS": "1"},
    )
    running.url = running.url.replace("0.0.0.0", "127.0.0.1")
    try:
        yield running
    finally:
        running.stop()


def test_tokens_are_required_off_loopback(guarded: RunningServer) -> None:
    with httpx.Client(base_url=guarded.url) as anonymous:
        assert anonymous.get("/api/healthz").status_code == 200
        assert anonymous.get("/api/openapi.json").status_code == 200
        answer = anonymous.get("/api/namespaces/")
        error(answer, 401, "bearer token is required")
        assert answer.headers["WWW-Authenticate"] == "Bearer"
        error(
            anonymous.get("/api/namespaces/", headers={"Authorization": "Bearer wrong"}),
            401,
            "not valid",
        )
        error(anonymous.post("/api/namespaces/sneaky"), 401)
    with httpx.Client(base_url=guarded.url, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
        names = [n["name"] for n in c.get("/api/namespaces/").json()["namespaces"]]
        assert names == ["default"]  # the sneaky one was not made
    with httpx.Client(base_url=guarded.url, headers={"KEY": TOKEN}) as c:
        assert c.get("/api/namespaces/").status_code == 200


def test_examples_are_pushed(guarded: RunningServer) -> None:
    with httpx.Client(base_url=guarded.url, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
        ids = [w["id"] for w in c.get("/api/namespaces/default/workflows/").json()["workflows"]]
        assert "hello" in ids
        answer = c.post(
            "/api/namespaces/default/workflows/hello/execute?wait=true", json={"name": "world"}
        )
        assert answer.json() == {"greeting": "Hello, world! Nice to meet everyone at once."}


def test_a_wait_past_the_limit_answers_202_with_the_id(guarded: RunningServer) -> None:
    with httpx.Client(base_url=guarded.url, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
        c.post("/api/namespaces/default/workflows", content=NAP.encode())
        answer = c.post("/api/namespaces/default/workflows/nap/execute", params={"wait": "true"})
        assert answer.status_code == 202
        instance_id = answer.json()["instanceId"]
        assert answer.headers["Direktiv-InstanceID"] == instance_id
        assert c.get(f"/api/instances/{instance_id}").json()["status"] == "pending"
        c.delete(f"/api/instances/{instance_id}")


def test_examples_are_not_pushed_twice(tmp_path: Path) -> None:
    first = start_server(tmp_path, "--with-examples")
    try:
        with httpx.Client(base_url=first.url) as c:
            c.put("/api/namespaces/default/workflows/hello?active=false")
    finally:
        assert first.stop() == 0
    again = start_server(tmp_path, "--with-examples")
    try:
        with httpx.Client(base_url=again.url) as c:
            hello = c.get("/api/namespaces/default/workflows/hello").json()
            assert (hello["revision"], hello["active"]) == (0, False)
    finally:
        again.stop()


def _server(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DIRIGENT_")}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "dirigent", "server", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_listening_off_loopback_without_tokens_is_refused(tmp_path: Path) -> None:
    result = _server("--data-dir", str(tmp_path), "--listen", "0.0.0.0", "--port", "0")
    assert result.returncode == 1
    assert "needs API tokens" in result.stderr


def test_bad_settings_are_refused(tmp_path: Path) -> None:
    config = tmp_path / "dirigent.toml"
    config.write_text("colour = 'blue'\n")
    result = _server("--data-dir", str(tmp_path), "--config", str(config))
    assert result.returncode == 1
    assert "unknown setting(s): colour" in result.stderr
    result = _server("--data-dir", str(tmp_path), "--service", "no-equals-sign")
    assert result.returncode != 0
    assert "NAME=URL" in result.stderr


def test_a_taken_port_is_refused(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = _server("--data-dir", str(tmp_path), "--port", port, "--sidecar-port", "0")
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_sigterm_stops_cleanly(tmp_path: Path) -> None:
    running = start_server(tmp_path)
    with httpx.Client(base_url=running.url) as c:
        c.post("/api/namespaces/default/workflows", content=ECHO.encode())
    running.process.send_signal(signal.SIGTERM)
    assert running.process.wait(timeout=20) == 0
    assert "Traceback" not in running.log_text()
    again = start_server(tmp_path)  # the data is still there
    try:
        with httpx.Client(base_url=again.url) as c:
            assert c.get("/api/namespaces/default/workflows/echo").status_code == 200
    finally:
        again.stop()

"""What the browser tests share: Debian's Chromium driven by Playwright, a server with the logger
test function behind it, and where screenshots and timings go."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.api.support import ROOT, RunningServer, start_server
from tests.chaos.server_process import wait_listening
from tests.fixtures.functions.runner import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
#: Screenshots and measured timings (a gitignored folder).
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
VIEWPORT = {"width": 1440, "height": 900}


def require_browser() -> None:
    """Skip (with one line saying why) when Chromium or Playwright is missing; under CI=true,
    fail instead: there the browser tests must run."""
    missing = None
    if not CHROMIUM.exists():
        missing = f"chromium is not installed at {CHROMIUM} (apt-get install -y chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "playwright is not installed (pip install -e '.[dev]')"
    if missing is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests: {missing} (CI=true)")
    pytest.skip(f"browser tests: {missing}")


@contextmanager
def running_logger(sidecar_port: int) -> Iterator[str]:
    """The logger test function in a process of its own, sending its log lines to the sidecar on
    `sidecar_port`; yields its URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-u", "tests/fixtures/functions/logger.py", "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, "DIRIGENT_SIDECAR_PORT": str(sidecar_port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_listening(port)
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        process.wait()


@contextmanager
def ui_server(data_dir: Path, env: dict[str, str] | None = None) -> Iterator[RunningServer]:
    """A server whose `logger` function is the logger test function. The sidecar gets a free port
    chosen here (the later `--sidecar-port` wins over the helper's `0`), so the function knows
    where to send its lines."""
    sidecar = free_port()
    with running_logger(sidecar) as logger:
        server = start_server(
            data_dir, "--sidecar-port", str(sidecar), "--service", f"logger={logger}", env=env
        )
        try:
            yield server
        finally:
            server.stop()


def screenshot(page: Any, name: str) -> Path:
    """Save a screenshot of the page as `artifacts/<name>.png`."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def record_timing(name: str, milliseconds: float, **details: object) -> None:
    """Add a measured time to `artifacts/timings.json` (measured, never asserted)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "timings.json"
    timings = json.loads(path.read_text()) if path.exists() else {}
    timings[name] = {"milliseconds": round(milliseconds, 1), **details}
    path.write_text(json.dumps(timings, indent=2) + "\n")

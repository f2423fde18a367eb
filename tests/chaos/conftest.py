"""Fixtures of the crash tests: the slow test function in a process of its own."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chaos.server_process import wait_listening
from tests.fixtures.functions.runner import free_port


@pytest.fixture
def slow_function(tmp_path: Path) -> Iterator[str]:
    """The slow test function's URL; what it prints (`STARTED <aid>` per call) goes to slow.out."""
    port = free_port()
    with (tmp_path / "slow.out").open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-u", "tests/fixtures/functions/slow.py", "--port", str(port)],
            cwd=Path(__file__).resolve().parents[2],
            stdout=out,
        )
    try:
        wait_listening(port)
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        process.wait()

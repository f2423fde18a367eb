"""A `dirigent server` in a real process, to be killed and started again."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.fixtures.functions.runner import free_port

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class ServerProcess:
    data_dir: Path
    services: dict[str, str]
    database: str = ""
    port: int = field(default_factory=free_port)
    lease_seconds: float = 1.0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        args = [
            sys.executable,
            "-m",
            "dirigent",
            "server",
            "--data-dir",
            str(self.data_dir),
            "--port",
            str(self.port),
            "--sidecar-port",
            "0",
        ]
        if self.database:
            args += ["--database", self.database]
        for name, url in self.services.items():
            args += ["--service", f"{name}={url}"]
        env = {**os.environ, "DIRIGENT_LEASE_SECONDS": str(self.lease_seconds)}
        with (self.data_dir / f"server-{self.port}.log").open("ab") as log:
            self.process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_text()}")
            try:
                with httpx.Client(timeout=1) as probe:
                    if probe.get(f"{self.url}/api/healthz").status_code == 200:
                        return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise TimeoutError(f"server did not answer: {self.log_text()}")

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
            self.process = None

    def log_text(self) -> str:
        path = self.data_dir / f"server-{self.port}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


def wait_listening(port: int, within: float = 10.0) -> None:
    """Until something accepts connections on the loopback port."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise TimeoutError(f"nothing listens on port {port}")

"""The peers' own environment, installed on demand under `bench/.peers/` (ignored by git).

* `bench/.peers/venv`: a virtualenv (made by the Python running the bench) with DBOS, the Restate
  Python SDK, hypercorn to serve it, and the same aiohttp and orjson versions Dirigent uses;
* `bench/.peers/node_modules`: the Restate server binary from the npm package
  `@restatedev/restate-server` (its platform package ships the binary).

Versions are pinned here; a stamp file makes the second run skip the installers.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import aiohttp
import orjson

from bench.processes import ROOT

PEERS = ROOT / "bench" / ".peers"
VENV = PEERS / "venv"
PYTHON = VENV / "bin" / "python"
DBOS = "dbos==3.4.0"
RESTATE_SDK = "restate-sdk==1.3.0"
PACKAGES = (
    DBOS,
    RESTATE_SDK,
    "hypercorn==0.18.0",
    f"aiohttp=={aiohttp.__version__}",
    f"orjson=={orjson.__version__}",
)
RESTATE_SERVER = "@restatedev/restate-server@1.7.12"


class PeerUnavailable(RuntimeError):
    """A peer cannot be installed or started here; the message says why."""


async def _run(*args: str, cwd: Path = PEERS) -> None:
    process = await asyncio.create_subprocess_exec(
        *args, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await process.communicate()
    if process.returncode != 0:
        tail = output.decode(errors="replace").strip().splitlines()[-15:]
        raise PeerUnavailable(f"`{' '.join(args)}` failed:\n" + "\n".join(tail))


async def ensure_python() -> Path:
    """The peers' Python, with `PACKAGES` installed (installing them the first time)."""
    PEERS.mkdir(parents=True, exist_ok=True)
    stamp = VENV / "bench-packages.txt"
    wanted = "\n".join(PACKAGES)
    if stamp.exists() and stamp.read_text() == wanted:
        return PYTHON
    if not PYTHON.exists():
        await _run(sys.executable, "-m", "venv", str(VENV))
    await _run(str(PYTHON), "-m", "pip", "install", "-q", "--disable-pip-version-check", *PACKAGES)
    stamp.write_text(wanted)
    return PYTHON


async def ensure_restate_server() -> Path:
    """The `restate-server` binary (installed with npm the first time)."""
    PEERS.mkdir(parents=True, exist_ok=True)
    found = sorted(PEERS.glob("node_modules/@restatedev/restate-server-*/bin/restate-server"))
    if not found:
        try:
            await _run("npm", "install", "--no-save", "--no-audit", "--no-fund", RESTATE_SERVER)
        except FileNotFoundError:
            raise PeerUnavailable(
                "npm is not installed: the Restate server comes from npm"
            ) from None
        found = sorted(PEERS.glob("node_modules/@restatedev/restate-server-*/bin/restate-server"))
    if not found:
        raise PeerUnavailable(f"{RESTATE_SERVER} has no binary for this platform ({sys.platform})")
    return found[0]

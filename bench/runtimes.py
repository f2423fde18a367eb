"""Cold start and warm call latency of the function runtimes (docs/functions.md, "The docker runtime").

    .venv/bin/python -m bench.runtimes [--quick] [--runtime process|docker] [--out FILE]

Run from the repository root, as root (pods get network namespaces). For each configuration — the
process runtime running the test echo (`tests/fixtures/functions/echo.py`), the docker runtime running
the same echo in a Python image, and the docker runtime running busybox's CGI echo — it measures on the
embedded engine (in-memory store):

* **cold**: one instance of a one-action workflow whose call starts a new pod (each sample a workflow
  of its own, so a pod of its own), start to end;
* **warm instance**: the same workflow on a warm pod;
* **warm call**: `Functions.call` alone on a warm pod (temp dir, the POST through the pod's channel,
  the answer), without the engine around it;

each as p50/p99 in milliseconds. The docker runtime uses the engine `DOCKER_HOST` names or a private
`dockerd` (tests/fixtures/images/dockerd.py) and images built here; without Docker it is skipped,
saying why. Numbers, not tests: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
import time
from collections.abc import Awaitable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from rich.console import Console
from rich.table import Table
from tests.fixtures.functions.runner import FUNCTIONS_DIR
from tests.fixtures.images import ImagesUnavailable, build_images
from tests.fixtures.images.dockerd import DockerMissing, docker_engine
from tests.fixtures.images.python import PYTHON_ECHO, build_python_echo, build_python_image

from bench.timing import p50_p99
from dirigent.functions import FunctionCall, new_action_id
from dirigent.functions.dispatch import CallSite
from dirigent.functions.runtimes import FunctionSettings
from dirigent.operations.local import LOCAL_NAMESPACE, LocalEngine, open_local_engine
from dirigent.operations.sources import WorkflowFiles
from dirigent.spec import load_workflow
from dirigent.store.memory import MemoryStore
from dirigent.store.records import InstanceRef

ECHO_IMAGE = "bench/echo:v1"
CGI_ECHO = "acme/fn:v1"


@dataclass
class Figure:
    """One configuration's numbers, in milliseconds."""

    name: str
    description: str
    cold: tuple[float, float] = (0.0, 0.0)
    warm_instance: tuple[float, float] = (0.0, 0.0)
    warm_call: tuple[float, float] = (0.0, 0.0)
    samples: dict[str, int] = field(default_factory=dict)


def workflow(name: str, image: str) -> str:
    return f"""
id: {name}
functions:
- {{id: echo, image: "{image}"}}
states:
- id: call
  type: action
  action: {{function: echo, input: {{message: hello, n: 1}}}}
"""


async def measure(
    name: str, description: str, settings: FunctionSettings, image: str, counts: Counts
) -> Figure:
    files = WorkflowFiles(LOCAL_NAMESPACE)
    warm = load_workflow(workflow("warm", image))
    files.add(warm)
    cold_names = [f"cold-{i}" for i in range(counts.cold)]
    for cold_name in cold_names:
        files.add(load_workflow(workflow(cold_name, image)))
    async with open_local_engine(workflows=files, functions=settings) as engine:
        await _run(engine, "warm")  # the engine's own first use, and the warm pod
        cold = [await _timed(_run(engine, n)) for n in cold_names]
        instance = [await _timed(_run(engine, "warm")) for _ in range(counts.warm)]
        site = CallSite(LOCAL_NAMESPACE, "warm")
        owner = InstanceRef(LOCAL_NAMESPACE, "warm", "bench")
        functions = engine.runtime.functions
        call = [
            await _timed(functions.call(site, warm.functions["echo"], _call(owner)))
            for _ in range(counts.warm)
        ]
    return Figure(
        name,
        description,
        cold=p50_p99(cold),
        warm_instance=p50_p99(instance),
        warm_call=p50_p99(call),
        samples={"cold": len(cold), "warm_instance": len(instance), "warm_call": len(call)},
    )


async def _run(engine: LocalEngine[MemoryStore], name: str) -> None:
    instance = await engine.run(name, b"{}")
    if instance.status.value != "complete":
        raise RuntimeError(f"{name}: {instance.status.value}: {instance.error}")


def _call(owner: InstanceRef) -> FunctionCall:
    return FunctionCall(
        action_id=new_action_id(),
        url="",
        input=b'{"message":"hello","n":1}',
        deadline=datetime.now(UTC) + timedelta(seconds=60),
        owner=owner,
        state="call",
    )


async def _timed(work: Awaitable[object]) -> float:
    """Milliseconds `work` takes."""
    start = time.perf_counter_ns()
    await work
    return (time.perf_counter_ns() - start) / 1e6


@dataclass(frozen=True)
class Counts:
    cold: int
    warm: int


async def run(runtimes: list[str], counts: Counts) -> tuple[list[Figure], dict[str, str]]:
    figures: list[Figure] = []
    skipped: dict[str, str] = {}
    if "process" in runtimes:
        echo = shlex.join([sys.executable, "-u", str(FUNCTIONS_DIR / "echo.py")])
        settings = FunctionSettings(functions={ECHO_IMAGE: echo}, sidecar_port=0)
        figures.append(
            await measure(
                "process.echo",
                "process runtime, the Python test echo as a local process",
                settings,
                ECHO_IMAGE,
                counts,
            )
        )
    if "docker" in runtimes:
        try:
            with docker_engine() as socket:
                await build_images(socket)
                await build_python_image(socket)
                await build_python_echo(socket)
                settings = FunctionSettings(
                    runtime="docker", docker_host=f"unix://{socket}", sidecar_port=0
                )
                for name, image, description in (
                    ("docker.echo", PYTHON_ECHO, "docker runtime, the same echo in a Python image"),
                    ("docker.cgi", CGI_ECHO, "docker runtime, busybox httpd running a CGI echo"),
                ):
                    figures.append(await measure(name, description, settings, image, counts))
        except (DockerMissing, ImagesUnavailable) as error:
            skipped["docker"] = str(error)
    return figures, skipped


def _table(figures: list[Figure]) -> Table:
    table = Table(title="Function runtimes (ms, p50 / p99)")
    for column in ("figure", "cold (first call, new pod)", "warm instance", "warm call"):
        table.add_column(column)
    for figure in figures:
        table.add_row(
            figure.name,
            *(
                f"{p50:.2f} / {p99:.2f}"
                for p50, p99 in (figure.cold, figure.warm_instance, figure.warm_call)
            ),
        )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.runtimes", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small counts: a smoke run")
    parser.add_argument("--runtime", action="append", choices=("process", "docker"))
    parser.add_argument("--out", type=Path, help="also write the figures as JSON here")
    options = parser.parse_args()
    counts = Counts(cold=3, warm=20) if options.quick else Counts(cold=20, warm=500)
    runtimes = options.runtime or ["process", "docker"]
    figures, skipped = asyncio.run(run(runtimes, counts))
    console = Console()
    console.print(_table(figures))
    for runtime, reason in skipped.items():
        console.print(f"[yellow]{runtime} skipped:[/yellow] {reason}")
    if options.out is not None:
        document = {"figures": [asdict(f) for f in figures], "skipped": skipped}
        options.out.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()

"""`python -m bench run`: every figure on every database asked for, as a table and as JSON."""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console

from bench.context import BenchError, Context
from bench.databases import Kind, postgres_unreachable
from bench.figures import actions, api, fanout, memory, pure
from bench.processes import ROOT, ProcessFailed, start_echo
from bench.report import Figure, print_table

Group = Callable[[Context], Awaitable[list[Figure]]]
#: The figure groups, in the order they run (`--only` picks some).
GROUPS: dict[str, Group] = {
    "pure": pure.measure,
    "action": actions.measure,
    "fanout": fanout.measure,
    "api": api.measure,
    "memory": memory.measure,
}
RESULTS = ROOT / "bench" / "results"


@dataclass(frozen=True)
class Options:
    stores: tuple[Kind, ...]
    groups: tuple[str, ...]
    quick: bool
    out: Path | None


async def run(options: Options, console: Console) -> Path:
    """Measure, print the table, write the JSON; returns where it was written."""
    started = datetime.now(UTC)
    before = machine()
    figures: list[Figure] = []
    skipped: list[dict[str, str]] = []
    failed: list[dict[str, str]] = []
    async with start_echo() as echo:
        for kind in options.stores:
            if kind == "postgres" and (why := await postgres_unreachable()):
                console.print(f"skipping PostgreSQL: {why}")
                skipped.append({"store": kind, "reason": why})
                continue
            context = Context(options.quick, kind, echo)
            for name in options.groups:
                console.print(f"[dim]{kind}: {name}…[/dim]")
                try:
                    figures += await GROUPS[name](context)
                except (BenchError, ProcessFailed) as error:
                    # One group failing (a process that died, a state never reached) spoils only its
                    # own figures: the run goes on and the JSON says what was missed.
                    console.print(f"[red]{kind}: {name} failed:[/red] {error}")
                    failed.append({"store": kind, "group": name, "error": str(error)})
    print_table(figures, console)
    document = {
        "started_at": started.isoformat(),
        "seconds": (datetime.now(UTC) - started).total_seconds(),
        "machine": {**before, "load_after": os.getloadavg()},
        "options": {"stores": options.stores, "only": options.groups, "quick": options.quick},
        "figures": [f.to_json() for f in figures],
        "skipped": skipped,
        "failed": failed,
    }
    path = options.out or RESULTS / f"{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
    console.print(f"written: {path}")
    if failed:
        raise BenchError(f"{len(failed)} group(s) failed; see above and `failed` in {path}")
    return path


def machine() -> dict[str, Any]:
    """What the numbers depend on: cores, Python, and how busy the machine was (load average)."""
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "load_before": os.getloadavg(),
    }

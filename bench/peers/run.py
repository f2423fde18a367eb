"""`python -m bench peers`: every peer on every storage asked for, a table with ratios, and JSON.

Comparisons: DBOS with Dirigent's embedded engine on the same database (both are libraries called in
process); Restate with Dirigent's server on SQLite (both are servers called over HTTP, each keeping
its data in local files). A ratio above 1 means Dirigent does better.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import orjson
from rich.console import Console
from rich.table import Table

from bench.databases import Kind, postgres_unreachable
from bench.peers.environment import PeerUnavailable
from bench.peers.runners import (
    PeerResult,
    dbos,
    dirigent_embedded,
    dirigent_server,
    restate,
)
from bench.processes import ProcessFailed, start_echo
from bench.run import RESULTS, machine


@dataclass(frozen=True)
class PeerOptions:
    stores: tuple[Kind, ...]
    quick: bool
    out: Path | None


async def _attempt(
    console: Console, name: str, storage: str, caller: str, run: Awaitable[PeerResult]
) -> PeerResult:
    """The result of `run`, or a row saying why the peer could not be measured."""
    console.print(f"[dim]{name} ({caller}, {storage})…[/dim]")
    try:
        return await run
    except (PeerUnavailable, ProcessFailed) as error:
        console.print(f"[yellow]{name} not measured:[/yellow] {error}")
        return PeerResult(name, storage, caller, error=str(error))


async def run_peers(options: PeerOptions, console: Console) -> Path:
    started = datetime.now(UTC)
    before = machine()
    runs = 5 if options.quick else 200
    total = 16 if options.quick else 800
    results: list[PeerResult] = []
    async with start_echo() as echo:
        for kind in options.stores:
            if kind == "postgres" and (why := await postgres_unreachable()):
                console.print(f"skipping PostgreSQL: {why}")
                continue
            results.append(
                await _attempt(
                    console,
                    "Dirigent",
                    kind,
                    "in process",
                    dirigent_embedded(echo, kind, runs, total),
                )
            )
            results.append(
                await _attempt(
                    console,
                    "Dirigent",
                    kind,
                    "HTTP",
                    dirigent_server(echo, kind, runs, total),
                )
            )
            if kind != "memory":
                dbos_result = await _attempt(
                    console,
                    "DBOS",
                    kind,
                    "in process",
                    dbos(echo, kind, runs, total),
                )
                results.append(replace(dbos_result, compare_with=f"Dirigent (in process, {kind})"))
        restate_result = await _attempt(
            console, "Restate", "its own (default)", "HTTP", restate(echo, runs, total)
        )
        results.append(replace(restate_result, compare_with="Dirigent (HTTP, sqlite)"))
    print_peers(results, console)
    document = {
        "started_at": started.isoformat(),
        "machine": {**before, "load_after": os.getloadavg()},
        "options": {"stores": options.stores, "quick": options.quick},
        "peers": [
            {
                **asdict(r),
                **dict(zip(("overhead_ratio", "rate_ratio"), ratios(r, results), strict=True)),
            }
            for r in results
        ],
    }
    path = options.out or RESULTS / f"peers-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
    console.print(f"written: {path}")
    return path


def ratios(result: PeerResult, results: list[PeerResult]) -> tuple[float | None, float | None]:
    """(peer's per-step p50 / Dirigent's, Dirigent's workflows/s / peer's): above 1, Dirigent wins."""
    mine = next((r for r in results if r.key == result.compare_with), None)
    if mine is None or result.error or mine.error:
        return None, None
    overhead = (
        result.step_p50_us / mine.step_p50_us if result.step_p50_us and mine.step_p50_us else None
    )
    rate = (
        mine.workflows_per_second / result.workflows_per_second
        if mine.workflows_per_second and result.workflows_per_second
        else None
    )
    return overhead, rate


def print_peers(results: list[PeerResult], console: Console) -> None:
    table = Table(header_style="bold")
    for column in ("peer", "caller", "storage", "step p50", "step p99", "workflows/s", "vs"):
        table.add_column(column, justify="right" if "step" in column or "/" in column else "left")
    table.add_column("overhead ratio", justify="right")
    table.add_column("rate ratio", justify="right")
    for result in results:
        if result.error:
            table.add_row(result.peer, result.caller, result.storage, "not measured: see above")
            continue
        overhead, rate = ratios(result, results)
        table.add_row(
            f"{result.peer} {result.version}".strip(),
            result.caller,
            result.storage,
            _us(result.step_p50_us),
            _us(result.step_p99_us),
            f"{result.workflows_per_second:,.0f}" if result.workflows_per_second else "—",
            result.compare_with or "",
            f"{overhead:.2f}" if overhead else "—",
            f"{rate:.2f}" if rate else "—",
        )
    console.print(table)


def _us(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value / 1000:.2f} ms" if value >= 1000 else f"{value:.0f} µs"

"""What a benchmark run found: figures (engine, floor, ratio, target), as a table and as JSON.

Every figure has the engine's measure and, where there is work to compare with, the floor's: the same
work done by a plain loop without the engine. `ratio` is engine cost over floor cost: p50 over p50 for
latencies, floor rate over engine rate for throughputs, RSS over RSS for memory; 1.0 means no overhead.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from rich.console import Console
from rich.table import Table

from bench.timing import p50_p99

Metric = Literal["p50_us", "p99_us", "per_second", "rss_mb", "ratio"]


@dataclass(frozen=True)
class Measure:
    """Latency percentiles (µs), a rate (per second), a resident set size (MB); each if measured."""

    p50_us: float | None = None
    p99_us: float | None = None
    per_second: float | None = None
    rss_mb: float | None = None
    samples: int = 0

    def get(self, metric: Metric) -> float | None:
        value: float | None = getattr(self, metric)
        return value


def latencies(samples_us: list[float], *, per_second: float | None = None) -> Measure:
    """p50 and p99 of `samples_us`, with a rate if given."""
    p50, p99 = p50_p99(samples_us)
    return Measure(p50, p99, per_second, samples=len(samples_us))


@dataclass(frozen=True)
class Bound:
    """One target: `metric` at most (`most=True`) or at least `limit`."""

    metric: Metric
    limit: float
    most: bool = True

    def met(self, value: float | None) -> bool | None:
        if value is None:
            return None
        return value <= self.limit if self.most else value >= self.limit

    def __str__(self) -> str:
        name = {"p50_us": "p50", "p99_us": "p99", "per_second": "rate", "rss_mb": "RSS"}
        unit = {"p50_us": " µs", "p99_us": " µs", "per_second": "/s", "rss_mb": " MB", "ratio": ""}
        sign = "≤" if self.most else "≥"
        return f"{name.get(self.metric, self.metric)} {sign} {self.limit:g}{unit[self.metric]}"


@dataclass(frozen=True)
class Figure:
    """One line of the table: `name` (e.g. `action.c16`) measured on `store`."""

    name: str
    store: str
    description: str
    engine: Measure
    floor: Measure | None = None
    targets: tuple[Bound, ...] = ()
    #: Anything else worth keeping in the JSON (function time subtracted, counts, per-instance bytes).
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.floor is None:
            return None
        for metric in ("p50_us", "rss_mb"):
            mine, base = self.engine.get(metric), self.floor.get(metric)
            if mine is not None and base:
                return mine / base
        if self.engine.per_second and self.floor.per_second:
            return self.floor.per_second / self.engine.per_second
        return None

    @property
    def met(self) -> bool | None:
        """Whether every target holds; None without targets (or without the values they need)."""
        verdicts = [
            t.met(self.ratio if t.metric == "ratio" else self.engine.get(t.metric))
            for t in self.targets
        ]
        if not verdicts or None in verdicts:
            return None
        return all(verdicts)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["targets"] = [str(t) for t in self.targets]
        data["ratio"] = self.ratio
        data["met"] = self.met
        return data


def _num(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    if unit == "µs" and value >= 1000:
        return f"{value / 1000:.2f} ms"
    if unit:
        return f"{value:,.1f} {unit}" if value < 100 else f"{value:,.0f} {unit}"
    return f"{value:,.0f}"


def _cell(measure: Measure | None) -> tuple[str, str, str]:
    if measure is None:
        return "—", "—", "—"
    if measure.rss_mb is not None:
        return _num(measure.rss_mb, "MB"), "", ""
    return _num(measure.p50_us, "µs"), _num(measure.p99_us, "µs"), _num(measure.per_second)


def print_table(figures: list[Figure], console: Console) -> None:
    """The figures as one table: engine p50/p99/rate, floor p50/rate, ratio, target and verdict."""
    table = Table(show_lines=False, header_style="bold")
    for column in ("figure", "store", "p50", "p99", "rate/s", "floor p50", "floor rate/s"):
        table.add_column(column, justify="left" if column in ("figure", "store") else "right")
    table.add_column("ratio", justify="right")
    table.add_column("target")
    for figure in figures:
        p50, p99, rate = _cell(figure.engine)
        floor_p50, _, floor_rate = _cell(figure.floor)
        ratio = "—" if figure.ratio is None else f"{figure.ratio:.2f}"
        verdict = {True: " ✓", False: " ✗", None: ""}[figure.met]
        target = ", ".join(str(t) for t in figure.targets) + verdict
        table.add_row(
            figure.name, figure.store, p50, p99, rate, floor_p50, floor_rate, ratio, target
        )
    console.print(table)

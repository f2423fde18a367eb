"""`python -m bench`: a quick run writes the JSON the docs describe; bad options are one clear line.

Times are never asserted: the machine is shared, and targets are for the benchmark, not for tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.processes import CallLog
from bench.report import Bound, Figure, Measure

ROOT = Path(__file__).resolve().parents[2]


def bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )


def test_quick_run_writes_every_field(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    done = bench("run", "--quick", "--only", "pure", "--store", "sqlite", "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"written: {out}" in done.stdout.replace("\n", "")
    result = json.loads(out.read_text())
    assert result["options"] == {"stores": ["sqlite"], "only": ["pure"], "quick": True}
    assert set(result["machine"]) >= {"cpus", "python", "load_before", "load_after"}
    assert result["skipped"] == []
    assert result["failed"] == []
    figures = {f["name"]: f for f in result["figures"]}
    assert set(figures) == {"pure.noop", "pure.switch", "pure.transform"}
    for figure in figures.values():
        assert figure["store"] == "sqlite"
        assert figure["description"]
        assert set(figure["engine"]) == {"p50_us", "p99_us", "per_second", "rss_mb", "samples"}
        assert isinstance(figure["engine"]["p50_us"], float)
        assert figure["engine"]["samples"] == 3
        assert figure["targets"] == ["p50 ≤ 50 µs"]
        assert figure["met"] in (True, False)
        assert figure["extra"]["states"] == 50
    assert figures["pure.noop"]["floor"] is None
    assert figures["pure.noop"]["ratio"] is None
    for name in ("pure.switch", "pure.transform"):
        assert isinstance(figures[name]["floor"]["p50_us"], float)
        assert isinstance(figures[name]["ratio"], float)


def test_unknown_group_is_one_clear_line() -> None:
    done = bench("run", "--only", "everything")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "invalid choice: 'everything'" in done.stderr


def test_state_gaps_are_per_lane_less_the_function_time() -> None:
    log = CallLog(
        lanes=["a", "b", "a", None, "b", "a"],
        arrivals=[1_000_000, 1_100_000, 2_000_000, 2_500_000, 2_100_000, 3_500_000],
        durations=[10_000, 20_000, 30_000, 40_000, 50_000, 60_000],
        in_flight=0,
    )
    assert sorted(log.state_gaps_us()) == [980.0, 990.0, 1470.0]
    assert log.mean_function_us() == 35.0


def test_ratio_and_targets() -> None:
    latency = Figure(
        "action.c1",
        "sqlite",
        "one action state",
        engine=Measure(p50_us=900, p99_us=2000),
        floor=Measure(p50_us=450, p99_us=900),
        targets=(Bound("p50_us", 1000), Bound("ratio", 1.5)),
    )
    assert latency.ratio == 2.0
    assert latency.met is False
    rate = Figure(
        "action.c16",
        "sqlite",
        "rate",
        engine=Measure(per_second=2500),
        floor=Measure(per_second=5000),
        targets=(Bound("per_second", 2000, most=False),),
    )
    assert rate.ratio == 2.0
    assert rate.met is True
    assert Figure("x", "sqlite", "no floor", engine=Measure(rss_mb=90)).met is None

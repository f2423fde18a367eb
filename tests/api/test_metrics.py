"""Metrics: `GET /metrics` (Prometheus text) and the per-state figures of the workflow metrics route,
against real server processes; the exposition format and the state timing in-process."""

from __future__ import annotations

import math
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from dirigent.engine import CallFunction, Instance, SetTimer, Start, TimerFired, advance
from dirigent.errors import WorkflowError
from dirigent.operations.metrics import (
    BUCKETS,
    Histogram,
    Metrics,
    escape_help,
    escape_label_value,
    format_value,
)
from dirigent.spec import load_workflow
from tests.api.support import ROOT, RunningServer, is_timestamp, push, start_server
from tests.engine.harness import open_harness
from tests.fixtures.functions.runner import FUNCTIONS_DIR, free_port

HELLO = (ROOT / "examples" / "hello" / "hello.yaml").read_text()

# A small parser of the text exposition format (0.0.4), strict enough to catch malformed output.

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), value)


@dataclass
class Scrape:
    """What one scrape said: HELP and TYPE by family, and every sample."""

    helps: dict[str, str] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    samples: list[tuple[str, dict[str, str], float]] = field(default_factory=list)

    def value(self, name: str, **labels: str) -> float | None:
        """The value of the one sample of `name` with exactly `labels`; None if there is none."""
        found = [v for n, ls, v in self.samples if n == name and ls == labels]
        assert len(found) <= 1, (name, labels)
        return found[0] if found else None

    def series(self, name: str, **labels: str) -> list[tuple[dict[str, str], float]]:
        """Samples of `name` whose labels include `labels`."""
        return [
            (ls, v)
            for n, ls, v in self.samples
            if n == name and all(ls.get(k) == w for k, w in labels.items())
        ]


def parse(text: str) -> Scrape:
    scrape = Scrape()
    assert text.endswith("\n")
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, _, help_text = line[len("# HELP ") :].partition(" ")
            scrape.helps[name] = help_text
        elif line.startswith("# TYPE "):
            name, _, kind = line[len("# TYPE ") :].partition(" ")
            assert kind in ("counter", "gauge", "histogram"), line
            assert name in scrape.helps, f"TYPE before HELP: {line}"
            scrape.types[name] = kind
        else:
            match = _SAMPLE.match(line)
            assert match, f"not a sample line: {line!r}"
            name, _, body, raw = match.groups()
            labels: dict[str, str] = {}
            if body:
                position = 0
                for label in _LABEL.finditer(body):
                    assert label.start() == position, f"bad labels in {line!r}"
                    labels[label.group(1)] = _unescape(label.group(2))
                    position = label.end()
                assert position == len(body), f"bad labels in {line!r}"
            family = re.sub(r"_(bucket|sum|count)$", "", name)
            assert name in scrape.types or family in scrape.types, f"no TYPE for {name}"
            scrape.samples.append((name, labels, float(raw)))
    return scrape


def check_histograms(scrape: Scrape, family: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Every series of the histogram `family` is consistent; returns its counts by label set."""
    assert scrape.types[family] == "histogram"
    counts: dict[tuple[tuple[str, str], ...], float] = {}
    buckets: dict[tuple[tuple[str, str], ...], list[tuple[float, float]]] = {}
    for labels, value in scrape.series(f"{family}_bucket"):
        rest = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
        buckets.setdefault(rest, []).append((float(labels["le"]), value))
    for labels, value in scrape.series(f"{family}_count"):
        counts[tuple(sorted(labels.items()))] = value
    assert set(buckets) == set(counts)
    for key, found in buckets.items():
        bounds = [b for b, _ in found]
        assert bounds == [*BUCKETS, math.inf]
        cumulative = [c for _, c in found]
        assert cumulative == sorted(cumulative), found
        assert cumulative[-1] == counts[key]
        assert scrape.value(f"{family}_sum", **dict(key)) is not None
    return counts


def scrape_metrics(client: httpx.Client) -> Scrape:
    answer = client.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    return parse(answer.text)


def execute(client: httpx.Client, ns: str, workflow: str, body: bytes) -> httpx.Response:
    answer = client.post(
        f"/api/namespaces/{ns}/workflows/{workflow}/execute", params={"wait": "true"}, content=body
    )
    assert answer.status_code == 200, answer.text
    return answer


# Against the shared server (each database)


def test_metrics_count_runs_of_hello(client: httpx.Client, ns: str) -> None:
    push(client, ns, HELLO)
    for name in ("world", "Ada", "Grace"):
        execute(client, ns, "hello", b'{"name": "%s"}' % name.encode())
    failed = execute(client, ns, "hello", b"{}")
    assert failed.headers["Direktiv-ErrorCode"] == "hello.input"

    scrape = scrape_metrics(client)
    mine = {"namespace": ns, "workflow": "hello"}
    assert scrape.types["dirigent_instances_started_total"] == "counter"
    assert scrape.value("dirigent_instances_started_total", **mine) == 4
    finished = {
        (ls["status"], ls["error_code"]): v
        for ls, v in scrape.series("dirigent_instances_finished_total", **mine)
    }
    assert finished == {("complete", ""): 3, ("failed", "hello.input"): 1}

    counts = check_histograms(scrape, "dirigent_state_duration_seconds")
    labels = [(dict(k), v) for k, v in counts.items()]
    states = {ls["state"]: (ls["type"], v) for ls, v in labels if ls["namespace"] == ns}
    assert states == {
        "check": ("validate", 4),
        "count": ("getter", 3),
        "remember": ("setter", 3),
        "greet": ("switch", 3),
        "complain": ("error", 1),
    }
    errors = scrape.series("dirigent_state_errors_total", **mine)
    assert errors == [({**mine, "state": "complain", "error_code": "hello.input"}, 1)]
    check_histograms(scrape, "dirigent_function_call_duration_seconds")
    assert scrape.series("dirigent_function_call_duration_seconds_count", **mine) == []
    for gauge in ("dirigent_instances_held", "dirigent_queue_depth", "dirigent_calls_in_flight"):
        assert scrape.types[gauge] == "gauge"
        assert scrape.value(gauge) is not None

    route = client.get(f"/api/namespaces/{ns}/workflows/hello/metrics").json()
    assert route["totalInstancesRun"] == 4
    assert route["successfulExecutions"] == 3
    assert route["failedExecutions"] == 1
    assert route["errorCodes"] == {"hello.input": 1}
    assert is_timestamp(route["statesSince"])
    by_name = {s["name"]: s for s in route["states"]}
    assert [s["name"] for s in route["states"]] == [
        "check",
        "count",
        "remember",
        "greet",
        "complain",
    ]
    assert {n: s["totalExecutions"] for n, s in by_name.items()} == {
        n: c for n, (_, c) in states.items()
    }
    assert by_name["check"]["type"] == "validate"
    assert by_name["check"]["totalFailures"] == 0
    assert by_name["check"]["successRate"] == 1
    complain = by_name["complain"]
    assert complain["totalFailures"] == 1
    assert complain["totalSuccesses"] == 0
    assert complain["failureRate"] == 1
    assert complain["unhandledErrors"] == {"hello.input": 1}
    assert complain["unhandledErrorsRepresentation"] == {"hello.input": 1.0}
    assert set(complain) == {
        "name",
        "type",
        "totalExecutions",
        "totalMilliseconds",
        "meanMilliseconds",
        "totalSuccesses",
        "totalFailures",
        "successRate",
        "failureRate",
        "unhandledErrors",
        "unhandledErrorsRepresentation",
    }
    # `since` filters the stored counts; the per-state figures are this server's since its start.
    later = client.get(
        f"/api/namespaces/{ns}/workflows/hello/metrics", params={"since": "2999-01-01T00:00:00Z"}
    ).json()
    assert later["totalInstancesRun"] == 0
    assert len(later["states"]) == 5


def test_deleting_forgets_the_figures(client: httpx.Client, ns: str) -> None:
    push(client, ns, HELLO)
    execute(client, ns, "hello", b'{"name": "x"}')
    assert scrape_metrics(client).series("dirigent_instances_started_total", namespace=ns)
    assert client.delete(f"/api/namespaces/{ns}/workflows/hello").status_code == 200
    assert scrape_metrics(client).series("dirigent_instances_started_total", namespace=ns) == []
    push(client, ns, HELLO)
    assert client.get(f"/api/namespaces/{ns}/workflows/hello/metrics").json()["states"] == []


def test_metrics_route_is_in_openapi_and_not_under_api(client: httpx.Client) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    content = paths["/metrics"]["get"]["responses"]["200"]["content"]
    assert "text/plain; version=0.0.4" in content
    assert client.get("/api/metrics").status_code == 404


# A server of its own, with a function to call


@pytest.fixture(scope="module")
def fail_function() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(FUNCTIONS_DIR / "fail.py"), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.05)  # a real process: polling until it listens is the only way
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def calling(
    tmp_path_factory: pytest.TempPathFactory, fail_function: str
) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("metrics"), "--service", f"fail={fail_function}")
    try:
        yield running
    finally:
        running.stop()


CALLER = """\
id: caller
functions:
  - id: fail
    image: test/fail
  - id: child
    type: subflow
    workflow: hello
states:
  - id: call
    type: action
    action:
      function: fail
      input: 'jq(.)'
    transition: greet
  - id: greet
    type: action
    action:
      function: child
      input: 'jq({name: "sub"})'
"""


def test_function_calls_and_subflows(calling: RunningServer) -> None:
    with httpx.Client(base_url=calling.url, timeout=30) as client:
        assert client.post("/api/namespaces/calls").status_code == 200
        push(client, "calls", HELLO)
        push(client, "calls", CALLER)
        execute(client, "calls", "caller", b'{"mode": "empty"}')
        failed = execute(client, "calls", "caller", b'{"mode": "code", "code": "my.code"}')
        assert failed.headers["Direktiv-ErrorCode"] == "my.code"
        scrape = scrape_metrics(client)
        mine = {"namespace": "calls", "workflow": "caller"}
        calls = check_histograms(scrape, "dirigent_function_call_duration_seconds")
        assert calls == {
            tuple(sorted({**mine, "function": "fail", "outcome": o, "error_code": c}.items())): 1
            for o, c in (("success", ""), ("failure", "my.code"))
        }
        # The subflow's instance counts as started too.
        assert scrape.value("dirigent_instances_started_total", **mine) == 2
        assert (
            scrape.value("dirigent_instances_started_total", namespace="calls", workflow="hello")
            == 1
        )
        finished = scrape.series("dirigent_instances_finished_total", namespace="calls")
        assert {(ls["workflow"], ls["status"], ls["error_code"]): v for ls, v in finished} == {
            ("caller", "complete", ""): 1,
            ("caller", "failed", "my.code"): 1,
            ("hello", "complete", ""): 1,
        }
        states = check_histograms(scrape, "dirigent_state_duration_seconds")
        action = tuple(sorted({**mine, "state": "call", "type": "action"}.items()))
        assert states[action] == 2
        assert scrape.value("dirigent_state_duration_seconds_sum", **dict(action)) > 0
        assert scrape.series("dirigent_state_errors_total", **mine) == [
            ({**mine, "state": "call", "error_code": "my.code"}, 1)
        ]
        assert scrape.value("dirigent_calls_in_flight") == 0
        assert scrape.value("dirigent_instances_held") == 0
        assert scrape.value("dirigent_queue_depth") == 0


# The exposition format


def test_label_values_and_help_are_escaped() -> None:
    assert escape_label_value('a\\b"c\nd') == 'a\\\\b\\"c\\nd'
    assert escape_help("one\\two\nthree") == "one\\\\two\\nthree"
    metrics = Metrics()
    metrics.instance_started('we"ird\\ns\n', "wf")
    text = metrics.render_prometheus()
    line = 'dirigent_instances_started_total{namespace="we\\"ird\\\\ns\\n",workflow="wf"} 1\n'
    assert line in text
    assert (
        parse(text).value(
            "dirigent_instances_started_total", namespace='we"ird\\ns\n', workflow="wf"
        )
        == 1
    )


def test_values() -> None:
    assert format_value(3) == "3"
    assert format_value(0.25) == "0.25"
    assert format_value(1.0) == "1.0"
    assert format_value(math.inf) == "+Inf"
    assert format_value(-math.inf) == "-Inf"
    assert format_value(math.nan) == "NaN"


def test_histogram_buckets() -> None:
    histogram = Histogram((0.1, 1.0))
    for value in (0.05, 0.1, 0.5, 1.0, 7.0):
        histogram.observe(("x",), value)
    series = histogram.series[("x",)]
    assert series.counts == [2, 2, 1]  # a value equal to a bound falls in that bucket
    assert series.cumulative() == [2, 4, 5]
    assert series.count == 5
    assert series.sum == pytest.approx(8.65)

    metrics = Metrics((0.1, 1.0))
    metrics.states.observe(("ns", "wf", "s", "noop"), 0.5)
    metrics.states.observe(("ns", "wf", "s", "noop"), 2.0)
    text = metrics.render_prometheus()
    labels = 'namespace="ns",workflow="wf",state="s",type="noop"'
    expected = (
        "# HELP dirigent_state_duration_seconds Time from entering a state to leaving it, as seen"
        " by this server.\n"
        "# TYPE dirigent_state_duration_seconds histogram\n"
        f'dirigent_state_duration_seconds_bucket{{{labels},le="0.1"}} 0\n'
        f'dirigent_state_duration_seconds_bucket{{{labels},le="1.0"}} 1\n'
        f'dirigent_state_duration_seconds_bucket{{{labels},le="+Inf"}} 2\n'
        f"dirigent_state_duration_seconds_sum{{{labels}}} 2.5\n"
        f"dirigent_state_duration_seconds_count{{{labels}}} 2\n"
    )
    assert expected in text


def test_every_family_has_help_and_type_even_without_samples() -> None:
    scrape = parse(Metrics().render_prometheus())
    assert scrape.types == {
        "dirigent_instances_started_total": "counter",
        "dirigent_instances_finished_total": "counter",
        "dirigent_state_duration_seconds": "histogram",
        "dirigent_state_errors_total": "counter",
        "dirigent_function_call_duration_seconds": "histogram",
        "dirigent_instances_held": "gauge",
        "dirigent_queue_depth": "gauge",
        "dirigent_calls_in_flight": "gauge",
    }
    assert scrape.samples == [
        ("dirigent_instances_held", {}, 0),
        ("dirigent_queue_depth", {}, 0),
        ("dirigent_calls_in_flight", {}, 0),
    ]
    metrics = Metrics()
    metrics.bind(lambda: (3, 5, 7))
    gauges = parse(metrics.render_prometheus())
    assert gauges.value("dirigent_queue_depth") == 5
    assert gauges.value("dirigent_calls_in_flight") == 7


# State and call timing, in-process


STEPS = """\
id: steps
states:
  - id: a
    type: noop
    transition: b
  - id: b
    type: delay
    duration: PT5S
    transition: c
  - id: c
    type: error
    error: c.failed
    message: done
"""


def _instance(definition_id: str) -> Instance:
    t0 = datetime(2030, 1, 1, tzinfo=UTC)
    return Instance(f"ns/{definition_id}/1", "ns", definition_id, 0, {}, {}, t0)


def test_states_are_timed_between_steps() -> None:
    definition = load_workflow(STEPS)
    instance = _instance("steps")
    t0 = instance.created_at
    metrics = Metrics()
    first = advance(definition, instance, Start(), t0)
    metrics.committed(instance, definition, first, (), t0)
    timer = next(e.timer_id for e in first if isinstance(e, SetTimer) and "delay" in e.timer_id)
    t1 = t0 + timedelta(seconds=5)
    second = advance(definition, instance, TimerFired(timer), t1)
    metrics.committed(instance, definition, second, (), t1)
    figures = {s.name: s for s in metrics.states_of("ns", "steps")}
    assert {n: (s.type, s.executions, s.seconds) for n, s in figures.items()} == {
        "a": ("noop", 1, 0.0),
        "b": ("delay", 1, 5.0),
        "c": ("error", 1, 0.0),
    }
    assert figures["c"].errors == {"c.failed": 1}
    assert metrics.finished == {("ns", "steps", "failed", "c.failed"): 1}
    # A step that changes nothing (a stale timer) counts nothing.
    metrics.committed(instance, definition, [], (), t1)
    assert metrics.states.series[("ns", "steps", "b", "delay")].count == 1


def test_a_state_entered_elsewhere_is_not_timed() -> None:
    definition = load_workflow(STEPS)
    instance = _instance("steps")
    t0 = instance.created_at
    first = advance(definition, instance, Start(), t0)
    timer = next(e.timer_id for e in first if isinstance(e, SetTimer) and "delay" in e.timer_id)
    metrics = Metrics()  # this server takes the instance over after its first step
    second = advance(definition, instance, TimerFired(timer), t0 + timedelta(seconds=5))
    metrics.committed(instance, definition, second, (), t0 + timedelta(seconds=5))
    assert [s.name for s in metrics.states_of("ns", "steps")] == ["c"]
    assert sum(metrics.finished.values()) == 1


def test_calls_are_timed_by_function_and_outcome() -> None:
    now = [100.0]
    metrics = Metrics(monotonic=lambda: now[0])
    definition = load_workflow(
        "id: act\nfunctions:\n  - id: f\n    image: x\nstates:\n"
        "  - id: s\n    type: action\n    action:\n      function: f\n"
    )
    instance = _instance("act")
    effects = advance(definition, instance, Start(), instance.created_at)
    call = next(e for e in effects if isinstance(e, CallFunction))
    metrics.call_started(call.action_id)
    now[0] += 0.75
    metrics.call_ended(instance, call, None)
    metrics.call_started(call.action_id)
    now[0] += 2.0
    metrics.call_ended(instance, call, WorkflowError("f.bad", "no"))
    metrics.call_ended(instance, call, None)  # never started (or counted already): not a call
    series = metrics.calls.series
    assert series[("ns", "act", "f", "success", "")].sum == 0.75
    assert series[("ns", "act", "f", "failure", "f.bad")].sum == 2.0
    assert sum(s.count for s in series.values()) == 2


async def test_the_runtime_reports_to_its_metrics() -> None:
    parent = """\
id: parent
functions:
  - id: sub
    type: subflow
    workflow: steps
states:
  - id: run
    type: action
    action:
      function: sub
"""
    async with open_harness(STEPS, parent) as h:
        instance = await h.run("parent")
        assert instance.error is not None
        metrics = h.runtime.metrics
        assert dict(metrics.started) == {("local", "parent"): 1, ("local", "steps"): 1}
        assert dict(metrics.finished) == {
            ("local", "steps", "failed", "c.failed"): 1,
            ("local", "parent", "failed", "c.failed"): 1,
        }
        delay = metrics.states.series[("local", "steps", "b", "delay")]
        assert (delay.count, delay.sum) == (1, 5.0)  # the fake clock's five seconds
        assert metrics.gauges() == (0, 0, 0)

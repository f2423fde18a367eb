"""What one server process has seen, in memory: counters, histograms and gauges for Prometheus
(`GET /metrics`), and the per-state figures of the workflow metrics route.

The runtime reports each event with one call (an instance started, a step committed, a function call
begun and ended); every report is a few dict updates, without locks (one event loop). Nothing is
stored: a restarted server starts from zero, and each server of a cluster counts what it ran itself.

State durations are measured between steps: a state ends when a later step enters another state (or
re-enters it) or ends the instance, and lasted from the step that entered it. States entered and
left within one step of the interpreter (pure states: noop, switch, validate, …) took no time the
runtime can see and count with 0 s. A state entered while another server held the instance is not
timed (its entry time is unknown here).
"""

from __future__ import annotations

import math
import time
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from dirigent.engine import CallFunction, Entered, Finished, Instance
from dirigent.engine.effects import Effect
from dirigent.errors import WorkflowError
from dirigent.spec import WorkflowDefinition

#: Upper bounds (seconds) of the histogram buckets, from 1 ms to a minute; `+Inf` is added.
BUCKETS: tuple[float, ...] = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
)

#: The media type of `render_prometheus` (the text exposition format 0.0.4).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

#: At most this many instances' current states (or calls' start times) are remembered; the oldest
#: go first (instances that moved to another server and never come back).
MAX_TRACKED = 100_000

#: What the runtime tells at scrape time: instances held (actors), triggers queued in them, and
#: function calls in flight.
Gauges = Callable[[], tuple[int, int, int]]


class _Named(Protocol):
    @property
    def namespace(self) -> str: ...

    @property
    def workflow(self) -> str: ...


@dataclass(slots=True)
class Series:
    """One histogram series: counts per bucket (not cumulative; the last is `+Inf`), sum, count."""

    counts: list[int]
    sum: float = 0.0
    count: int = 0

    def cumulative(self) -> list[int]:
        total = 0
        out = []
        for n in self.counts:
            total += n
            out.append(total)
        return out


class Histogram:
    """Observations by label values in fixed buckets (a value equal to a bound falls in it)."""

    __slots__ = ("buckets", "series")

    def __init__(self, buckets: Sequence[float] = BUCKETS) -> None:
        self.buckets = tuple(sorted(buckets))
        self.series: dict[tuple[str, ...], Series] = {}

    def observe(self, labels: tuple[str, ...], value: float) -> None:
        series = self.series.get(labels)
        if series is None:
            series = self.series[labels] = Series([0] * (len(self.buckets) + 1))
        series.counts[bisect_left(self.buckets, value)] += 1
        series.sum += value
        series.count += 1


@dataclass(frozen=True, slots=True)
class StateFigures:
    """What this server saw of one state of a workflow: executions timed, their total time, and the
    errors that ended instances in it (by code)."""

    name: str
    type: str
    executions: int
    seconds: float
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def failures(self) -> int:
        return sum(self.errors.values())


@dataclass(slots=True)
class _Entered:
    visit: int
    state: str
    type: str
    at: datetime


class Metrics:
    """The metrics of one server process. See the module's description for what is counted."""

    def __init__(
        self,
        buckets: Sequence[float] = BUCKETS,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        #: When counting began (the per-state figures cover the time since).
        self.since = datetime.now(UTC)
        self.started: Counter[tuple[str, str]] = Counter()  # namespace, workflow
        self.finished: Counter[tuple[str, str, str, str]] = Counter()  # + status, error code
        self.states = Histogram(buckets)  # namespace, workflow, state, type
        self.state_errors: Counter[tuple[str, str, str, str]] = Counter()  # + state, error code
        self.calls = Histogram(buckets)  # namespace, workflow, function, outcome, error code
        self._monotonic = monotonic
        self._entered: dict[str, _Entered] = {}
        self._call_starts: dict[str, float] = {}
        self._gauges: Gauges | None = None

    # Reports

    def bind(self, gauges: Gauges) -> None:
        """Read the gauges from `gauges` at scrape time."""
        self._gauges = gauges

    def instance_started(self, namespace: str, workflow: str) -> None:
        self.started[(namespace, workflow)] += 1

    def committed(
        self,
        instance: Instance,
        definition: WorkflowDefinition,
        effects: Iterable[Effect],
        children: Iterable[_Named],
        now: datetime,
    ) -> None:
        """A step of `instance` (taken at `now`, with `effects`) is stored, with the child instances
        it created: count the children, time the states left, and count the end if it ended."""
        for child in children:
            self.started[(child.namespace, child.workflow)] += 1
        entered: list[str] = []
        finished = False
        for effect in effects:
            if isinstance(effect, Entered):
                entered.append(effect.state)
            elif isinstance(effect, Finished):
                finished = True
        if not entered and not finished:
            return  # still in the same state
        namespace, workflow = instance.namespace, instance.workflow
        left: list[tuple[str, str, float]] = []
        previous = self._entered.pop(instance.id, None)
        # Valid only if the instance was in that very visit when the step began (another server may
        # have moved it on meanwhile).
        if previous is not None and previous.visit == instance.visit - len(entered):
            left.append((previous.state, previous.type, (now - previous.at).total_seconds()))
        last = len(entered) - 1
        for index, state in enumerate(entered):
            kind = _type_of(definition, state)
            if index == last and not finished and instance.state == state:
                self._remember(instance.id, _Entered(instance.visit, state, kind, now))
            else:
                left.append((state, kind, 0.0))
        for state, kind, seconds in left:
            self.states.observe((namespace, workflow, state, kind), max(seconds, 0.0))
        if finished:
            error = instance.error
            code = error.code if error is not None else ""
            self.finished[(namespace, workflow, instance.status.value, code)] += 1
            if error is not None and left and left[-1][0] == instance.state:
                self.state_errors[(namespace, workflow, left[-1][0], code)] += 1

    def call_started(self, action_id: str) -> None:
        """A function call under `action_id` goes out now."""
        if len(self._call_starts) >= MAX_TRACKED:
            del self._call_starts[next(iter(self._call_starts))]
        self._call_starts[action_id] = self._monotonic()

    def call_ended(
        self, instance: Instance, effect: CallFunction, error: WorkflowError | None
    ) -> None:
        """The call of `effect` answered (`error` None) or failed. A call that never went out (its
        input or secrets failed first) is not a call and is not counted."""
        started = self._call_starts.pop(effect.action_id, None)
        if started is None:
            return
        outcome, code = ("success", "") if error is None else ("failure", error.code)
        labels = (instance.namespace, instance.workflow, effect.function.id, outcome, code)
        self.calls.observe(labels, max(self._monotonic() - started, 0.0))

    def forget(self, namespace: str, workflow: str | None = None) -> None:
        """Drop every figure of a deleted namespace (or of one workflow of it)."""

        def gone(key: tuple[str, ...]) -> bool:
            return key[0] == namespace and (workflow is None or key[1] == workflow)

        for mapping in (
            self.started,
            self.finished,
            self.state_errors,
            self.states.series,
            self.calls.series,
        ):
            _drop(mapping, gone)
        prefix = f"{namespace}/" if workflow is None else f"{namespace}/{workflow}/"
        for instance_id in [i for i in self._entered if i.startswith(prefix)]:
            del self._entered[instance_id]

    def _remember(self, instance_id: str, entered: _Entered) -> None:
        if len(self._entered) >= MAX_TRACKED:
            del self._entered[next(iter(self._entered))]
        self._entered[instance_id] = entered

    # Reading

    def gauges(self) -> tuple[int, int, int]:
        """Instances held, triggers queued, calls in flight (zeros when nothing is bound)."""
        return self._gauges() if self._gauges is not None else (0, 0, 0)

    def states_of(self, namespace: str, workflow: str) -> list[StateFigures]:
        """The workflow's states as seen here, in the order they were first seen."""
        errors: dict[str, dict[str, int]] = {}
        for (ns, wf, state, code), count in self.state_errors.items():
            if ns == namespace and wf == workflow:
                errors.setdefault(state, {})[code] = count
        figures = []
        for (ns, wf, state, kind), series in self.states.series.items():
            if ns == namespace and wf == workflow:
                figures.append(
                    StateFigures(state, kind, series.count, series.sum, errors.get(state, {}))
                )
        return figures

    def render_prometheus(self) -> str:
        """Every metric in the Prometheus text exposition format (0.0.4)."""
        out: list[str] = []
        _family(
            out,
            "dirigent_instances_started_total",
            "counter",
            "Instances created by this server (started through it, and subflows).",
            ("namespace", "workflow"),
            sorted(self.started.items()),
        )
        _family(
            out,
            "dirigent_instances_finished_total",
            "counter",
            "Instances that ended on this server, by status and error code ('' without an error).",
            ("namespace", "workflow", "status", "error_code"),
            sorted(self.finished.items()),
        )
        _histogram(
            out,
            "dirigent_state_duration_seconds",
            "Time from entering a state to leaving it, as seen by this server.",
            ("namespace", "workflow", "state", "type"),
            self.states,
        )
        _family(
            out,
            "dirigent_state_errors_total",
            "counter",
            "Instances that ended with an error in a state, by error code.",
            ("namespace", "workflow", "state", "error_code"),
            sorted(self.state_errors.items()),
        )
        _histogram(
            out,
            "dirigent_function_call_duration_seconds",
            "Function calls made by this server, by outcome (success or failure) and error code.",
            ("namespace", "workflow", "function", "outcome", "error_code"),
            self.calls,
        )
        held, queued, calls = self.gauges()
        gauges = (
            ("dirigent_instances_held", "Instances this server works on now (in memory).", held),
            ("dirigent_queue_depth", "Triggers queued in this server's instances.", queued),
            ("dirigent_calls_in_flight", "Function calls this server runs now.", calls),
        )
        for name, text, value in gauges:
            _family(out, name, "gauge", text, (), [((), value)])
        return "".join(out)


def _drop(mapping: MutableMapping[Any, Any], gone: Callable[[tuple[str, ...]], bool]) -> None:
    for key in [k for k in mapping if gone(k)]:
        del mapping[key]


def _type_of(definition: WorkflowDefinition, state: str) -> str:
    found = definition.states.get(state)
    return found.type if found is not None else ""


# The text exposition format


def escape_label_value(value: str) -> str:
    """A label value for inside double quotes: backslash, double quote and newline escaped."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def escape_help(text: str) -> str:
    """A HELP text: backslash and newline escaped."""
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def format_value(value: float) -> str:
    """A sample value: integers as such, floats shortest-exact, `+Inf`, `-Inf`, `NaN`."""
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value)


def _labels(names: Sequence[str], values: Sequence[str]) -> str:
    if not names:
        return ""
    pairs = ",".join(f'{n}="{escape_label_value(v)}"' for n, v in zip(names, values, strict=True))
    return "{" + pairs + "}"


def _header(out: list[str], name: str, kind: str, text: str) -> None:
    out.append(f"# HELP {name} {escape_help(text)}\n# TYPE {name} {kind}\n")


def _family(
    out: list[str],
    name: str,
    kind: str,
    text: str,
    names: Sequence[str],
    samples: Iterable[tuple[tuple[str, ...], float]],
) -> None:
    _header(out, name, kind, text)
    for values, value in samples:
        out.append(f"{name}{_labels(names, values)} {format_value(value)}\n")


def _histogram(
    out: list[str], name: str, text: str, names: Sequence[str], histogram: Histogram
) -> None:
    _header(out, name, "histogram", text)
    bounds = [format_value(float(b)) for b in histogram.buckets] + ["+Inf"]
    bucket_names = (*names, "le")
    for values, series in sorted(histogram.series.items()):
        for bound, count in zip(bounds, series.cumulative(), strict=True):
            out.append(f"{name}_bucket{_labels(bucket_names, (*values, bound))} {count}\n")
        labels = _labels(names, values)
        out.append(f"{name}_sum{labels} {format_value(series.sum)}\n")
        out.append(f"{name}_count{labels} {series.count}\n")

"""The JSON shapes of the routes the web UI adds: problems of a draft, a workflow's graph drawn in
rows, and the states an instance went through."""

from __future__ import annotations

import orjson
from pydantic import Field

from dirigent.api.shapes import Shape, Timestamp, b64
from dirigent.engine import Instance
from dirigent.errors import WorkflowError
from dirigent.operations.inspection import InstanceHistory, LintResult
from dirigent.spec import Problem
from dirigent.ui.layout import Drawing
from dirigent.ui.visits import Data, Visit, instance_visits


class ProblemOut(Shape):
    """One finding of the load-time checks; `line` and `column` are 1-based (null when unknown)."""

    line: int | None
    column: int | None
    path: str = Field(description="Where in the language's terms, e.g. states[2].transition")
    message: str
    severity: str = Field(description="error or warning")

    @classmethod
    def of(cls, problem: Problem) -> ProblemOut:
        return cls(
            line=problem.line,
            column=problem.column,
            path=problem.path,
            message=problem.message,
            severity=problem.severity,
        )


class NodeOut(Shape):
    id: str
    type: str
    start: bool = Field(description="The instance begins in this state")
    end: bool = Field(description="The instance can complete right after this state")
    x: float = Field(description="Left edge")
    y: float = Field(description="Top edge")
    width: float
    height: float
    row: int


class EdgeOut(Shape):
    source: str
    target: str
    kind: str = Field(description="transition, condition, default, event or catch")
    label: str = Field(description="The condition, event type or error glob; '' for a transition")
    back: bool = Field(description="The edge goes up: it closes a loop")
    points: list[tuple[float, float]] = Field(description="The line, from source to target")


class GraphOut(Shape):
    """A workflow drawn in rows: one node per state, one edge per way between states."""

    nodes: list[NodeOut]
    edges: list[EdgeOut]
    width: float
    height: float

    @classmethod
    def of(cls, drawing: Drawing) -> GraphOut:
        return cls(
            nodes=[
                NodeOut(
                    id=p.node.id,
                    type=p.node.type,
                    start=p.node.start,
                    end=p.node.end,
                    x=round(p.x, 1),
                    y=round(p.y, 1),
                    width=round(p.width, 1),
                    height=p.height,
                    row=p.row,
                )
                for p in drawing.nodes
            ],
            edges=[
                EdgeOut(
                    source=r.edge.source,
                    target=r.edge.target,
                    kind=r.edge.kind,
                    label=r.edge.label,
                    back=r.back,
                    points=[(round(x, 1), round(y, 1)) for x, y in r.points],
                )
                for r in drawing.edges
            ],
            width=round(drawing.width, 1),
            height=round(drawing.height, 1),
        )


class LintOut(Shape):
    """The checks of a draft: `valid` when it would be accepted (warnings do not stop it)."""

    valid: bool
    id: str | None = Field(description="The workflow id, when the draft loads")
    problems: list[ProblemOut] = Field(description="Errors first, then warnings, by line")
    graph: GraphOut | None = Field(description="The draft's graph, when it loads")

    @classmethod
    def of(cls, result: LintResult, graph: GraphOut | None) -> LintOut:
        return cls(
            valid=result.definition is not None,
            id=result.definition.id if result.definition else None,
            problems=[ProblemOut.of(p) for p in result.problems],
            graph=graph,
        )


class ErrorOut(Shape):
    code: str
    message: str

    @classmethod
    def maybe(cls, error: WorkflowError | None) -> ErrorOut | None:
        return None if error is None else cls(code=error.code, message=error.message)


class VisitOut(Shape):
    """One entry into a state."""

    state: str
    type: str
    enteredAt: Timestamp
    leftAt: Timestamp | None = Field(description="null while the instance is in the state")
    milliseconds: int | None = Field(description="From entering to leaving; null while in it")
    lines: list[int] = Field(description="Indexes of the instance log lines of this visit")
    error: ErrorOut | None = Field(description="The error caught here, or the instance ended with")
    caught: bool = Field(description="The state's catch handled `error`")
    input: str | None = Field(
        description="The data the state began with (JSON, base64); null when not kept"
    )
    output: str | None = Field(
        description="The final data, for the last state of an ended instance (JSON, base64)"
    )

    @classmethod
    def of(cls, visit: Visit) -> VisitOut:
        left = visit.left_at
        return cls(
            state=visit.state,
            type=visit.type,
            enteredAt=Timestamp.of(visit.entered_at),
            leftAt=Timestamp.maybe(left),
            milliseconds=None
            if left is None
            else round((left - visit.entered_at).total_seconds() * 1000),
            lines=visit.lines,
            error=ErrorOut.maybe(visit.error),
            caught=visit.caught,
            input=_data(visit.input),
            output=_data(visit.output),
        )


def _data(data: Data | None) -> str | None:
    return None if data is None else b64(orjson.dumps(data.value))


class ActionOut(Shape):
    """An action of the current state: its progress."""

    index: int
    status: str = Field(description="running, waiting_retry, succeeded, failed or cancelled")
    attempt: int = Field(description="Retries made so far")
    error: ErrorOut | None


class InstanceVisitsOut(Shape):
    """The states an instance went through, oldest first, and the actions of its current state."""

    id: str
    status: str
    state: str | None = Field(description="The current (or last) state")
    revision: int
    visits: list[VisitOut]
    actions: list[ActionOut]
    complete: bool = Field(description="false when the log was too long to read whole")

    @classmethod
    def of(cls, history: InstanceHistory) -> InstanceVisitsOut:
        instance: Instance = history.instance
        return cls(
            id=instance.id,
            status=instance.status.value,
            state=instance.state,
            revision=instance.revision,
            visits=[VisitOut.of(v) for v in instance_visits(instance, history.log)],
            actions=[
                ActionOut(
                    index=b.index,
                    status=b.status.value,
                    attempt=b.attempt,
                    error=ErrorOut.maybe(b.error),
                )
                for b in instance.branches
            ],
            complete=history.complete,
        )

"""The JSON shapes of the API (those of Direktiv's 2021 REST API, plus a few added fields).

Byte fields (workflow YAML, instance input and output) are base64 strings and times are
`{"seconds", "nanos"}`, as the 2021 server wrote protobuf messages. Each shape is a pydantic model so
the OpenAPI document describes it; `render` turns one into a response without validating it again.
"""

from __future__ import annotations

import base64
import calendar
from collections.abc import Sequence
from datetime import UTC, datetime

import orjson
from fastapi import Response
from pydantic import BaseModel, Field

from dirigent.engine import Instance
from dirigent.operations.metrics import StateFigures
from dirigent.operations.variables import VariableInfo
from dirigent.operations.workflows import PushedWorkflow, WorkflowMetrics, describe_problems
from dirigent.store.records import InstanceSummary, LogEntry, Namespace, WorkflowRecord
from dirigent.types import JSON


class Shape(BaseModel):
    """Base of every response body."""


def render(shape: Shape, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """The shape as an `application/json` response."""
    return Response(
        shape.model_dump_json(), status_code=status, media_type="application/json", headers=headers
    )


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def json_b64(value: JSON) -> str:
    """A JSON value as the base64 of its compact JSON text; None (no value yet) is ""."""
    return "" if value is None else b64(orjson.dumps(value))


class Timestamp(Shape):
    seconds: int = Field(description="Unix time in whole seconds")
    nanos: int = Field(description="Nanoseconds past `seconds`")

    @classmethod
    def of(cls, moment: datetime) -> Timestamp:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return cls(seconds=calendar.timegm(moment.utctimetuple()), nanos=moment.microsecond * 1000)

    @classmethod
    def maybe(cls, moment: datetime | None) -> Timestamp | None:
        return None if moment is None else cls.of(moment)


class ErrorBody(Shape):
    """Every error: the HTTP status again, and a message for people."""

    Code: int
    Message: str


class Empty(Shape):
    """`{}`: the request did what it asked."""


class Health(Shape):
    status: str = "ok"


# Namespaces


class NamespaceOut(Shape):
    name: str
    createdAt: Timestamp

    @classmethod
    def of(cls, namespace: Namespace) -> NamespaceOut:
        return cls(name=namespace.name, createdAt=Timestamp.of(namespace.created_at))


class NamespaceList(Shape):
    namespaces: list[NamespaceOut]
    offset: int
    limit: int
    total: int


class NamespaceDeleted(Shape):
    name: str


class LogLine(Shape):
    timestamp: Timestamp
    message: str
    context: dict[str, str] = Field(
        description="Where the line comes from: `state`, `actionId`, and any extra attributes"
    )

    @classmethod
    def of(cls, entry: LogEntry) -> LogLine:
        context = dict(entry.extra)
        if entry.state is not None:
            context["state"] = entry.state
        if entry.action_id is not None:
            context["actionId"] = entry.action_id
        return cls(timestamp=Timestamp.of(entry.time), message=entry.message, context=context)


class NamespaceLogList(Shape):
    namespaceLogs: list[LogLine]
    offset: int
    limit: int


# Secrets, registries, variables


class SecretName(Shape):
    name: str


class SecretList(Shape):
    secrets: list[SecretName]


class RegistryOut(Shape):
    name: str = Field(description="The registry URL")
    id: str = Field(description="The URL, base64-encoded (as the 2021 API showed it)")

    @classmethod
    def of(cls, url: str) -> RegistryOut:
        return cls(name=url, id=b64(url.encode()))


class RegistryList(Shape):
    registries: list[RegistryOut]


class VariableOut(Shape):
    name: str
    size: int
    mimeType: str

    @classmethod
    def of(cls, info: VariableInfo) -> VariableOut:
        return cls(name=info.name, size=info.size, mimeType=info.mime_type)


class VariableList(Shape):
    variables: list[VariableOut]


# Workflows


class WorkflowSummary(Shape):
    id: str
    revision: int
    active: bool
    createdAt: Timestamp
    description: str
    logToEvents: str

    @classmethod
    def of(cls, record: WorkflowRecord) -> WorkflowSummary:
        return cls(
            id=record.id,
            revision=record.revision,
            active=record.active,
            createdAt=Timestamp.of(record.created_at),
            description=record.description,
            logToEvents=record.log_to_events,
        )


class WorkflowList(Shape):
    workflows: list[WorkflowSummary]
    offset: int
    limit: int
    total: int


class WorkflowWritten(WorkflowSummary):
    """What push, update and toggle answer: the workflow now, and warnings about its definition."""

    warnings: list[str] = Field(default_factory=list)

    @classmethod
    def of_pushed(cls, pushed: PushedWorkflow) -> WorkflowWritten:
        summary = WorkflowSummary.of(pushed.record)
        lines = describe_problems(list(pushed.warnings)).splitlines() if pushed.warnings else []
        return cls(**summary.model_dump(), warnings=lines)


class WorkflowDetail(Shape):
    name: str = Field(description="The workflow id")
    id: str
    revision: int
    active: bool
    createdAt: Timestamp
    updatedAt: Timestamp = Field(description="When this revision was stored")
    description: str
    workflow: str = Field(description="The YAML, base64-encoded")
    logToEvents: str
    nextRuns: list[Timestamp] = Field(
        default_factory=list,
        description="A scheduled workflow's next start times while it is active (else empty)",
    )

    @classmethod
    def of(cls, record: WorkflowRecord, next_runs: Sequence[datetime] = ()) -> WorkflowDetail:
        return cls(
            name=record.id,
            id=record.id,
            revision=record.revision,
            active=record.active,
            createdAt=Timestamp.of(record.created_at),
            updatedAt=Timestamp.of(record.updated_at),
            description=record.description,
            workflow=b64(record.source),
            logToEvents=record.log_to_events,
            nextRuns=[Timestamp.of(t) for t in next_runs],
        )


class WorkflowDeleted(Shape):
    id: str


class StateMetricsOut(Shape):
    """One state of a workflow as this server saw it run (2021 field names where they exist).

    `totalExecutions` counts the times the state was left (or the instance ended in it), with the
    time from entering it; `totalFailures` those in which the instance ended with an error (by code
    in `unhandledErrors`). States that run within one step of the interpreter (noop, switch,
    validate, …) take no time the server can see and count with 0 ms."""

    name: str = Field(description="The state id")
    type: str = Field(description="The state type (new)")
    totalExecutions: int
    totalMilliseconds: int
    meanMilliseconds: int = Field(description="totalMilliseconds / totalExecutions (new)")
    totalSuccesses: int
    totalFailures: int
    successRate: float
    failureRate: float
    unhandledErrors: dict[str, int]
    unhandledErrorsRepresentation: dict[str, float]

    @classmethod
    def of(cls, state: StateFigures) -> StateMetricsOut:
        runs, failures = state.executions, state.failures
        return cls(
            name=state.name,
            type=state.type,
            totalExecutions=runs,
            totalMilliseconds=round(state.seconds * 1000),
            meanMilliseconds=round(state.seconds * 1000 / runs) if runs else 0,
            totalSuccesses=runs - failures,
            totalFailures=failures,
            successRate=(runs - failures) / runs if runs else 0.0,
            failureRate=failures / runs if runs else 0.0,
            unhandledErrors=dict(state.errors),
            unhandledErrorsRepresentation={
                code: count / failures for code, count in state.errors.items()
            },
        )


class MetricsOut(Shape):
    """Counts over the workflow's instances. `failedExecutions` counts every instance that ended
    other than complete.

    The counts come from the store (every instance of the workflow, begun since `since`); the
    per-state figures (`states`) are what this server process saw since it started (`statesSince`),
    whatever `since` says: they are kept in memory, each server of a cluster has its own."""

    totalInstancesRun: int
    pendingInstances: int
    totalInstanceMilliseconds: int
    successfulExecutions: int
    failedExecutions: int
    errorCodes: dict[str, int]
    errorCodesRepresentation: dict[str, float]
    sampleSize: int
    meanInstanceMilliseconds: int
    successRate: float
    failureRate: float
    states: list[StateMetricsOut]
    statesSince: Timestamp | None = Field(
        description="Since when this server counts the per-state figures (its start; new)"
    )

    @classmethod
    def of(
        cls,
        metrics: WorkflowMetrics,
        states: Sequence[StateFigures] = (),
        states_since: datetime | None = None,
    ) -> MetricsOut:
        failed = metrics.failed
        return cls(
            totalInstancesRun=metrics.total,
            pendingInstances=metrics.pending,
            totalInstanceMilliseconds=metrics.total_milliseconds,
            successfulExecutions=metrics.complete,
            failedExecutions=failed,
            errorCodes=metrics.error_codes,
            errorCodesRepresentation={
                code: count / failed for code, count in metrics.error_codes.items()
            },
            sampleSize=metrics.ended,
            meanInstanceMilliseconds=round(metrics.mean_milliseconds),
            successRate=metrics.success_rate,
            failureRate=metrics.failure_rate,
            states=[StateMetricsOut.of(s) for s in states],
            statesSince=Timestamp.maybe(states_since),
        )


# Instances


class ExecuteStarted(Shape):
    instanceId: str = Field(description="The full id: <namespace>/<workflow>/<random>")


class InstanceBrief(Shape):
    id: str
    status: str
    beginTime: Timestamp
    endTime: Timestamp | None
    invokedBy: str
    revision: int
    errorCode: str
    errorMessage: str

    @classmethod
    def of(cls, summary: InstanceSummary) -> InstanceBrief:
        return cls(
            id=summary.id,
            status=summary.status,
            beginTime=Timestamp.of(summary.created_at),
            endTime=Timestamp.maybe(summary.ended_at),
            invokedBy=summary.invoked_by,
            revision=summary.revision,
            errorCode=summary.error_code or "",
            errorMessage=summary.error_message or "",
        )


class InstanceList(Shape):
    workflowInstances: list[InstanceBrief]
    offset: int
    limit: int
    total: int


class InstanceDetail(Shape):
    id: str
    status: str
    invokedBy: str
    revision: int
    beginTime: Timestamp
    endTime: Timestamp | None
    flow: list[str] = Field(description="The states visited as far as recorded (the current one)")
    input: str = Field(description="The start data as JSON, base64-encoded")
    output: str = Field(description="The final data as JSON, base64-encoded; empty while pending")
    errorCode: str
    errorMessage: str

    @classmethod
    def of(cls, instance: Instance) -> InstanceDetail:
        error = instance.error
        return cls(
            id=instance.id,
            status=instance.status.value,
            invokedBy=instance.invoked_by,
            revision=instance.revision,
            beginTime=Timestamp.of(instance.created_at),
            endTime=Timestamp.maybe(instance.ended_at),
            flow=[instance.state] if instance.state else [],
            input=json_b64(instance.input),
            output=json_b64(instance.output) if instance.done else "",
            errorCode=error.code if error else "",
            errorMessage=error.message if error else "",
        )


class InstanceStatus(Shape):
    """Where an instance is: its status and current state (what `/status` reports and streams)."""

    id: str
    status: str
    state: str | None
    beginTime: Timestamp
    endTime: Timestamp | None
    errorCode: str
    errorMessage: str

    @classmethod
    def of(cls, instance: Instance) -> InstanceStatus:
        error = instance.error
        return cls(
            id=instance.id,
            status=instance.status.value,
            state=instance.state,
            beginTime=Timestamp.of(instance.created_at),
            endTime=Timestamp.maybe(instance.ended_at),
            errorCode=error.code if error else "",
            errorMessage=error.message if error else "",
        )


class InstanceLogList(Shape):
    workflowInstanceLogs: list[LogLine]
    offset: int
    limit: int

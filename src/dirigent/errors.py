"""Errors: workflow errors (data that flows through instances) and Dirigent failures (categorised).

Workflow error codes are data. One `WorkflowError(code, message, catchable)` carries them from where they
arise (a function, a jq template, a timeout) through the engine to `catch`, to a parent, and to the API.
Failures of Dirigent itself (bad input, missing things, conflicts) derive from `DirigentError` and carry a
category that the API maps to an HTTP status in one table.
"""

from __future__ import annotations

import enum
from typing import Any


class Code:
    """The `direktiv.*` error codes the engine raises."""

    INTERNAL = "direktiv.internal.error"
    JQ_NOT_OBJECT = "direktiv.jq.notObject"
    JQ_BAD_COMMAND = "direktiv.jq.badCommand"
    SCHEMA_FAILED = "direktiv.schema.failed"
    CANCELS_TIMEOUT = "direktiv.cancels.timeout"
    CANCELS_API = "direktiv.cancels.api"
    CANCELS_PARENT = "direktiv.cancels.parent"
    RETRIES_EXCEEDED = "direktiv.retries.exceeded"
    PARALLEL_ALL_FAILED = "direktiv.parallel.allFailed"
    MULTIPLE_ERRORS = "direktiv.workflow.multipleErrors"
    FUNCTION_FAILED = "direktiv.function.failed"
    FUNCTION_INPUT = "direktiv.function.input"
    SUBFLOW_NOT_EXIST = "direktiv.subflow.notExist"
    LIMITS_DEPTH = "direktiv.limits.depth"
    SECRETS_NOT_FOUND = "direktiv.secrets.notFound"
    MUTEX = "direktiv.mutex"


class WorkflowError(Exception):
    """An error inside a workflow instance: a code, a message, and whether `catch` may handle it.

    Uncatchable errors (crashes, kills, cancels, depth limit, missing secrets or subflows) end the instance
    in which they arise; a parent instance still receives them as catchable subflow failures.
    """

    def __init__(self, code: str, message: str, *, catchable: bool = True) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.catchable = catchable

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "catchable": self.catchable}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> WorkflowError:
        return cls(value["code"], value["message"], catchable=value.get("catchable", True))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WorkflowError) and (self.code, self.message, self.catchable) == (
            other.code,
            other.message,
            other.catchable,
        )

    def __hash__(self) -> int:
        return hash((self.code, self.message, self.catchable))


class Category(enum.Enum):
    """What kind of failure a `DirigentError` is; the API maps each to one HTTP status."""

    NOT_FOUND = "not_found"
    INVALID_INPUT = "invalid_input"
    CONFLICT = "conflict"
    UNAVAILABLE = "unavailable"
    INTERNAL = "internal"


class DirigentError(Exception):
    """Base of every failure of Dirigent itself (not of a workflow)."""

    category: Category = Category.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DirigentError):
    category = Category.NOT_FOUND


class InvalidInput(DirigentError):
    category = Category.INVALID_INPUT


class Conflict(DirigentError):
    category = Category.CONFLICT


class Unavailable(DirigentError):
    category = Category.UNAVAILABLE


class Internal(DirigentError):
    category = Category.INTERNAL


class LeaseLost(Conflict):
    """Another server holds the instance now; this one must drop it and write nothing more."""


class StoreUnavailable(Unavailable):
    """The database could not be reached.

    `may_have_committed` tells retries apart: False means the write surely did not happen and may be
    retried; True means it may have happened, so only an idempotent write may be retried.
    """

    def __init__(self, message: str, *, may_have_committed: bool) -> None:
        super().__init__(message)
        self.may_have_committed = may_have_committed

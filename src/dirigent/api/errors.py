"""The API's one error table: failure categories to HTTP statuses, and the `{"Code", "Message"}` body.

Operations raise `DirigentError`s with a category; this module is the only place that turns them (and
FastAPI's own request validation errors, unknown routes, bodies too large, bugs) into responses.
`Code` repeats the HTTP status, as the 2021 API did.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, cast

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from dirigent.api.shapes import ErrorBody
from dirigent.errors import Category, DirigentError
from dirigent.operations.namespaces import InvalidName

logger = logging.getLogger("dirigent.api")

#: Category → HTTP status.
STATUS: dict[Category, int] = {
    Category.NOT_FOUND: 404,
    Category.INVALID_INPUT: 400,
    Category.CONFLICT: 409,
    Category.UNAVAILABLE: 503,
    Category.INTERNAL: 500,
}

#: Errors whose status is more specific than their category's: a name that breaks its pattern is
#: the 2021 API's "invalid argument" (gRPC InvalidArgument → 406 Not Acceptable).
STATUS_BY_TYPE: dict[type, int] = {
    InvalidName: 406,
}

#: The status of a request body over the server's limit.
TOO_LARGE = 413
UNAUTHORIZED = 401


class BodyTooLarge(Exception):
    """The request body is larger than the server accepts."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the request body is larger than {limit} bytes")
        self.limit = limit


def status_of(error: DirigentError) -> int:
    """The HTTP status for a failure: by its type if the table has one, else by its category."""
    for kind in type(error).__mro__:
        status = STATUS_BY_TYPE.get(kind)
        if status is not None:
            return status
    return STATUS[error.category]


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """The `{"Code": status, "Message": message}` response."""
    body = ErrorBody(Code=status, Message=message).model_dump_json()
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def describe_validation(errors: Sequence[Any]) -> str:
    """FastAPI's validation errors as `<field>: <problem>`, one per error, joined by "; "."""
    parts: list[str] = []
    for error in errors:
        location = [str(p) for p in error.get("loc", ())]
        if location and location[0] in ("query", "path", "body", "header", "cookie"):
            where = location[0]
            location = location[1:]
            if not location:
                location = [where]
        field = ".".join(location) or "request"
        message = str(error.get("msg", "is not valid"))
        if error.get("type") == "json_invalid":
            message = "the body is not valid JSON"
            field = "body"
        parts.append(f"{field}: {message}")
    return "; ".join(parts)


async def _dirigent_error(request: Request, error: Exception) -> Response:
    failure = cast(DirigentError, error)  # registered for DirigentError only
    status = status_of(failure)
    if status >= 500:
        logger.error("%s %s: %s", request.method, request.url.path, failure.message)
    return error_response(status, failure.message)


async def _validation_error(request: Request, error: Exception) -> Response:
    return error_response(400, describe_validation(cast(RequestValidationError, error).errors()))


async def _http_error(request: Request, error: Exception) -> Response:
    error = cast(HTTPException, error)
    if error.status_code == 404:
        message = f"no route {request.method} {request.url.path}"
    elif error.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    else:
        message = str(error.detail)
    return error_response(error.status_code, message, dict(error.headers or {}))


async def _too_large(request: Request, error: Exception) -> Response:
    return error_response(TOO_LARGE, str(error))


async def _bug(request: Request, error: Exception) -> Response:
    logger.exception("%s %s failed", request.method, request.url.path, exc_info=error)
    return error_response(500, f"internal error: {type(error).__name__}: {error}")


def install_error_handlers(app: FastAPI) -> None:
    """Make every failure answer with the `{"Code", "Message"}` body and its status."""
    app.add_exception_handler(DirigentError, _dirigent_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(BodyTooLarge, _too_large)
    app.add_exception_handler(Exception, _bug)

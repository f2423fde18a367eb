"""What every router shares: the `Server` of the app, paging parameters, and routes that answer with
and without a trailing slash (the 2021 routes mix both; clients use either)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query, Request

from dirigent.api.shapes import ErrorBody
from dirigent.operations.server import Server

F = TypeVar("F", bound=Callable[..., Any])

#: Largest page a listing returns.
MAX_LIMIT = 10_000


async def server_of(request: Request) -> Server:
    # async: FastAPI runs a plain `def` dependency in a worker thread, a hop on every request.
    server: Server = request.app.state.server
    return server


ServerDep = Annotated[Server, Depends(server_of)]
Offset = Annotated[int, Query(ge=0, description="How many items to skip")]
Limit = Annotated[
    int,
    Query(ge=0, le=MAX_LIMIT, description="How many items at most; 0 means the default"),
]

#: The error responses every route may give, for the OpenAPI document.
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Bad input (the message names the field)"},
    404: {"model": ErrorBody, "description": "Not found"},
    406: {"model": ErrorBody, "description": "A name that does not match its pattern"},
    409: {"model": ErrorBody, "description": "Exists already, wrong revision, or not possible now"},
    413: {"model": ErrorBody, "description": "The request body is too large"},
}


def page_limit(limit: int, default: int) -> int:
    return limit or default


def route(router: APIRouter, method: str, path: str, **options: Any) -> Callable[[F], F]:
    """Register the endpoint for `path`, and (hidden from the docs) for `path` with the trailing
    slash toggled, so `/workflows` and `/workflows/` both work without a redirect."""

    def register(endpoint: F) -> F:
        options.setdefault("responses", ERRORS)
        router.add_api_route(path, endpoint, methods=[method], **options)
        other = path[:-1] if path.endswith("/") else path + "/"
        hidden = {**options, "include_in_schema": False}
        hidden.pop("operation_id", None)
        router.add_api_route(other, endpoint, methods=[method], **hidden)
        return endpoint

    return register

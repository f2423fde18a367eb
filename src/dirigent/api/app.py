"""The REST API application: `create_app(server)` is everything `dirigent server` serves.

Routes only parse requests, call one operation (`dirigent.operations`), and render its result in
the 2021 API's shapes (`shapes`); failures go through the one error table (`errors`). The OpenAPI
document is at `/api/openapi.json`, interactive docs at `/api/docs`; Prometheus metrics are at
`/metrics`.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI

from dirigent.api import execute, instances, metrics, namespaces, secrets, variables, workflows
from dirigent.api.errors import install_error_handlers
from dirigent.api.middleware import BearerAuth, BodyLimit, is_loopback
from dirigent.api.shapes import Health
from dirigent.operations.server import Server

#: The largest request body the API accepts (workflow YAML, inputs, variables): 16 MiB.
MAX_BODY = 16 * 1024 * 1024


def _version() -> str:
    try:
        return version("dirigent")
    except PackageNotFoundError:
        return "0"


def create_app(
    server: Server, *, tokens: Iterable[str] | None = None, max_body: int = MAX_BODY
) -> FastAPI:
    """The API for `server`.

    Authentication: when the server listens on an address other than loopback, every route but
    `/api/healthz` and the API docs needs `Authorization: Bearer <token>` with one of `tokens`
    (default: the configuration's `api_tokens`). On loopback, no token is asked for.
    """
    app = FastAPI(
        title="Dirigent",
        version=_version(),
        summary="Durable engine for Direktiv workflows: the 2021 REST API, and more.",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        redirect_slashes=False,
    )
    app.state.server = server
    install_error_handlers(app)

    @app.get("/api/healthz", tags=["server"])
    async def healthz() -> Health:
        """Liveness: 200 while the server runs."""
        return Health()

    for module in (namespaces, secrets, variables, workflows, execute, instances, metrics):
        app.include_router(module.router)

    if not is_loopback(server.config.host):
        app.add_middleware(
            BearerAuth,
            tokens=list(tokens) if tokens is not None else list(server.config.api_tokens),
        )
    app.add_middleware(BodyLimit, limit=max_body)
    return app

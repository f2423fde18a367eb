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

from dirigent.api import events as event_routes
from dirigent.api import execute, instances, metrics, namespaces, secrets, variables, workflows
from dirigent.api import tokens as token_routes
from dirigent.api.errors import install_error_handlers
from dirigent.api.middleware import BearerAuth, BodyLimit, token_required
from dirigent.api.shapes import Health
from dirigent.api.ui_views import router as ui_router
from dirigent.operations.server import Server
from dirigent.operations.tokens import TokenChecker
from dirigent.ui import WebUi

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

    Authentication: when the server listens on an address other than loopback (or `require_token`
    is set), every route but `/api/healthz` and the API docs needs `Authorization: Bearer <token>`
    with a token made by `dirigent token create` or one of `tokens` (default: the configuration's
    `api_tokens`). On loopback, no token is asked for.
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

    for module in (
        namespaces,
        secrets,
        variables,
        workflows,
        execute,
        instances,
        metrics,
        token_routes,
        event_routes,
    ):
        app.include_router(module.router)
    app.include_router(ui_router)

    if token_required(server.config):
        checker = TokenChecker(
            server.store,
            clock=server.runtime.clock,
            configured=tokens if tokens is not None else server.config.api_tokens,
            cache_seconds=server.config.token_cache_seconds,
        )
        app.add_middleware(BearerAuth, tokens=checker)
    app.add_middleware(BodyLimit, limit=max_body)
    # Outermost: the web UI's files are served without a token (they hold no data).
    app.add_middleware(WebUi)
    return app

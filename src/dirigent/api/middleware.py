"""ASGI middleware of the API: the request body limit, and bearer-token authentication with tokens
limited to namespaces."""

from __future__ import annotations

import ipaddress

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dirigent.api.errors import TOO_LARGE, UNAUTHORIZED, BodyTooLarge, error_response, status_of
from dirigent.errors import DirigentError
from dirigent.operations.config import ServerConfig
from dirigent.operations.tokens import Access, TokenChecker, TokenRefused

#: Paths anyone may read: liveness and the API's own description.
PUBLIC_PATHS = frozenset({"/api/healthz", "/api/openapi.json", "/api/docs"})


class BodyLimit:
    """Refuse request bodies over `limit` bytes with 413 and the JSON error body.

    A declared `Content-Length` over the limit is refused before the body is read; a streamed body
    raises `BodyTooLarge` from `receive` as soon as it passes the limit, which the error table answers.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.limit:
                    response = error_response(TOO_LARGE, str(BodyTooLarge(self.limit)))
                    await response(scope, receive, send)
                    return
                break
        seen = 0
        limit = self.limit

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, limited, send)


def is_loopback(host: str) -> bool:
    """Whether `host` (an address or name the server listens on) is reachable from this machine only."""
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def token_required(config: ServerConfig) -> bool:
    """Whether the API asks for a token: always off loopback, and on loopback with `require_token`."""
    return config.require_token or not is_loopback(config.host)


#: The scope key under which `BearerAuth` leaves the request's `Access` for the routes.
ACCESS = "dirigent.access"
#: Routes about one namespace: the namespace is the path segment after one of these.
NAMESPACE_PREFIXES = ("/api/namespaces/", "/api/instances/")
#: The namespace listing, which a token limited to namespaces sees filtered.
NAMESPACE_LIST = frozenset({"/api/namespaces", "/api/namespaces/"})
FORBIDDEN = 403


def access_of(request: Request) -> Access | None:
    """The access of the request's token; None when the API asks for no token (all is allowed)."""
    found = request.scope.get(ACCESS)
    return found if isinstance(found, Access) else None


def namespace_of(path: str) -> str | None:
    """The namespace a route is about (`/api/namespaces/{ns}…`, `/api/instances/{ns}…`), if any."""
    for prefix in NAMESPACE_PREFIXES:
        if path.startswith(prefix):
            return path[len(prefix) :].split("/", 1)[0] or None
    return None


class BearerAuth:
    """Require `Authorization: Bearer <token>` (or the 2021 `KEY: <token>` header) on every route but
    the public ones; 401 with the JSON error body when it is missing or not accepted by `tokens`.

    A token limited to namespaces may use the routes of those namespaces and the namespace listing
    (which the route filters, reading `access_of`); any other route answers 403. The token itself
    never appears in an answer or a log.
    """

    def __init__(self, app: ASGIApp, tokens: TokenChecker) -> None:
        self.app = app
        self.tokens = tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        presented = _presented(scope)
        if presented is None:
            message = "a bearer token is required (Authorization: Bearer <token>)"
            await _refuse(UNAUTHORIZED, message, scope, receive, send)
            return
        try:
            access = await self.tokens.verify(presented)
        except TokenRefused as refused:
            await _refuse(UNAUTHORIZED, refused.message, scope, receive, send)
            return
        except DirigentError as error:  # the store cannot be reached
            await error_response(status_of(error), error.message)(scope, receive, send)
            return
        denied = _denied(access, scope["path"])
        if denied is not None:
            await error_response(FORBIDDEN, denied)(scope, receive, send)
            return
        await self.app({**scope, ACCESS: access}, receive, send)


def _presented(scope: Scope) -> str | None:
    presented: bytes | None = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.partition(b" ")
            if scheme.lower() == b"bearer":
                presented = token.strip()
        elif name == b"key" and presented is None:
            presented = value.strip()
    return presented.decode("utf-8", "surrogateescape") if presented else None


def _denied(access: Access, path: str) -> str | None:
    """Why `access` may not use `path`, or None when it may."""
    if access.unrestricted or path in NAMESPACE_LIST:
        return None
    namespace = namespace_of(path)
    if namespace is not None and access.allows(namespace):
        return None
    limits = ", ".join(sorted(access.namespaces))
    what = f"namespace '{namespace}'" if namespace is not None else f"the server-level route {path}"
    return f"token '{access.name}' may only use namespace(s) {limits}, not {what}"


async def _refuse(status: int, message: str, scope: Scope, receive: Receive, send: Send) -> None:
    await error_response(status, message, {"WWW-Authenticate": "Bearer"})(scope, receive, send)

"""ASGI middleware of the API: the request body limit and bearer-token authentication."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dirigent.api.errors import TOO_LARGE, UNAUTHORIZED, BodyTooLarge, error_response

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


class BearerAuth:
    """Require `Authorization: Bearer <token>` (or the 2021 `KEY: <token>` header) on every route but
    the public ones; 401 with the JSON error body otherwise. Tokens are compared in constant time."""

    def __init__(self, app: ASGIApp, tokens: Iterable[str]) -> None:
        self.app = app
        self.tokens = [t.encode() for t in tokens if t]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        presented: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, token = value.partition(b" ")
                if scheme.lower() == b"bearer":
                    presented = token.strip()
            elif name == b"key" and presented is None:
                presented = value.strip()
        if presented is not None and any(hmac.compare_digest(presented, t) for t in self.tokens):
            await self.app(scope, receive, send)
            return
        message = (
            "a bearer token is required (Authorization: Bearer <token>)"
            if presented is None
            else "the token is not valid"
        )
        response = error_response(UNAUTHORIZED, message, {"WWW-Authenticate": "Bearer"})
        await response(scope, receive, send)

"""Routes of API tokens: list, create (the answer holds the token, once), revoke.

New (not in the 2021 API). A token limited to namespaces cannot reach these routes (403): only an
unrestricted token, or any request on a server that asks for no token, manages tokens.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from dirigent.api.deps import ServerDep, route
from dirigent.api.shapes import Shape, Timestamp
from dirigent.operations import tokens as ops

router = APIRouter(prefix="/api/tokens", tags=["tokens"])


class TokenIn(BaseModel):
    """A token to create."""

    name: str = Field(description="The token's name (letters, digits, '-' and '_'), unique")
    namespaces: list[str] = Field(
        default_factory=list,
        description="The namespaces it may use; none: every namespace and the server routes",
    )
    expires: str | None = Field(
        default=None, description="Lifetime such as `30d`, `12h`, `90m`, `2w`; none: never"
    )


class TokenOut(Shape):
    name: str
    namespaces: list[str] = Field(description="Empty: every namespace and the server routes")
    createdAt: Timestamp
    expiresAt: Timestamp | None

    @classmethod
    def of(cls, info: ops.TokenInfo) -> TokenOut:
        return cls(
            name=info.name,
            namespaces=list(info.namespaces),
            createdAt=Timestamp.of(info.created_at),
            expiresAt=Timestamp.maybe(info.expires_at),
        )


class TokenCreated(TokenOut):
    token: str = Field(description="The token: shown this once, only its hash is kept")


class TokenList(Shape):
    tokens: list[TokenOut]


class TokenRevoked(Shape):
    name: str


@route(router, "GET", "/")
async def list_tokens(server: ServerDep) -> TokenList:
    """Every stored token by name (expired ones too), never the token itself. Configured
    `api_tokens` are not listed."""
    return TokenList(tokens=[TokenOut.of(i) for i in await ops.list_tokens(server.store)])


@route(router, "POST", "/")
async def create_token(server: ServerDep, token: TokenIn) -> TokenCreated:
    """Create a token; the answer is the only place the token appears. 409 if the name is taken."""
    expires_in = ops.parse_duration(token.expires) if token.expires is not None else None
    created = await ops.create_token(
        server.store,
        token.name,
        token.namespaces,
        now=server.runtime.clock.now(),
        expires_in=expires_in,
    )
    return TokenCreated(**TokenOut.of(created.info).model_dump(), token=created.token)


@route(router, "DELETE", "/{name}")
async def revoke_token(server: ServerDep, name: str) -> TokenRevoked:
    """Revoke a token; 404 if there is none of that name. Every server sharing the database stops
    accepting it within `token_cache_seconds`."""
    await ops.revoke_token(server.store, name)
    return TokenRevoked(name=name)

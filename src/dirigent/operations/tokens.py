"""API tokens: create (the token is shown once), list, revoke, and verify with a short cache.

A token is `dgt_` and 43 url-safe characters (256 random bits). The store keeps only its SHA-256, as a
sealed value of kind `api-token` named by that hash, in the reserved namespace `_dirigent` (a name no
user can make or reach: it breaks the name rule), with the token's name, the namespaces it may use
(none: every namespace and the server-level routes), its creation time and optional expiry. Looking
a presented token up by its hash needs no constant-time comparison: timing could at most tell an
attacker bits of the hash, which do not lead back to the token. The configured `api_tokens` are
compared in constant time.

`TokenChecker` remembers each answer for `cache_seconds`, so a revoked token keeps working on a
server for at most that long after the revoke (every server sharing the database, the one that
revoked it too).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson

from dirigent.errors import Conflict, InvalidInput, NotFound
from dirigent.operations.clock import Clock
from dirigent.operations.namespaces import check_key, check_name
from dirigent.store.base import SealedKind, Store

KIND: SealedKind = "api-token"
#: Where token records live: breaks the namespace name rule, so no route reaches it.
NAMESPACE = "_dirigent"
PREFIX = "dgt_"
#: The name configured tokens (`api_tokens`) go by.
CONFIGURED = "api_tokens"
#: Presented tokens longer than this are refused without a lookup.
MAX_TOKEN = 512
#: The longest expiry `parse_duration` accepts: 100 years.
MAX_EXPIRY = timedelta(days=36_500)
#: Answers a `TokenChecker` remembers at most (a flood of wrong tokens must not grow it forever).
MAX_CACHED = 10_000

_DURATION = re.compile(r"^\s*(\d{1,9})\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True)
class TokenInfo:
    """What is known about a stored token (never the token itself)."""

    name: str
    #: Sorted; empty: every namespace and the server-level routes.
    namespaces: tuple[str, ...]
    created_at: datetime
    expires_at: datetime | None = None

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    def to_bytes(self) -> bytes:
        return orjson.dumps(
            {
                "name": self.name,
                "namespaces": list(self.namespaces),
                "created": self.created_at.isoformat(),
                "expires": self.expires_at.isoformat() if self.expires_at else None,
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> TokenInfo:
        record = orjson.loads(data)
        expires = record.get("expires")
        return cls(
            name=record["name"],
            namespaces=tuple(record["namespaces"]),
            created_at=datetime.fromisoformat(record["created"]),
            expires_at=datetime.fromisoformat(expires) if expires else None,
        )


@dataclass(frozen=True)
class CreatedToken:
    """A new token: the only time the token itself is at hand."""

    info: TokenInfo
    token: str


@dataclass(frozen=True)
class Access:
    """Who a request is, once its token is verified: the token's name and where it may go."""

    name: str
    #: Empty: every namespace and the server-level routes.
    namespaces: frozenset[str]

    @property
    def unrestricted(self) -> bool:
        return not self.namespaces

    def allows(self, namespace: str) -> bool:
        return self.unrestricted or namespace in self.namespaces


class TokenRefused(Exception):
    """A presented token is not accepted: unknown, revoked, or expired; `message` says which, without
    the token."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse_duration(text: str) -> timedelta:
    """`30d`, `12h`, `90m`, `45s`, `2w` as a timedelta; InvalidInput (naming `expires`) otherwise."""
    found = _DURATION.match(text)
    if found is None or int(found.group(1)) == 0:
        raise InvalidInput(
            f"expires: '{text}' is not a duration: use a positive whole number and s, m, h, d or w "
            "(e.g. 30d)"
        )
    duration = timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})
    if duration > MAX_EXPIRY:
        raise InvalidInput(f"expires: '{text}' is longer than 100 years")
    return duration


def _digest(token: str) -> str:
    return hashlib.sha256(_bytes(token)).hexdigest()


def _bytes(token: str) -> bytes:
    """The token's bytes; a header's undecodable bytes (kept as surrogates) come back as they were."""
    return token.encode("utf-8", "surrogateescape")


async def create_token(
    store: Store,
    name: str,
    namespaces: Iterable[str] = (),
    *,
    now: datetime,
    expires_in: timedelta | None = None,
) -> CreatedToken:
    """A new token called `name`, limited to `namespaces` (none: unrestricted), expiring `expires_in`
    after `now` (None: never). Conflict if a token of that name exists. The namespaces need not
    exist yet."""
    check_key(name, "name")
    limited = tuple(sorted({check_name(n, "namespaces") for n in namespaces}))
    if expires_in is not None and expires_in <= timedelta(0):
        raise InvalidInput("expires: must be in the future")
    if any(info.name == name for info in await list_tokens(store)):
        raise Conflict(f"token '{name}' exists already")
    await _ensure_namespace(store, now)
    token = PREFIX + secrets.token_urlsafe(32)
    expires_at = now + expires_in if expires_in is not None else None
    info = TokenInfo(name, limited, now, expires_at)
    await store.set_sealed(KIND, NAMESPACE, _digest(token), info.to_bytes())
    return CreatedToken(info, token)


async def list_tokens(store: Store) -> list[TokenInfo]:
    """Every stored token (expired ones too), by name."""
    return [info for _, info in sorted(await _records(store), key=lambda pair: pair[1].name)]


async def revoke_token(store: Store, name: str) -> None:
    """Delete the token called `name`; NotFound if there is none. Servers stop accepting it once
    their cache forgets it."""
    check_key(name, "name")
    digests = [digest for digest, info in await _records(store) if info.name == name]
    if not digests:
        raise NotFound(f"token '{name}' does not exist")
    for digest in digests:
        # Revoked by someone else meanwhile: it is gone all the same.
        with contextlib.suppress(NotFound):
            await store.delete_sealed(KIND, NAMESPACE, digest)


async def has_tokens(store: Store) -> bool:
    """Whether any token is stored (expired ones count: the server can still be reached once a new
    token is made)."""
    if await store.get_namespace(NAMESPACE) is None:
        return False
    return bool(await store.list_sealed(KIND, NAMESPACE))


async def _records(store: Store) -> list[tuple[str, TokenInfo]]:
    """(hash, info) of every stored token."""
    if await store.get_namespace(NAMESPACE) is None:
        return []
    found: list[tuple[str, TokenInfo]] = []
    for digest in await store.list_sealed(KIND, NAMESPACE):
        data = await store.get_sealed(KIND, NAMESPACE, digest)
        if data is not None:  # revoked between the listing and now
            found.append((digest, TokenInfo.from_bytes(data)))
    return found


async def _ensure_namespace(store: Store, now: datetime) -> None:
    if await store.get_namespace(NAMESPACE) is not None:
        return
    with contextlib.suppress(Conflict):  # another process made it meanwhile
        await store.create_namespace(NAMESPACE, now)


class TokenChecker:
    """Verifies presented tokens: the configured ones (unrestricted, constant-time comparison) and the
    stored ones (by hash), remembering each stored answer (found or not) for `cache_seconds`.

    Expiry is checked on every use against `clock`, cached or not; the cache's age is measured on the
    same clock.
    """

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock,
        configured: Iterable[str] = (),
        cache_seconds: float = 5.0,
    ) -> None:
        self._store = store
        self._clock = clock
        self._configured = [t.encode() for t in configured if t]
        self._ttl = timedelta(seconds=max(0.0, cache_seconds))
        self._cache: dict[str, tuple[datetime, TokenInfo | None]] = {}

    async def verify(self, presented: str) -> Access:
        """The access `presented` grants; TokenRefused when it grants none."""
        raw = _bytes(presented)
        # Every configured token is compared, so the time taken does not tell which one matched.
        if sum(hmac.compare_digest(raw, token) for token in self._configured):
            return Access(CONFIGURED, frozenset())
        if len(raw) > MAX_TOKEN:
            raise TokenRefused("the token is not valid")
        now = self._clock.now()
        info = await self._lookup(_digest(presented), now)
        if info is None:
            raise TokenRefused("the token is not valid")
        if info.expires_at is not None and now >= info.expires_at:
            raise TokenRefused(
                f"the token '{info.name}' expired at {info.expires_at:%Y-%m-%d %H:%M:%S} UTC"
            )
        return Access(info.name, frozenset(info.namespaces))

    async def _lookup(self, digest: str, now: datetime) -> TokenInfo | None:
        cached = self._cache.get(digest)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        data = await self._store.get_sealed(KIND, NAMESPACE, digest)
        info = TokenInfo.from_bytes(data) if data is not None else None
        if self._ttl:
            self._remember(digest, now, info)
        return info

    def _remember(self, digest: str, now: datetime, info: TokenInfo | None) -> None:
        if len(self._cache) >= MAX_CACHED:
            self._cache = {d: e for d, e in self._cache.items() if now - e[0] < self._ttl}
            if len(self._cache) >= MAX_CACHED:
                self._cache.clear()
        self._cache[digest] = (now, info)

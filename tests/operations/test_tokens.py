"""API token operations on the memory and SQLite stores: create, list, revoke, verify (with its
cache driven by a fake clock)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from dirigent.errors import Conflict, InvalidInput, NotFound
from dirigent.operations import tokens as ops
from dirigent.operations.namespaces import InvalidName
from dirigent.store import Store, open_store
from dirigent.testing import FakeClock


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'tokens.db'}"
    opened = await open_store(url)
    try:
        yield opened
    finally:
        await opened.aclose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def test_create_shows_the_token_once_and_stores_only_its_hash(
    store: Store, clock: FakeClock
) -> None:
    created = await ops.create_token(
        store, "ci", ["billing", "alpha", "billing"], now=clock.now(), expires_in=timedelta(days=30)
    )
    assert created.token.startswith(ops.PREFIX)
    assert len(created.token) == len(ops.PREFIX) + 43  # 256 random bits, url-safe base64
    assert created.info == ops.TokenInfo(
        "ci", ("alpha", "billing"), clock.now(), clock.now() + timedelta(days=30)
    )
    names = await store.list_sealed(ops.KIND, ops.NAMESPACE)
    assert names == [hashlib.sha256(created.token.encode()).hexdigest()]
    data = await store.get_sealed(ops.KIND, ops.NAMESPACE, names[0])
    assert data is not None
    assert created.token.encode() not in data
    assert await ops.list_tokens(store) == [created.info]


async def test_list_by_name_and_revoke(store: Store, clock: FakeClock) -> None:
    assert await ops.list_tokens(store) == []
    assert not await ops.has_tokens(store)
    for name in ("zeta", "alpha", "mid"):
        await ops.create_token(store, name, now=clock.now())
    assert [i.name for i in await ops.list_tokens(store)] == ["alpha", "mid", "zeta"]
    assert await ops.has_tokens(store)
    await ops.revoke_token(store, "mid")
    assert [i.name for i in await ops.list_tokens(store)] == ["alpha", "zeta"]
    with pytest.raises(NotFound, match="token 'mid' does not exist"):
        await ops.revoke_token(store, "mid")


async def test_bad_input_is_refused(store: Store, clock: FakeClock) -> None:
    await ops.create_token(store, "ci", now=clock.now())
    with pytest.raises(Conflict, match="token 'ci' exists already"):
        await ops.create_token(store, "ci", now=clock.now())
    with pytest.raises(InvalidName, match="name: 'no spaces' is not a valid key"):
        await ops.create_token(store, "no spaces", now=clock.now())
    with pytest.raises(InvalidName, match="namespaces: 'Upper' is not a valid name"):
        await ops.create_token(store, "other", ["Upper"], now=clock.now())
    with pytest.raises(InvalidInput, match="expires: must be in the future"):
        await ops.create_token(store, "other", now=clock.now(), expires_in=timedelta(0))
    with pytest.raises(InvalidName):
        await ops.revoke_token(store, "../x")
    assert [i.name for i in await ops.list_tokens(store)] == ["ci"]


@pytest.mark.parametrize(
    ("text", "duration"),
    [
        ("30d", timedelta(days=30)),
        ("12h", timedelta(hours=12)),
        ("90m", timedelta(minutes=90)),
        ("45s", timedelta(seconds=45)),
        (" 2w ", timedelta(weeks=2)),
    ],
)
def test_durations(text: str, duration: timedelta) -> None:
    assert ops.parse_duration(text) == duration


@pytest.mark.parametrize("text", ["", "0d", "30", "d", "-1d", "1y", "1.5h", "99999999d"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(InvalidInput, match="expires: "):
        ops.parse_duration(text)


async def test_verify_configured_and_stored_tokens(store: Store, clock: FakeClock) -> None:
    limited = await ops.create_token(store, "ci", ["alpha"], now=clock.now())
    admin = await ops.create_token(store, "admin", now=clock.now())
    checker = ops.TokenChecker(store, clock=clock, configured=["", "boot-strap"])
    configured = await checker.verify("boot-strap")
    assert configured == ops.Access(ops.CONFIGURED, frozenset())
    assert configured.unrestricted
    access = await checker.verify(limited.token)
    assert access == ops.Access("ci", frozenset({"alpha"}))
    assert (access.allows("alpha"), access.allows("beta"), access.unrestricted) == (
        True,
        False,
        False,
    )
    assert (await checker.verify(admin.token)).allows("anything")
    for wrong in ("", "boot", limited.token + "x", "x" * (ops.MAX_TOKEN + 1)):
        with pytest.raises(ops.TokenRefused, match="the token is not valid"):
            await checker.verify(wrong)


async def test_an_expired_token_is_refused_even_when_cached(store: Store, clock: FakeClock) -> None:
    created = await ops.create_token(
        store, "short", now=clock.now(), expires_in=ops.parse_duration("1h")
    )
    checker = ops.TokenChecker(store, clock=clock, cache_seconds=3600 * 2)
    await checker.verify(created.token)
    await clock.advance(timedelta(minutes=59))
    await checker.verify(created.token)
    await clock.advance(timedelta(minutes=1))
    with pytest.raises(ops.TokenRefused, match="the token 'short' expired at"):
        await checker.verify(created.token)
    assert [i.expired(clock.now()) for i in await ops.list_tokens(store)] == [True]


async def test_a_revoked_token_works_until_the_cache_forgets_it(
    store: Store, clock: FakeClock
) -> None:
    created = await ops.create_token(store, "ci", now=clock.now())
    checker = ops.TokenChecker(store, clock=clock, cache_seconds=5)
    uncached = ops.TokenChecker(store, clock=clock, cache_seconds=0)
    await checker.verify(created.token)
    await uncached.verify(created.token)
    await ops.revoke_token(store, "ci")
    with pytest.raises(ops.TokenRefused):
        await uncached.verify(created.token)
    await clock.advance(4.9)
    assert (await checker.verify(created.token)).name == "ci"
    await clock.advance(0.1)
    with pytest.raises(ops.TokenRefused):
        await checker.verify(created.token)


async def test_a_refusal_is_cached_too_and_the_cache_stays_bounded(
    store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ops, "MAX_CACHED", 3)
    checker = ops.TokenChecker(store, clock=clock, cache_seconds=5)
    for n in range(10):
        with pytest.raises(ops.TokenRefused):
            await checker.verify(f"wrong-{n}")
    created = await ops.create_token(store, "late", now=clock.now())
    assert (await checker.verify(created.token)).name == "late"
    assert len(checker._cache) <= 3

"""API tokens against real `dirigent server` processes on 0.0.0.0 (tokens required; clients on
127.0.0.1), on SQLite and PostgreSQL: the first token made by the CLI before the server starts,
401 without a valid one, namespace limits (403 elsewhere, a filtered namespace list), revoking,
expiry, the `/api/tokens` routes, and `require_token` on loopback."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from dirigent.operations import tokens as ops
from dirigent.store import open_store
from tests.api.support import (
    ECHO,
    POSTGRES_URL,
    ROOT,
    RunningServer,
    error,
    postgres_admin,
    postgres_reachable,
    push,
    start_server,
)

#: The servers of most tests forget token checks at once, so a revoke shows without waiting.
NO_CACHE = {"DIRIGENT_TOKEN_CACHE_SECONDS": "0"}


@dataclass
class Guarded:
    """A server that requires tokens, the database it uses, and its first (unrestricted) token."""

    server: RunningServer
    database: str
    admin: str

    def client(self, token: str | None = None, **headers: str) -> httpx.Client:
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.Client(base_url=self.server.url, headers=headers, timeout=30)


def dirigent_token(database: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`dirigent token ARGS --database DATABASE` as a process."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DIRIGENT_")}
    return subprocess.run(
        [sys.executable, "-m", "dirigent", "token", *args, "--database", database],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def guarded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Guarded]:
    data_dir = tmp_path_factory.mktemp(f"tokens-{request.param}")
    scratch = ""
    if request.param == "postgresql":
        if not postgres_reachable():
            if os.environ.get("CI") == "true":
                pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_URL} (CI=true)")
            pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_URL}")
        scratch = f"dirigent_tokens_{secrets.token_hex(4)}"
        postgres_admin(f'CREATE DATABASE "{scratch}"')
        database = POSTGRES_URL.rsplit("/", 1)[0] + "/" + scratch
    else:
        database = f"sqlite:///{data_dir / 'dirigent.db'}"
    made = dirigent_token(database, "create", "admin")  # before any server accepts a token
    assert made.returncode == 0, made.stderr
    running = start_server(data_dir, "--listen", "0.0.0.0", database=database, env=NO_CACHE)
    running.url = running.url.replace("0.0.0.0", "127.0.0.1")
    try:
        yield Guarded(running, database, made.stdout.strip())
    finally:
        running.stop()
        if scratch:
            postgres_admin(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


def create(guarded: Guarded, name: str, *namespaces: str, expires: str | None = None) -> str:
    """A new token through the API (with the admin token); returns the token."""
    with guarded.client(guarded.admin) as admin:
        answer = admin.post(
            "/api/tokens", json={"name": name, "namespaces": list(namespaces), "expires": expires}
        )
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["token"]
    return token


def wait_refused(client: httpx.Client, route: str, seconds: float = 10) -> httpx.Response:
    """Poll `route` until it answers 401 (a real server: polling is the way)."""
    deadline = time.monotonic() + seconds
    while True:
        answer = client.get(route)
        if answer.status_code == 401 or time.monotonic() > deadline:
            return answer
        time.sleep(0.05)


def test_no_token_or_a_wrong_one_is_401(guarded: Guarded) -> None:
    with guarded.client() as anonymous:
        assert anonymous.get("/api/healthz").status_code == 200
        answer = anonymous.get("/api/namespaces/")
        error(answer, 401, "bearer token is required")
        assert answer.headers["WWW-Authenticate"] == "Bearer"
    with guarded.client("dgt_" + secrets.token_urlsafe(32)) as wrong:
        error(wrong.get("/api/namespaces/"), 401, "the token is not valid")
        error(wrong.get("/api/tokens"), 401, "the token is not valid")
    with guarded.client(guarded.admin + "x") as almost:
        error(almost.get("/api/namespaces/"), 401, "the token is not valid")


def test_a_stored_unrestricted_token_reaches_everything(guarded: Guarded) -> None:
    with guarded.client(guarded.admin) as admin:
        names = [n["name"] for n in admin.get("/api/namespaces/").json()["namespaces"]]
        assert "default" in names
        assert not any(n.startswith("_") for n in names)  # the tokens' own namespace is hidden
        assert admin.get("/metrics").status_code == 200
        assert admin.get("/api/tokens").status_code == 200
        error(admin.get("/api/namespaces/_dirigent"), 406)  # and out of reach
    with guarded.client(KEY=guarded.admin) as by_key:  # the 2021 header
        assert by_key.get("/api/namespaces/").status_code == 200


def test_a_token_limited_to_namespaces(guarded: Guarded) -> None:
    suffix = secrets.token_hex(3)
    alpha, beta, gamma = f"alpha-{suffix}", f"beta-{suffix}", f"gamma-{suffix}"
    with guarded.client(guarded.admin) as admin:
        assert admin.post(f"/api/namespaces/{beta}").status_code == 200
    token = create(guarded, f"team-{suffix}", alpha, gamma)
    with guarded.client(token) as team:
        assert team.post(f"/api/namespaces/{alpha}").status_code == 200  # its own may be made
        listed = team.get("/api/namespaces/").json()
        assert [n["name"] for n in listed["namespaces"]] == [alpha]  # gamma does not exist
        assert listed["total"] == 1
        push(team, alpha, ECHO)
        run = team.post(f"/api/namespaces/{alpha}/workflows/echo/execute?wait=true", json={})
        assert run.status_code == 200, run.text
        instance_id = run.headers["Direktiv-InstanceID"]
        assert team.get(f"/api/instances/{instance_id}").json()["status"] == "complete"
        assert team.get(f"/api/instances/{alpha}").status_code == 200

        error(
            team.get(f"/api/namespaces/{beta}/workflows/"),
            403,
            f"token 'team-{suffix}' may only use namespace(s) {alpha}, {gamma}",
            f"not namespace '{beta}'",
        )
        error(team.delete(f"/api/namespaces/{beta}"), 403, beta)
        error(team.get(f"/api/instances/{beta}"), 403, beta)
        error(team.get("/metrics"), 403, "not the server-level route /metrics")
        error(team.get("/api/tokens"), 403, "/api/tokens")
        error(team.post("/api/tokens", json={"name": "mine"}), 403)
    with guarded.client(guarded.admin) as admin:
        assert admin.get(f"/api/namespaces/{beta}").status_code == 200  # untouched
        names = [n["name"] for n in admin.get("/api/namespaces/").json()["namespaces"]]
        assert {alpha, beta} <= set(names)
        for ns in (alpha, beta):
            admin.delete(f"/api/namespaces/{ns}")


def test_manage_tokens_through_the_api(guarded: Guarded) -> None:
    name = f"ci-{secrets.token_hex(3)}"
    with guarded.client(guarded.admin) as admin:
        made = admin.post(
            "/api/tokens", json={"name": name, "namespaces": ["b", "a"], "expires": "30d"}
        )
        assert made.status_code == 200, made.text
        body = made.json()
        assert set(body) == {"name", "namespaces", "createdAt", "expiresAt", "token"}
        assert body["namespaces"] == ["a", "b"]
        assert body["expiresAt"]["seconds"] - body["createdAt"]["seconds"] == 30 * 86400
        token = body["token"]
        listed = admin.get("/api/tokens").json()["tokens"]
        mine = next(t for t in listed if t["name"] == name)
        assert mine == {k: v for k, v in body.items() if k != "token"}
        assert "admin" in [t["name"] for t in listed]
        assert token not in admin.get("/api/tokens").text

        error(admin.post("/api/tokens", json={"name": name}), 409, f"token '{name}' exists")
        error(admin.post("/api/tokens", json={"name": "bad name"}), 406, "name: 'bad name'")
        error(admin.post("/api/tokens", json={"name": "x", "namespaces": ["NO"]}), 406, "'NO'")
        error(admin.post("/api/tokens", json={"name": "x", "expires": "soon"}), 400, "expires:")
        error(admin.post("/api/tokens", json={"namespaces": []}), 400, "name: Field required")
        error(admin.delete("/api/tokens/nobody"), 404, "token 'nobody' does not exist")
        assert "x" not in [t["name"] for t in admin.get("/api/tokens").json()["tokens"]]

        assert admin.delete(f"/api/tokens/{name}").json() == {"name": name}
        assert name not in [t["name"] for t in admin.get("/api/tokens").json()["tokens"]]
    with guarded.client(token) as revoked:
        error(wait_refused(revoked, "/api/namespaces/a"), 401, "the token is not valid")


def test_an_expired_token_is_401(guarded: Guarded) -> None:
    name = f"old-{secrets.token_hex(3)}"

    async def make_expired() -> str:
        store = await open_store(guarded.database)
        try:
            made = await ops.create_token(
                store,
                name,
                now=datetime.now(UTC) - timedelta(days=2),
                expires_in=timedelta(days=1),
            )
        finally:
            await store.aclose()
        return made.token

    token = asyncio.run(make_expired())
    with guarded.client(token) as expired:
        error(expired.get("/api/namespaces/"), 401, f"the token '{name}' expired at")
    with guarded.client(guarded.admin) as admin:
        admin.delete(f"/api/tokens/{name}")


def test_tokens_never_reach_the_log(guarded: Guarded) -> None:
    token = create(guarded, f"quiet-{secrets.token_hex(3)}")
    with guarded.client(token) as c:
        c.get("/api/namespaces/")
        c.get("/api/namespaces/nope")
    log = guarded.server.log_text()
    assert token not in log
    assert guarded.admin not in log


def test_a_revoke_reaches_every_server_once_its_cache_forgets(
    guarded: Guarded, tmp_path: Path
) -> None:
    """A second server on the same database, on loopback with `--require-token` and a half-second
    cache: the revoke made through the first one reaches it."""
    other = start_server(
        tmp_path,
        "--require-token",
        database=guarded.database,
        env={"DIRIGENT_TOKEN_CACHE_SECONDS": "0.5"},
    )
    try:
        name = f"roaming-{secrets.token_hex(3)}"
        token = create(guarded, name)
        with httpx.Client(base_url=other.url, timeout=30) as anonymous:
            error(anonymous.get("/api/namespaces/"), 401, "bearer token is required")
        with httpx.Client(
            base_url=other.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as roaming:
            assert roaming.get("/api/namespaces/").status_code == 200
            with guarded.client(guarded.admin) as admin:
                assert admin.delete(f"/api/tokens/{name}").status_code == 200
            error(wait_refused(roaming, "/api/namespaces/"), 401, "the token is not valid")
    finally:
        other.stop()


def test_require_token_without_any_token_is_refused_at_start(tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DIRIGENT_")}
    command = [sys.executable, "-m", "dirigent", "server", "--require-token"]
    command += ["--data-dir", str(tmp_path), "--port", "0", "--sidecar-port", "0"]
    result = subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 1
    assert "listening on 127.0.0.1 with require_token needs API tokens" in result.stderr
    assert "dirigent token create NAME" in result.stderr


def test_configured_tokens_stay_unrestricted_beside_stored_ones(tmp_path: Path) -> None:
    running = start_server(
        tmp_path, "--require-token", env={"DIRIGENT_API_TOKENS": "boot-strap", **NO_CACHE}
    )
    try:
        with httpx.Client(
            base_url=running.url, headers={"Authorization": "Bearer boot-strap"}
        ) as boot:
            made = boot.post("/api/tokens", json={"name": "first", "namespaces": ["default"]})
            assert made.status_code == 200, made.text
            assert boot.get("/metrics").status_code == 200
            assert [t["name"] for t in boot.get("/api/tokens").json()["tokens"]] == ["first"]
        with httpx.Client(
            base_url=running.url, headers={"Authorization": f"Bearer {made.json()['token']}"}
        ) as first:
            assert first.get("/api/namespaces/default/workflows/").status_code == 200
            error(first.get("/metrics"), 403)
    finally:
        running.stop()

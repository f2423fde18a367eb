"""The REST API tested against a real `dirigent server` process, on SQLite, PostgreSQL and memory.

The server runs with `--port 0` and tells its address on its first line. PostgreSQL tests use the
server of `DIRIGENT_TEST_POSTGRES` (default `postgresql://postgres@127.0.0.1:5432/test`), each API
server in a database of its own; they are skipped when PostgreSQL cannot be reached, unless CI=true.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import httpx
import pytest

from tests.api.support import (
    POSTGRES_URL,
    RunningServer,
    postgres_admin,
    postgres_reachable,
    start_server,
)


@pytest.fixture(scope="session", params=["sqlite", "postgresql", "memory"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """A server shared by the API tests, once per database."""
    database = ""
    scratch = ""
    if request.param == "memory":
        database = "memory://"
    elif request.param == "postgresql":
        if not postgres_reachable():
            if os.environ.get("CI") == "true":
                pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_URL} (CI=true)")
            pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_URL}")
        scratch = f"dirigent_api_{secrets.token_hex(4)}"
        postgres_admin(f'CREATE DATABASE "{scratch}"')
        database = POSTGRES_URL.rsplit("/", 1)[0] + "/" + scratch
    running = start_server(tmp_path_factory.mktemp(f"api-{request.param}"), database=database)
    try:
        yield running
    finally:
        running.stop()
        if scratch:
            postgres_admin(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


@pytest.fixture
def client(server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture
def ns(client: httpx.Client) -> Iterator[str]:
    """A fresh namespace for one test, deleted afterwards."""
    name = f"t-{secrets.token_hex(4)}"
    assert client.post(f"/api/namespaces/{name}").status_code == 200
    yield name
    client.delete(f"/api/namespaces/{name}")

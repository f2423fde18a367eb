"""`dirigent token create|list|revoke` as a user runs them: processes on the server's database, and
the tokens they make used by the client commands against a real `dirigent server` on 0.0.0.0."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.support import RunningServer, start_server
from tests.cli.test_client import dirigent, ok, table


def token(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`dirigent token ARGS --data-dir DATA_DIR`."""
    return dirigent("token", *args, "--data-dir", str(data_dir))


def test_create_and_list(tmp_path: Path) -> None:
    made = token(tmp_path, "create", "admin")
    secret = ok(made).strip()
    assert secret.startswith("dgt_")
    assert made.stdout == secret + "\n"  # alone on stdout, for $(…)
    assert "created token admin (namespaces: all; never expires)" in made.stderr
    assert "shown only this once" in made.stderr

    args = ["create", "ci", "-n", "billing", "--namespace", "alpha", "--expires", "30d"]
    limited = json.loads(ok(token(tmp_path, *args, "-o", "json")))
    assert set(limited) == {"name", "namespaces", "createdAt", "expiresAt", "token"}
    assert limited["namespaces"] == ["alpha", "billing"]
    assert limited["expiresAt"]["seconds"] - limited["createdAt"]["seconds"] == 30 * 86400

    rows = table(ok(token(tmp_path, "list")))
    assert rows[0] == ["NAME", "NAMESPACES", "CREATED", "EXPIRES"]
    assert [r[:2] for r in rows[1:]] == [["admin", "all"], ["ci", "alpha, billing"]]
    assert rows[1][3] == "never"
    listed = json.loads(ok(token(tmp_path, "list", "--output", "json")))
    assert [t["name"] for t in listed] == ["admin", "ci"]
    assert {k: v for k, v in limited.items() if k != "token"} == listed[1]
    assert secret not in json.dumps(listed)


def test_revoke(tmp_path: Path) -> None:
    for name in ("admin", "ci"):
        ok(token(tmp_path, "create", name))
    revoked = token(tmp_path, "revoke", "ci")
    assert ok(revoked) == "revoked token ci\n"
    assert "within 5 s" in revoked.stderr
    assert json.loads(ok(token(tmp_path, "revoke", "admin", "-o", "json"))) == {"name": "admin"}
    empty = token(tmp_path, "list")
    assert (ok(empty), empty.stderr) == ("", "no tokens\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create", "ci", "--expires", "soon"], "error: expires: 'soon' is not a duration"),
        (["create", "ci", "-n", "Not_Valid"], "error: namespaces: 'Not_Valid' is not a valid"),
        (["create", "bad name"], "error: name: 'bad name' is not a valid key"),
        (["revoke", "nobody"], "error: token 'nobody' does not exist"),
    ],
)
def test_bad_input_is_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    result = token(tmp_path, *args)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(message), result.stderr
    assert "Traceback" not in result.stderr


def test_a_name_is_taken_once(tmp_path: Path) -> None:
    ok(token(tmp_path, "create", "ci"))
    again = token(tmp_path, "create", "ci")
    assert (again.returncode, again.stderr) == (1, "error: token 'ci' exists already\n")


def test_the_servers_settings_choose_the_database(tmp_path: Path) -> None:
    database = tmp_path / "elsewhere.db"
    config = tmp_path / "dirigent.toml"
    config.write_text(f'database = "sqlite:///{database}"\n')
    ok(dirigent("token", "create", "ci", "--config", str(config)))
    assert database.exists()
    elsewhere = ["--database", f"sqlite:///{database}"]
    listed = json.loads(ok(dirigent("token", "list", "-o", "json", *elsewhere)))
    assert [t["name"] for t in listed] == ["ci"]
    from_env = dirigent("token", "list", env={"DIRIGENT_DATABASE": f"sqlite:///{database}"})
    assert table(ok(from_env))[1][0] == "ci"
    memory = dirigent("token", "list", "--database", "memory://")
    assert memory.returncode == 1
    assert memory.stderr == "error: tokens need the server's database: memory:// keeps nothing\n"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, Path]]:
    """A server on 0.0.0.0 whose first token is made by the CLI before it starts."""
    data_dir = tmp_path_factory.mktemp("guarded")
    ok(token(data_dir, "create", "first"))
    running = start_server(
        data_dir, "--listen", "0.0.0.0", env={"DIRIGENT_TOKEN_CACHE_SECONDS": "0"}
    )
    running.url = running.url.replace("0.0.0.0", "127.0.0.1")
    try:
        yield running, data_dir
    finally:
        running.stop()


def test_client_commands_send_the_token(guarded: tuple[RunningServer, Path]) -> None:
    running, data_dir = guarded
    admin = ok(token(data_dir, "create", "admin")).strip()  # while the server runs
    refused = dirigent("namespace", "list", server=running.url)
    assert refused.returncode == 1
    assert "bearer token is required" in refused.stderr
    assert "(pass --token, or set DIRIGENT_TOKEN)" in refused.stderr
    ok(dirigent("namespace", "create", "other", "--token", admin, server=running.url))
    as_admin = {"DIRIGENT_TOKEN": admin}
    names = table(ok(dirigent("namespace", "list", server=running.url, env=as_admin)))
    assert [r[0] for r in names[1:]] == ["default", "other"]


def test_a_token_limited_to_a_namespace_then_revoked(guarded: tuple[RunningServer, Path]) -> None:
    running, data_dir = guarded
    as_team = {"DIRIGENT_TOKEN": ok(token(data_dir, "create", "team", "-n", "default")).strip()}
    names = table(ok(dirigent("namespace", "list", server=running.url, env=as_team)))
    assert [r[0] for r in names[1:]] == ["default"]
    ok(dirigent("workflow", "list", server=running.url, env=as_team))
    other = dirigent("workflow", "list", "-n", "other", server=running.url, env=as_team)
    assert other.returncode == 1
    assert "may only use namespace(s) default, not namespace 'other'" in other.stderr

    ok(token(data_dir, "revoke", "team"))
    after = dirigent("workflow", "list", server=running.url, env=as_team)  # no cache: at once
    assert after.returncode == 1
    assert "the token is not valid" in after.stderr

"""The client commands (`dirigent namespace|workflow|instance|variable|secret|registry …`) as a user
runs them: real processes against a real `dirigent server` process on a free port."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dirigent.cli.main import app
from tests.fixtures.functions.runner import free_port

ROOT = Path(__file__).resolve().parents[2]
DIRIGENT = [sys.executable, "-m", "dirigent"]
HELLO = ROOT / "examples" / "hello" / "hello.yaml"

SLOW = """\
id: slow
description: Waits a minute, to be cancelled.
states:
  - id: wait
    type: delay
    duration: PT60S
"""

BROKEN = """\
id: broken
states:
  - id: a
    type: noop
    transition: nowhere
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A `dirigent server` process on a free port with its own data directory; its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    data_dir = tmp_path_factory.mktemp("server")
    log = (data_dir / "server.log").open("wb")
    process = subprocess.Popen(
        [
            *DIRIGENT,
            "server",
            "--data-dir",
            str(data_dir),
            "--port",
            str(port),
            "--sidecar-port",
            "0",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=data_dir,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                log.close()
                pytest.fail(f"the server exited: {(data_dir / 'server.log').read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/api/healthz", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail("the server did not answer /api/healthz within 30 s")
            time.sleep(0.1)  # a real process: waiting for it to listen is the only way
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def dirigent(
    *args: str,
    server: str | None = None,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `dirigent ARGS --server SERVER` (no --server when None) as a process."""
    command = [*DIRIGENT, *args]
    if server is not None:
        command += ["--server", server]
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DIRIGENT_SERVER", "DIRIGENT_NAMESPACE", "DIRIGENT_TOKEN")
    }
    environment.update(env or {})
    return subprocess.run(
        command,
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd or ROOT,
        env=environment,
        check=False,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def table(stdout: str) -> list[list[str]]:
    """The rows of a borderless table, header first, each split into its cells."""
    return [re.split(r"\s{2,}", line.strip()) for line in stdout.splitlines() if line.strip()]


@pytest.fixture
def ns(server: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace for one test, deleted afterwards."""
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:40].strip("-")
    ok(dirigent("namespace", "create", name, server=server))
    yield name
    dirigent("namespace", "delete", name, server=server)


def in_ns(server: str, ns: str, *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return dirigent(*args, "--namespace", ns, server=server, **kwargs)  # type: ignore[arg-type]


def push_hello(server: str, ns: str) -> None:
    ok(in_ns(server, ns, "workflow", "push", str(HELLO)))


# Without a server


def test_no_server_is_one_clear_line() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = dirigent("namespace", "list", server=url)
    assert result.returncode == 1
    assert result.stdout == ""
    assert (
        result.stderr == f"error: no Dirigent server at {url} (start one with: dirigent server)\n"
    )


def test_server_from_the_environment() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = dirigent("workflow", "list", env={"DIRIGENT_SERVER": url})
    assert result.returncode == 1
    assert (
        result.stderr == f"error: no Dirigent server at {url} (start one with: dirigent server)\n"
    )


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["namespace"],
        ["namespace", "list"],
        ["namespace", "create"],
        ["namespace", "delete"],
        ["workflow"],
        ["workflow", "list"],
        ["workflow", "get"],
        ["workflow", "push"],
        ["workflow", "delete"],
        ["workflow", "toggle"],
        ["workflow", "download"],
        ["workflow", "exec"],
        ["instance"],
        ["instance", "list"],
        ["instance", "get"],
        ["instance", "logs"],
        ["instance", "cancel"],
        ["variable"],
        ["variable", "list"],
        ["variable", "get"],
        ["variable", "set"],
        ["variable", "delete"],
        ["secret"],
        ["secret", "list"],
        ["secret", "set"],
        ["secret", "delete"],
        ["registry"],
        ["registry", "list"],
        ["registry", "set"],
        ["registry", "delete"],
    ],
)
def test_help_everywhere(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"])  # in-process: only parsing happens
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.stdout
    if len(command) == 2:
        assert "--server" in result.stdout
        assert "--output" in result.stdout


def test_bad_instance_id_is_refused_before_calling() -> None:
    result = dirigent("instance", "get", "just-one-part", server="http://127.0.0.1:1")
    assert result.returncode == 1
    assert result.stderr == (
        "error: not an instance id: 'just-one-part' (expected NAMESPACE/WORKFLOW/ID)\n"
    )


def test_input_that_is_neither_file_nor_json_is_a_usage_error() -> None:
    result = dirigent(
        "workflow", "exec", "hello", "--input", "nope.json", server="http://127.0.0.1:1"
    )
    assert result.returncode == 2
    assert "is neither a file nor JSON text" in result.stderr


# Namespaces


def test_namespace_create_list_delete(server: str) -> None:
    assert ok(dirigent("namespace", "create", "team-a", server=server)) == (
        "created namespace team-a\n"
    )
    listed = json.loads(ok(dirigent("namespace", "list", "--output", "json", server=server)))
    mine = [n for n in listed if n["name"] == "team-a"]
    assert len(mine) == 1
    assert set(mine[0]["createdAt"]) == {"seconds", "nanos"}
    rows = table(ok(dirigent("namespace", "list", server=server)))
    assert rows[0] == ["NAME", "CREATED"]
    assert any(
        r[0] == "team-a" and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", r[1]) for r in rows
    )

    again = dirigent("namespace", "create", "team-a", server=server)
    assert again.returncode == 1
    assert again.stderr.startswith("error: ")
    assert "team-a" in again.stderr

    assert ok(dirigent("namespace", "delete", "team-a", server=server)) == (
        "deleted namespace team-a\n"
    )
    listed = json.loads(ok(dirigent("namespace", "list", "-o", "json", server=server)))
    assert "team-a" not in [n["name"] for n in listed]


def test_invalid_namespace_name_shows_the_servers_message(server: str) -> None:
    result = dirigent("namespace", "create", "Not_Valid!", server=server)
    assert result.returncode == 1
    assert result.stderr.startswith("error: ")
    assert "is not a valid name" in result.stderr
    assert "Traceback" not in result.stderr


# Workflows


def test_push_creates_then_updates(server: str, ns: str, tmp_path: Path) -> None:
    flow = tmp_path / "hello.yaml"
    shutil.copy(HELLO, flow)
    assert ok(in_ns(server, ns, "workflow", "push", str(flow))) == (
        f"{flow}: created hello (revision 0)\n"
    )
    assert ok(in_ns(server, ns, "workflow", "push", str(flow))) == (
        f"{flow}: updated hello (revision 1)\n"
    )
    pushed = json.loads(ok(in_ns(server, ns, "workflow", "push", str(flow), "-o", "json")))
    assert pushed == [{"file": str(flow), "id": "hello", "action": "updated", "revision": 2}]

    listed = json.loads(ok(in_ns(server, ns, "workflow", "list", "-o", "json")))
    assert [(w["id"], w["revision"], w["active"]) for w in listed] == [("hello", 2, True)]
    rows = table(ok(in_ns(server, ns, "workflow", "list")))
    assert rows[0] == ["ID", "REVISION", "ACTIVE", "CREATED", "DESCRIPTION"]
    assert rows[1][:3] == ["hello", "2", "yes"]
    assert rows[1][4].startswith("Greets someone")

    detail = json.loads(ok(in_ns(server, ns, "workflow", "get", "hello", "-o", "json")))
    assert detail["name"] == "hello"
    assert detail["revision"] == 2
    fields = ok(in_ns(server, ns, "workflow", "get", "hello"))
    assert re.search(r"^revision: +2$", fields, re.M)
    assert re.search(r"^active: +yes$", fields, re.M)

    assert ok(in_ns(server, ns, "workflow", "download", "hello")) == HELLO.read_text()


def test_push_shows_warnings_with_their_place(server: str, ns: str, tmp_path: Path) -> None:
    flow = tmp_path / "warn.yaml"
    flow.write_text("id: warn\nstates:\n  - id: a\n    type: noop\n  - id: b\n    type: noop\n")
    result = in_ns(server, ns, "workflow", "push", str(flow))
    assert ok(result) == f"{flow}: created warn (revision 0)\n"
    assert result.stderr == (
        f"warning: {flow}:5:5: states[1]: state 'b' is unreachable from the start state\n"
    )


def test_push_a_folder(server: str, ns: str, tmp_path: Path) -> None:
    shutil.copy(HELLO, tmp_path / "hello.yaml")
    (tmp_path / "slow.yml").write_text(SLOW)
    (tmp_path / "notes.txt").write_text("not a workflow")
    out = ok(in_ns(server, ns, "workflow", "push", str(tmp_path)))
    assert out.splitlines() == [
        f"{tmp_path / 'hello.yaml'}: created hello (revision 0)",
        f"{tmp_path / 'slow.yml'}: created slow (revision 0)",
    ]
    listed = json.loads(ok(in_ns(server, ns, "workflow", "list", "-o", "json")))
    assert sorted(w["id"] for w in listed) == ["hello", "slow"]

    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "deeper.yaml").write_text(SLOW.replace("id: slow", "id: deeper"))
    out = ok(in_ns(server, ns, "workflow", "push", "--recursive", str(tmp_path)))
    assert out.splitlines() == [
        f"{tmp_path / 'hello.yaml'}: updated hello (revision 1)",
        f"{tmp_path / 'slow.yml'}: updated slow (revision 1)",
        f"{tmp_path / 'sub' / 'deeper.yaml'}: created deeper (revision 0)",
    ]
    empty = tmp_path / "empty"
    empty.mkdir()
    result = in_ns(server, ns, "workflow", "push", str(empty))
    assert result.returncode == 1
    assert result.stderr == f"error: no *.yaml or *.yml files in {empty}\n"


def test_invalid_workflow_shows_the_line(server: str, ns: str, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN)
    good = tmp_path / "good.yaml"
    shutil.copy(HELLO, good)
    result = in_ns(server, ns, "workflow", "push", str(broken), str(good))
    assert result.returncode == 1
    assert result.stdout == f"{good}: created hello (revision 0)\n"
    lines = result.stderr.splitlines()
    assert lines[0] == f"error: {broken}: the workflow definition is not valid:"
    assert re.fullmatch(
        rf"  {re.escape(str(broken))}:5:\d+: states\[0\]\.transition: .*nowhere.*", lines[1]
    )
    listed = json.loads(ok(in_ns(server, ns, "workflow", "list", "-o", "json")))
    assert [w["id"] for w in listed] == ["hello"]


def test_not_yaml_at_all(server: str, ns: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nstates: [\n")
    result = in_ns(server, ns, "workflow", "push", str(bad))
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {bad}: ")
    assert re.search(rf"{re.escape(str(bad))}:\d+", result.stderr)


def test_push_missing_file(server: str, ns: str, tmp_path: Path) -> None:
    result = in_ns(server, ns, "workflow", "push", str(tmp_path / "nope.yaml"))
    assert result.returncode == 1
    assert result.stderr == f"error: no such file or folder: {tmp_path / 'nope.yaml'}\n"


def test_unknown_workflow(server: str, ns: str) -> None:
    for command in (["get"], ["download"], ["delete"], ["toggle"], ["exec", "--wait"], ["exec"]):
        result = in_ns(server, ns, "workflow", command[0], "nope", *command[1:])
        assert result.returncode == 1, command
        assert result.stdout == ""
        assert result.stderr == (f"error: workflow 'nope' does not exist in namespace '{ns}'\n"), (
            command
        )


def test_unknown_namespace(server: str) -> None:
    result = dirigent("workflow", "list", "-n", "no-such-ns", server=server)
    assert result.returncode == 1
    assert result.stderr.startswith("error: ")
    assert "no-such-ns" in result.stderr


def test_toggle_and_delete(server: str, ns: str) -> None:
    push_hello(server, ns)
    assert (
        ok(in_ns(server, ns, "workflow", "toggle", "hello")) == "workflow hello is now inactive\n"
    )
    refused = in_ns(server, ns, "workflow", "exec", "hello", "--input", '{"name": "Ada"}')
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: ")
    toggled = json.loads(ok(in_ns(server, ns, "workflow", "toggle", "hello", "-o", "json")))
    assert toggled["active"] is True
    assert ok(in_ns(server, ns, "workflow", "delete", "hello")) == "deleted workflow hello\n"
    assert json.loads(ok(in_ns(server, ns, "workflow", "list", "-o", "json"))) == []


# Executing, instances


def test_exec_wait_prints_the_output(server: str, ns: str) -> None:
    push_hello(server, ns)
    result = in_ns(server, ns, "workflow", "exec", "hello", "--input", '{"name": "Ada"}', "--wait")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"greeting": "Hello, Ada!"}
    progress = result.stderr.splitlines()
    assert progress, "a progress line on stderr"
    assert re.fullmatch(rf"{ns}/hello/\S+: complete(, state \S+)? \(\d+\.\d+s\)", progress[-1])


def test_exec_wait_field_and_inputs(server: str, ns: str, tmp_path: Path) -> None:
    push_hello(server, ns)
    result = in_ns(
        server, ns, "workflow", "exec", "hello", "-i", '{"name": "Bo"}', "--wait",
        "--field", ".greeting",
    )  # fmt: skip
    assert ok(result) == "Hello, Bo!\n"  # a string comes out as text, as with ?field=
    result = in_ns(
        server, ns, "workflow", "exec", "hello", "-i", '{"name": "Bo"}', "--wait",
        "--field", "{g: .greeting}",
    )  # fmt: skip
    assert json.loads(ok(result)) == {"g": "Hello, Bo!"}
    bad = in_ns(server, ns, "workflow", "exec", "hello", "--wait", "--field", ".[")
    assert bad.returncode == 1
    assert bad.stderr.startswith("error: field: ")
    given = tmp_path / "in.json"
    given.write_text('{"name": "Cy"}')
    result = in_ns(server, ns, "workflow", "exec", "hello", "--input", str(given), "--wait")
    assert json.loads(ok(result)) == {"greeting": "Hello, Cy!"}
    result = in_ns(
        server, ns, "workflow", "exec", "hello", "--input", "-", "--wait", stdin=b'{"name": "Di"}'
    )
    assert json.loads(ok(result)) == {"greeting": "Hello, Di!"}


def test_exec_wait_failure_exits_1_with_code_and_message(server: str, ns: str) -> None:
    push_hello(server, ns)
    result = in_ns(server, ns, "workflow", "exec", "hello", "--input", "{}", "--wait")
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: failed hello.input: no name to greet: ")
    assert json.loads(result.stdout)["error"]["code"] == "direktiv.schema.failed"


def test_exec_then_instance_commands(server: str, ns: str) -> None:
    push_hello(server, ns)
    started = ok(in_ns(server, ns, "workflow", "exec", "hello", "--input", '{"name": "Ed"}'))
    instance_id = started.strip()
    assert re.fullmatch(rf"{ns}/hello/\S+", instance_id)

    # --follow returns once the instance has ended
    logs = ok(in_ns(server, ns, "instance", "logs", instance_id, "--follow"))
    assert re.search(
        r"^\d\d:\d\d:\d\d\.\d{3} \[greet\] greeting Ed, greeting number 1$", logs, re.M
    )
    again = ok(in_ns(server, ns, "instance", "logs", instance_id))
    assert "[greet] greeting Ed, greeting number 1" in again
    entries = [json.loads(line) for line in ok(
        in_ns(server, ns, "instance", "logs", instance_id, "-o", "json")
    ).splitlines()]  # fmt: skip
    assert "greeting Ed, greeting number 1" in [e["message"] for e in entries]

    detail = json.loads(ok(in_ns(server, ns, "instance", "get", instance_id, "-o", "json")))
    assert detail["id"] == instance_id
    assert detail["status"] == "complete"
    fields = ok(in_ns(server, ns, "instance", "get", instance_id))
    assert re.search(r"^status: +complete$", fields, re.M)
    assert '"greeting": "Hello, Ed!"' in fields

    listed = json.loads(
        ok(in_ns(server, ns, "instance", "list", "--workflow", "hello", "-o", "json"))
    )
    assert [i["id"] for i in listed] == [instance_id]
    rows = table(ok(in_ns(server, ns, "instance", "list")))
    assert rows[0] == ["ID", "STATUS", "STARTED", "TOOK"]
    assert rows[1][:2] == [instance_id, "complete"]
    failed = json.loads(
        ok(in_ns(server, ns, "instance", "list", "--status", "failed", "-o", "json"))
    )
    assert failed == []

    # WORKFLOW/ID in --namespace means the same instance
    short = instance_id.split("/", 1)[1]
    assert json.loads(ok(in_ns(server, ns, "instance", "get", short, "-o", "json")))["id"] == (
        instance_id
    )


def test_unknown_instance(server: str, ns: str) -> None:
    push_hello(server, ns)
    result = in_ns(server, ns, "instance", "get", f"{ns}/hello/nope")
    assert result.returncode == 1
    assert result.stderr.startswith("error: ")
    assert "nope" in result.stderr


def test_cancel(server: str, ns: str, tmp_path: Path) -> None:
    (tmp_path / "slow.yaml").write_text(SLOW)
    ok(in_ns(server, ns, "workflow", "push", str(tmp_path / "slow.yaml")))
    instance_id = ok(in_ns(server, ns, "workflow", "exec", "slow")).strip()
    assert ok(in_ns(server, ns, "instance", "cancel", instance_id)) == (
        f"cancelled instance {instance_id}\n"
    )
    # follow the log to the end: the instance has ended when it returns
    ok(in_ns(server, ns, "instance", "logs", instance_id, "--follow"))
    detail = json.loads(ok(in_ns(server, ns, "instance", "get", instance_id, "-o", "json")))
    assert detail["status"] == "cancelled"
    assert detail["errorCode"] == "direktiv.cancels.api"


# Variables, secrets, registries


def test_namespace_variables(server: str, ns: str, tmp_path: Path) -> None:
    value = tmp_path / "config.json"
    value.write_bytes(b'{"colour": "blue"}')
    assert ok(in_ns(server, ns, "variable", "set", "config", str(value))) == (
        f"set variable config in namespace {ns} (18 bytes)\n"
    )
    ok(in_ns(server, ns, "variable", "set", "note", "-", stdin=b"hello\n"))
    listed = json.loads(ok(in_ns(server, ns, "variable", "list", "-o", "json")))
    assert sorted((v["name"], v["size"]) for v in listed) == [("config", 18), ("note", 6)]
    rows = table(ok(in_ns(server, ns, "variable", "list")))
    assert rows[0] == ["KEY", "SIZE", "TYPE"]
    assert sorted(r[:2] for r in rows[1:]) == [["config", "18"], ["note", "6"]]
    assert ok(in_ns(server, ns, "variable", "get", "config")) == '{"colour": "blue"}'
    assert ok(in_ns(server, ns, "variable", "delete", "note")) == (
        f"deleted variable note in namespace {ns}\n"
    )
    listed = json.loads(ok(in_ns(server, ns, "variable", "list", "-o", "json")))
    assert [v["name"] for v in listed] == ["config"]


def test_empty_variable_value_is_refused(server: str, ns: str, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    result = in_ns(server, ns, "variable", "set", "x", str(empty))
    assert result.returncode == 1
    assert result.stderr == (
        "error: the value is empty (to remove the variable: dirigent variable delete x)\n"
    )


def test_workflow_variables(server: str, ns: str) -> None:
    push_hello(server, ns)
    ok(in_ns(server, ns, "workflow", "exec", "hello", "-i", '{"name": "Fa"}', "--wait"))
    listed = json.loads(ok(in_ns(server, ns, "variable", "list", "-w", "hello", "-o", "json")))
    assert [v["name"] for v in listed] == ["greetings"]
    assert json.loads(ok(in_ns(server, ns, "variable", "get", "greetings", "-w", "hello"))) == 1
    # the namespace's variables are another set
    assert json.loads(ok(in_ns(server, ns, "variable", "list", "-o", "json"))) == []
    ok(in_ns(server, ns, "variable", "set", "greetings", "-", "-w", "hello", stdin=b"41"))
    result = in_ns(server, ns, "workflow", "exec", "hello", "-i", '{"name": "Fa"}', "--wait")
    assert json.loads(ok(result)) == {"greeting": "Hello, Fa!"}
    assert ok(in_ns(server, ns, "variable", "get", "greetings", "-w", "hello")) == "42"


def test_unknown_variable(server: str, ns: str) -> None:
    result = in_ns(server, ns, "variable", "get", "nope")
    assert result.returncode == 1
    assert result.stderr.startswith("error: ")
    assert "nope" in result.stderr


def test_secrets(server: str, ns: str) -> None:
    assert ok(in_ns(server, ns, "secret", "set", "apikey", "s3cret")) == (
        f"set secret apikey in namespace {ns}\n"
    )
    ok(in_ns(server, ns, "secret", "set", "token", "-", stdin=b"from-stdin\n"))
    listed = json.loads(ok(in_ns(server, ns, "secret", "list", "-o", "json")))
    assert sorted(s["name"] for s in listed) == ["apikey", "token"]
    rows = table(ok(in_ns(server, ns, "secret", "list")))
    assert rows == [["NAME"], ["apikey"], ["token"]] or rows == [["NAME"], ["token"], ["apikey"]]
    assert "s3cret" not in ok(in_ns(server, ns, "secret", "list", "-o", "json"))
    ok(in_ns(server, ns, "secret", "delete", "apikey"))
    listed = json.loads(ok(in_ns(server, ns, "secret", "list", "-o", "json")))
    assert [s["name"] for s in listed] == ["token"]


def test_secret_without_value_and_without_terminal(server: str, ns: str) -> None:
    result = in_ns(server, ns, "secret", "set", "apikey", stdin=b"")
    assert result.returncode == 1
    assert result.stderr == "error: no value given (pass it, or - to read it from stdin)\n"


def test_registries(server: str, ns: str) -> None:
    assert ok(in_ns(server, ns, "registry", "set", "https://ghcr.io", "ada:tok")) == (
        f"set registry https://ghcr.io in namespace {ns}\n"
    )
    listed = json.loads(ok(in_ns(server, ns, "registry", "list", "-o", "json")))
    assert listed == [{"name": "https://ghcr.io", "id": "aHR0cHM6Ly9naGNyLmlv"}]
    assert table(ok(in_ns(server, ns, "registry", "list"))) == [["NAME"], ["https://ghcr.io"]]
    ok(in_ns(server, ns, "registry", "delete", "https://ghcr.io"))
    assert json.loads(ok(in_ns(server, ns, "registry", "list", "-o", "json"))) == []
    bad = in_ns(server, ns, "registry", "set", "https://ghcr.io", "no-colon")
    assert bad.returncode == 1
    assert bad.stderr == "error: the login must be USER:TOKEN\n"


def test_namespace_from_the_environment(server: str, ns: str) -> None:
    push_hello(server, ns)
    listed = dirigent(
        "workflow", "list", "-o", "json", server=server, env={"DIRIGENT_NAMESPACE": ns}
    )
    assert [w["id"] for w in json.loads(ok(listed))] == ["hello"]

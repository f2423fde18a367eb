"""`dirigent run`, `dirigent lint` and `dirigent schema` as a user runs them: real processes."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.fixtures.functions.runner import free_port
from tests.functions.pods import needs_namespaces

ROOT = Path(__file__).resolve().parents[2]
DIRIGENT = [sys.executable, "-m", "dirigent"]


def dirigent(
    *args: str, stdin: bytes | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    # A free sidecar port, so that a Dirigent already running on this machine does not matter.
    if args and args[0] == "run":
        args = (*args, "--sidecar-port", "0")
    return subprocess.run(
        [*DIRIGENT, *args],
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd or ROOT,
        check=False,
    )


def test_demo_workflow_runs() -> None:
    result = dirigent("run", "examples/hello/hello.yaml", "--input", '{"name": "Ada"}')
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"greeting": "Hello, Ada!"}
    assert "[greet] greeting Ada, greeting number 1" in result.stderr


def test_failure_exits_1_with_code_and_message() -> None:
    result = dirigent("run", "examples/hello/hello.yaml", "--input", "{}")
    assert result.returncode == 1
    assert json.loads(result.stdout)["error"]["code"] == "direktiv.schema.failed"
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: failed hello.input: no name to greet: 1 violation(s): ")


def test_input_from_stdin_and_file(tmp_path: Path) -> None:
    result = dirigent("run", "examples/hello/hello.yaml", "--input", "-", stdin=b'{"name": "Bo"}')
    assert json.loads(result.stdout) == {"greeting": "Hello, Bo!"}
    given = tmp_path / "in.json"
    given.write_text('{"name": "Cy"}')
    result = dirigent("run", "examples/hello/hello.yaml", "--input", str(given))
    assert json.loads(result.stdout) == {"greeting": "Hello, Cy!"}


def test_definition_error_exits_3_with_location(tmp_path: Path) -> None:
    flow = tmp_path / "broken.yaml"
    flow.write_text("id: broken\nstates:\n  - id: a\n    type: noop\n    transition: nowhere\n")
    result = dirigent("run", str(flow))
    assert result.returncode == 3
    assert f"{flow}:5:" in result.stderr
    assert "states[0].transition" in result.stderr
    assert "nowhere" in result.stderr
    assert result.stdout == ""


def test_subflows_from_the_same_directory(tmp_path: Path) -> None:
    (tmp_path / "main.yaml").write_text(
        "id: main\nstates:\n  - id: call\n    type: action\n    action:\n      workflow: helper\n"
        "      input: 'jq({v: .v})'\n"
    )
    (tmp_path / "helper.yaml").write_text(
        "id: helper\nstates:\n  - id: s\n    type: noop\n    transform: 'jq({w: (.v + 1)})'\n"
    )
    result = dirigent("run", str(tmp_path / "main.yaml"), "--input", '{"v": 1}')
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"v": 1, "return": {"w": 2}}


def test_preset_variables(tmp_path: Path) -> None:
    (tmp_path / "value.json").write_text('{"k": 1}')
    (tmp_path / "flow.yaml").write_text(
        "id: flow\nstates:\n  - id: g\n    type: getter\n    variables:\n"
        "      - key: preset\n        scope: workflow\n      - key: mine\n"
    )
    result = dirigent(
        "run",
        str(tmp_path / "flow.yaml"),
        "--var",
        f"workflow/preset={tmp_path / 'value.json'}",
        "--var",
        f"instance/mine={tmp_path / 'value.json'}",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"var": {"preset": {"k": 1}, "mine": {"k": 1}}}


def test_bad_option_is_a_clear_error() -> None:
    result = dirigent("run", "examples/hello/hello.yaml", "--service", "no-equals-sign")
    assert result.returncode == 2
    assert "expected NAME=VALUE" in result.stderr
    assert "Traceback" not in result.stderr


def test_lint_reports_all_problems_and_exit_codes(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "id: bad\nstates:\n  - id: a\n    type: sleep\n  - id: b\n    type: noop\n    extra: 1\n"
    )
    result = dirigent("lint", str(bad), "examples/hello/hello.yaml")
    assert result.returncode == 3
    assert f"{bad}:4:" in result.stderr  # the unknown type, on its line
    assert f"{bad}:7:" in result.stderr  # the unknown key, on its line
    assert "examples/hello/hello.yaml: ok (5 states)" in result.stdout
    good = dirigent("lint", "examples/hello/hello.yaml")
    assert good.returncode == 0


def test_schema_is_json_schema() -> None:
    result = dirigent("schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert "properties" in schema or "$defs" in schema
    assert "states" in json.dumps(schema)


def test_run_with_a_real_function_and_its_logs(tmp_path: Path) -> None:
    # The example, with its retry delay cut so the test does not sleep.
    example = (ROOT / "examples/greeting/greeting.yaml").read_text()
    flow = tmp_path / "greeting.yaml"
    flow.write_text(example.replace("delay: PT1S", "delay: PT0S"))
    port = free_port()
    greeter = subprocess.Popen(
        [sys.executable, "tests/fixtures/functions/greeter.py", "--port", str(port)], cwd=ROOT
    )
    try:
        _wait_listening(port)
        url = f"http://127.0.0.1:{port}"
        ok = dirigent(
            "run",
            str(flow),
            "--service",
            f"greeter={url}",
            "--input",
            '{"name": "Ada"}',
        )
        assert ok.returncode == 0, ok.stderr
        assert json.loads(ok.stdout) == {"greeting": "Hello, Ada!"}
        # A greeter input error is retried once, then caught.
        sorry = dirigent("run", str(flow), "--service", f"greeter={url}", "--input", "{}")
        assert sorry.returncode == 0, sorry.stderr
        output = json.loads(sorry.stdout)
        assert output["greeting"] == "Sorry, no greeting today."
        assert output["why"] == (
            "retries exceeded (1); last error: greeter.input: Missing 'name' property in JSON input."
        )
        assert "retrying action 0 after greeter.input (retry 1 of 1, in 0s)" in sorry.stderr
    finally:
        greeter.terminate()
        greeter.wait()


@needs_namespaces
def test_run_with_an_image_mapped_to_a_local_pod() -> None:
    greeter = f"{sys.executable} -u tests/fixtures/functions/greeter.py"
    ok = dirigent(
        "run",
        "examples/greeting/greeting.yaml",
        "--function",
        f"direktiv/greeter={greeter}",
        "--input",
        '{"name": "Pod"}',
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout) == {"greeting": "Hello, Pod!"}


def test_bad_function_mapping_is_a_clear_error() -> None:
    bad = dirigent("run", "examples/hello/hello.yaml", "--function", "no-equals-sign")
    assert bad.returncode == 1
    assert "--function wants IMAGE=DIR-OR-COMMAND, got 'no-equals-sign'" in bad.stderr


def test_unmapped_function_crashes_with_a_hint() -> None:
    result = dirigent("run", "examples/greeting/greeting.yaml", "--input", '{"name": "Ada"}')
    assert result.returncode == 1
    assert "run it with --function direktiv/greeter:v1=DIR-OR-COMMAND" in result.stderr
    assert "reach it at a URL with --service ID=URL" in result.stderr


def _wait_listening(port: int) -> None:
    for _ in range(500):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.01)
    raise AssertionError(f"nothing listens on port {port}")

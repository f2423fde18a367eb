"""`dirigent function new|call|serve`, and a workflow calling an SDK function, as a user runs them."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
from pathlib import Path

import aiohttp
from typer.testing import CliRunner

from dirigent.cli.main import app
from dirigent.sdk.process import free_port
from tests.sdk.support import DIRIGENT, FUNCTIONS, ROOT, Printed, read_lines, start

KITCHEN = str(FUNCTIONS / "kitchen")
GREETER = str(FUNCTIONS / "greeter")


def dirigent(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*DIRIGENT, *args], capture_output=True, text=True, timeout=50, cwd=cwd, check=False
    )


# new


def test_new_makes_a_function_folder(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["function", "new", "greeter", "--dir", str(tmp_path / "g")])
    assert result.exit_code == 0, result.output
    made = sorted(path.name for path in (tmp_path / "g").iterdir())
    assert made == [
        ".dockerignore",
        "Dockerfile",
        "README.md",
        "main.py",
        "requirements.txt",
        "test_main.py",
    ]
    dockerfile = (tmp_path / "g" / "Dockerfile").read_text()
    assert dockerfile.startswith("FROM python:3.11-slim\n")
    assert "EXPOSE 8080" in dockerfile
    assert 'CMD ["python", "-u", "main.py"]' in dockerfile
    assert "greeter.empty" in (tmp_path / "g" / "main.py").read_text()


def test_new_refuses_an_existing_folder_and_a_bad_name(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    result = CliRunner().invoke(app, ["function", "new", "taken", "--dir", str(tmp_path / "taken")])
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert list((tmp_path / "taken").iterdir()) == []
    result = CliRunner().invoke(app, ["function", "new", "Bad_Name", "--dir", str(tmp_path / "b")])
    assert result.exit_code == 1
    assert "is not a function name" in result.output
    assert not (tmp_path / "b").exists()


def test_a_new_function_passes_its_own_tests_and_answers_calls(tmp_path: Path) -> None:
    assert dirigent("function", "new", "hello", cwd=tmp_path).returncode == 0
    folder = tmp_path / "hello"
    tests = subprocess.run(
        [DIRIGENT[0], "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:asyncio"],
        capture_output=True,
        text=True,
        timeout=50,
        cwd=folder,
        check=False,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "3 passed" in tests.stdout
    called = dirigent("function", "call", str(folder), "--input", '{"name": "Ada"}')
    assert called.returncode == 0, called.stderr
    assert json.loads(called.stdout) == {"greeting": "Hello, Ada!"}
    assert "[hello " in called.stderr
    assert "] greeting Ada" in called.stderr


# call


def test_call_a_folder_shows_output_logs_and_variables(tmp_path: Path) -> None:
    data = tmp_path / "data.txt"
    data.write_text("payload")
    result = dirigent(
        "function", "call", KITCHEN, "-i", '{"do": "files"}', "--file", f"data={data}"
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["data"] == "payload"
    assert "variable instance/result: 7 bytes, application/octet-stream" in result.stderr
    assert "variable workflow/report: " in result.stderr
    assert "instance/data" not in result.stderr  # given, not made


def test_call_with_json_output_for_scripts(tmp_path: Path) -> None:
    given = tmp_path / "in.json"
    given.write_text('{"do": "log", "lines": ["a", "b"]}')
    result = dirigent("function", "call", KITCHEN, "--input", f"@{given}", "--output", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "output": {"logged": 2},
        "error": None,
        "logs": ["a", "b"],
        "variables": {},
    }


FAIL = '{"do": "fail", "code": "k.bad", "message": "no good"}'


def test_a_function_error_exits_1() -> None:
    result = dirigent("function", "call", KITCHEN, "-i", FAIL)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines()[-1] == "error: k.bad: no good"


def test_a_function_error_in_json() -> None:
    result = dirigent("function", "call", KITCHEN, "-i", FAIL, "-o", "json")
    assert result.returncode == 1
    assert json.loads(result.stdout)["error"] == {
        "code": "k.bad",
        "message": "no good",
        "catchable": True,
    }


def test_a_crash_exits_1_and_shows_the_traceback() -> None:
    result = dirigent("function", "call", KITCHEN, "-i", '{"do": "crash"}')
    assert result.returncode == 1
    assert "kitchen| RuntimeError: kaboom" in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert (
        last
        == "error: the function crashed (an error message without a code): RuntimeError: kaboom"
    )


def test_bad_usage_exits_2() -> None:
    runner = CliRunner(env={"COLUMNS": "300"})  # messages on one line
    result = runner.invoke(app, ["function", "call", KITCHEN, "-i", "{nope"])
    assert result.exit_code == 2
    assert "the input is not JSON" in result.output
    result = runner.invoke(app, ["function", "call", "no-such-folder"])
    assert result.exit_code == 2
    assert "neither an http(s) URL nor a folder" in result.output
    result = runner.invoke(app, ["function", "call", KITCHEN, "--file", "oops"])
    assert result.exit_code == 2
    assert "expected KEY=PATH" in result.output


def test_a_folder_without_main_py_exits_1() -> None:
    result = CliRunner().invoke(app, ["function", "call", str(FUNCTIONS)])
    assert result.exit_code == 1
    assert "has no main.py" in result.output


def test_a_function_that_does_not_start_is_reported(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text("import no_such_module\n")
    result = dirigent("function", "call", str(tmp_path))
    assert result.returncode == 1
    assert "exited with status 1 before it listened" in result.stderr
    assert "ModuleNotFoundError: No module named 'no_such_module'" in result.stderr


async def test_call_a_url_with_its_sidecar_on_the_port_the_function_uses() -> None:
    sidecar_port = free_port()
    async with start("kitchen", sidecar_port) as kitchen:
        process = await asyncio.create_subprocess_exec(
            *DIRIGENT,
            "function",
            "call",
            kitchen.url,
            "-i",
            '{"do": "vars"}',
            "--sidecar-port",
            str(sidecar_port),
            "-o",
            "json",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
    document = json.loads(stdout)
    assert document["output"] == {"count": 1, "missing": ""}
    assert document["variables"] == {
        "instance/blob": {"size": 2, "mimeType": "application/x-test"},
        "instance/count": {"size": 1, "mimeType": "text/plain; charset=utf-8"},
    }


# serve


async def _serve_kitchen(sidecar_port: int) -> asyncio.subprocess.Process:
    """`dirigent function serve` of the kitchen function on a free port; stderr piped."""
    return await asyncio.create_subprocess_exec(
        *DIRIGENT,
        "function",
        "serve",
        KITCHEN,
        "--port",
        "0",
        "--sidecar-port",
        str(sidecar_port),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_serve_runs_a_pod_with_a_live_sidecar_until_interrupted() -> None:
    process = await _serve_kitchen(sidecar_port=0)
    printed = Printed()
    assert process.stderr is not None
    reader = asyncio.create_task(read_lines(process.stderr, printed))
    try:
        line = await printed.wait_for("serving on", within=30)
        url = line.split("serving on ")[1].split()[0]
        inner = (await printed.wait_for("kitchen| listening on")).split("listening on ")[1]
        async with aiohttp.ClientSession() as http:
            # No action id, as from curl: the front gives it one, so logs and variables work.
            for expected in (1, 2):
                async with http.post(url, json={"do": "vars"}) as response:
                    assert (await response.json())["count"] == expected
            async with http.post(url, json={"do": "log", "lines": ["hello from kitchen"]}) as r:
                assert r.status == 200
            async with http.post(url, json={"do": "fail", "code": "k.x", "message": "m"}) as r:
                assert r.headers["Direktiv-ErrorCode"] == "k.x"
        await printed.wait_for("] hello from kitchen")
        await printed.wait_for("answered HTTP 200 in ")
        await printed.wait_for("answered error k.x: m")
        process.send_signal(signal.SIGINT)
        async with asyncio.timeout(20):
            assert await process.wait() == 0
        await printed.wait_for("function kitchen stopped")
        async with aiohttp.ClientSession() as http:
            try:
                async with http.post(inner, json={}):
                    raise AssertionError("the function still runs")
            except aiohttp.ClientConnectionError:
                pass
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await reader


async def test_serve_reports_a_port_in_use() -> None:
    async with start("kitchen", free_port()) as kitchen:
        taken = kitchen.process.port
        process = await _serve_kitchen(sidecar_port=taken)
        _, stderr = await process.communicate()
    assert process.returncode == 1
    assert f"sidecar port {taken} is in use" in stderr.decode()


# end to end


FLOW = """\
id: greet
functions:
  - id: greeter
    image: example/greeter:v1
states:
  - id: greet
    type: action
    action:
      function: greeter
      input: 'jq({name: .name})'
    transform: 'jq({greeting: .return.greeting})'
    catch:
      - error: input.invalid
        transition: complain
  - id: complain
    type: noop
    transform: 'jq({problem: .error.msg})'
"""


async def test_a_workflow_calls_an_sdk_function(tmp_path: Path) -> None:
    flow = tmp_path / "greet.yaml"
    flow.write_text(FLOW)
    sidecar_port = free_port()
    async with start("greeter", sidecar_port) as greeter:

        async def run(input: str) -> tuple[int, str, str]:
            process = await asyncio.create_subprocess_exec(
                *DIRIGENT,
                "run",
                str(flow),
                "--input",
                input,
                "--service",
                f"greeter={greeter.url}",
                "--sidecar-port",
                str(sidecar_port),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            stdout, stderr = await process.communicate()
            assert process.returncode is not None
            return process.returncode, stdout.decode(), stderr.decode()

        code, stdout, stderr = await run('{"name": "Ada"}')
        assert code == 0, stderr
        assert json.loads(stdout) == {"greeting": "Hello, Ada!"}
        assert "[greet " in stderr
        assert "] greeting Ada" in stderr
        code, stdout, stderr = await run('{"name": 7}')
        assert code == 0, stderr
        assert (
            json.loads(stdout)["problem"] == "invalid input: name: Input should be a valid string"
        )

"""`dirigent server` running images in pods of the process runtime, set up by its config file."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.support import RunningServer, push, start_server
from tests.fixtures.functions.runner import FUNCTIONS_DIR
from tests.functions.pods import needs_namespaces

pytestmark = needs_namespaces

FLOW = """\
id: pods
functions:
- {id: greeter, image: acme/greeter:v1}
- {id: shared, type: knative-namespace, service: fragile-svc}
states:
- id: greet
  type: action
  action: {function: greeter, input: {name: Pods}}
  transform: 'jq({greeting: .return.greeting})'
  transition: report
- id: report
  type: action
  action: {function: shared}
  transform: 'jq(. + {pid: .return.pid})'
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    home = tmp_path_factory.mktemp("pods")
    folder = home / "functions" / "greeter"  # a function folder, named relative to the config
    folder.mkdir(parents=True)
    shutil.copy(FUNCTIONS_DIR / "greeter.py", folder / "main.py")
    shutil.copy(FUNCTIONS_DIR / "_serve.py", folder / "_serve.py")
    config = home / "dirigent.toml"
    config.write_text(
        f"""
[functions]
"acme/greeter" = "functions/greeter"
"acme/fragile" = "{sys.executable} -u {FUNCTIONS_DIR / "fragile.py"}"

[services]
"fragile-svc" = "image:acme/fragile"
"""
    )
    running = start_server(home / "data", "--config", str(config))
    try:
        yield running
    finally:
        running.stop()


def run(client: httpx.Client, ns: str) -> dict[str, object]:
    answer = client.post(f"/api/namespaces/{ns}/workflows/pods/execute?wait=true")
    assert answer.status_code == 200, answer.text
    output: dict[str, object] = answer.json()
    return output


def test_images_run_in_pods_and_services_are_shared_by_the_namespace(server: RunningServer) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        assert client.post("/api/namespaces/podns").status_code == 200
        push(client, "podns", FLOW)
        first = run(client, "podns")
        assert first["greeting"] == "Hello, Pods!"
        # The second instance is served by the same warm pod of the namespace's service.
        assert run(client, "podns")["pid"] == first["pid"]
        server_stopped = server.stop()
        assert server_stopped == 0
        # Stopping the server stopped its pods.
        assert not Path(f"/proc/{first['pid']}").exists()


def test_with_examples_the_examples_functions_run_from_their_folders(
    tmp_path: Path,
) -> None:
    running = start_server(tmp_path, "--with-examples")
    try:
        with httpx.Client(base_url=running.url, timeout=30) as client:
            answer = client.post(
                "/api/namespaces/default/workflows/greeting/execute?wait=true",
                content=b'{"name": "Ada"}',
            )
            assert answer.status_code == 200, answer.text
            assert answer.json() == {"greeting": "Hello, Ada!"}
    finally:
        running.stop()

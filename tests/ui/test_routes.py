"""The routes the UI adds (lint, graph, revisions, visits, the status filter) and the UI's files,
against a real `dirigent server` process."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.support import (
    ECHO,
    NAP,
    RunningServer,
    error,
    push,
    start_server,
    wait_for_status,
)
from tests.ui.workflows import BRANCHING

BROKEN = """\
id: broken
states:
  - id: a
    type: noop
    transition: nowhere
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("ui-routes"))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def client(server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture
def ns(client: httpx.Client) -> Iterator[str]:
    name = f"t-{secrets.token_hex(4)}"
    assert client.post(f"/api/namespaces/{name}").status_code == 200
    yield name
    client.delete(f"/api/namespaces/{name}")


def lint(client: httpx.Client, ns: str, yaml: str) -> dict[str, object]:
    answer = client.post(f"/api/namespaces/{ns}/lint", content=yaml.encode())
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


def test_lint_answers_problems_at_their_lines(client: httpx.Client, ns: str) -> None:
    body = lint(client, ns, BROKEN)
    assert body["valid"] is False
    assert body["graph"] is None
    assert body["id"] is None
    assert body["problems"] == [
        {
            "line": 5,
            "column": 17,
            "path": "states[0].transition",
            "message": "no state 'nowhere'",
            "severity": "error",
        }
    ]
    # Nothing was stored.
    assert client.get(f"/api/namespaces/{ns}/workflows/broken").status_code == 404


def test_lint_of_a_valid_draft_has_its_graph_and_warnings(client: httpx.Client, ns: str) -> None:
    body = lint(client, ns, ECHO + "  - id: lonely\n    type: noop\n")
    assert body["valid"] is True
    assert body["id"] == "echo"
    assert [p["severity"] for p in body["problems"]] == ["warning"]  # type: ignore[attr-defined]
    graph = body["graph"]
    assert isinstance(graph, dict)
    assert [n["id"] for n in graph["nodes"]] == ["only", "lonely"]


def test_lint_of_nothing_or_not_yaml_is_a_problem_not_a_failure(
    client: httpx.Client, ns: str
) -> None:
    empty = lint(client, ns, "")
    assert empty["valid"] is False
    assert "empty" in empty["problems"][0]["message"]  # type: ignore[index]
    garbage = lint(client, ns, "id: [unclosed\n")
    assert garbage["valid"] is False
    assert garbage["problems"][0]["line"] is not None  # type: ignore[index]


def test_lint_needs_the_namespace(client: httpx.Client) -> None:
    error(client.post("/api/namespaces/nowhere-ns/lint", content=b"id: x"), 404, "nowhere-ns")
    error(client.post("/api/namespaces/Bad!/lint", content=b"id: x"), 406, "namespace")


def test_graph_of_a_workflow_and_of_a_revision(client: httpx.Client, ns: str) -> None:
    push(client, ns, BRANCHING)
    shorter = BRANCHING.replace("transition: decide", "transition: big")
    assert client.put(f"/api/namespaces/{ns}/workflows/logged", content=shorter).status_code == 200
    latest = client.get(f"/api/namespaces/{ns}/workflows/logged/graph").json()
    first = client.get(f"/api/namespaces/{ns}/workflows/logged/graph?revision=0").json()
    edges = lambda graph: {(e["source"], e["target"], e["kind"]) for e in graph["edges"]}  # noqa: E731
    assert ("call", "decide", "transition") in edges(first)
    assert ("call", "big", "transition") in edges(latest)
    node = first["nodes"][0]
    assert set(node) == {"id", "type", "start", "end", "x", "y", "width", "height", "row"}
    assert node["id"] == "prepare"
    assert node["start"] is True
    edge = first["edges"][0]
    assert set(edge) == {"source", "target", "kind", "label", "back", "points"}
    assert all(len(point) == 2 for point in edge["points"])
    assert first["width"] > 0
    assert first["height"] > 0
    error(client.get(f"/api/namespaces/{ns}/workflows/logged/graph?revision=7"), 404, "revision 7")
    error(client.get(f"/api/namespaces/{ns}/workflows/logged/graph?revision=-1"), 400, "revision")
    error(client.get(f"/api/namespaces/{ns}/workflows/nothing/graph"), 404, "nothing")


def test_every_revision_can_be_read(client: httpx.Client, ns: str) -> None:
    push(client, ns, ECHO)
    changed = ECHO.replace("Answers its input.", "Changed.")
    assert client.put(f"/api/namespaces/{ns}/workflows/echo", content=changed).status_code == 200
    for revision, text in [(0, ECHO), (1, changed)]:
        answer = client.get(f"/api/namespaces/{ns}/workflows/echo/revisions/{revision}")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["revision"] == revision
        assert base64.b64decode(body["workflow"]).decode() == text
    assert client.get(f"/api/namespaces/{ns}/workflows/echo/revisions/1/").status_code == 200
    error(client.get(f"/api/namespaces/{ns}/workflows/echo/revisions/2"), 404, "latest is 1")
    error(client.get(f"/api/namespaces/{ns}/workflows/echo/revisions/x"), 400, "revision")


def test_visits_of_an_instance(client: httpx.Client, ns: str) -> None:
    push(client, ns, BROKEN.replace("broken", "pure").replace("transition: nowhere", ""))
    answer = client.post(f"/api/namespaces/{ns}/workflows/pure/execute?wait=true", json={"x": 1})
    instance_id = answer.headers["Direktiv-InstanceID"]
    body = client.get(f"/api/instances/{instance_id}/visits").json()
    assert body["id"] == instance_id
    assert body["status"] == "complete"
    assert body["state"] == "a"
    assert body["complete"] is True
    assert body["actions"] == []
    [visit] = body["visits"]
    assert visit["state"] == "a"
    assert visit["type"] == "noop"
    assert visit["lines"] == [0]
    assert visit["milliseconds"] >= 0
    assert visit["error"] is None
    assert json.loads(base64.b64decode(visit["input"])) == {"x": 1}
    assert json.loads(base64.b64decode(visit["output"])) == {"x": 1}
    error(client.get(f"/api/instances/{ns}/pure/nope/visits"), 404, "nope")


def test_visits_of_a_waiting_instance(client: httpx.Client, ns: str) -> None:
    push(client, ns, NAP)
    started = client.post(f"/api/namespaces/{ns}/workflows/nap/execute", json={"y": 2}).json()
    instance_id = started["instanceId"]
    wait_for_status(client, instance_id, {"pending"})
    body = client.get(f"/api/instances/{instance_id}/visits").json()
    [visit] = body["visits"]
    assert visit["state"] == "sleep"
    assert visit["leftAt"] is None
    assert visit["milliseconds"] is None
    assert json.loads(base64.b64decode(visit["input"])) == {"y": 2}
    assert client.delete(f"/api/instances/{instance_id}").status_code == 200
    ended = wait_for_status(client, instance_id, {"cancelled"})
    assert ended["errorCode"] == "direktiv.cancels.api"
    after = client.get(f"/api/instances/{instance_id}/visits").json()
    assert after["visits"][0]["error"]["code"] == "direktiv.cancels.api"
    assert after["visits"][0]["caught"] is False


def test_instances_filtered_by_status(client: httpx.Client, ns: str) -> None:
    push(client, ns, ECHO)
    push(client, ns, NAP)
    for _ in range(3):
        client.post(f"/api/namespaces/{ns}/workflows/echo/execute?wait=true", json={})
    waiting = client.post(f"/api/namespaces/{ns}/workflows/nap/execute", json={}).json()
    wait_for_status(client, waiting["instanceId"], {"pending"})
    page = client.get(f"/api/instances/{ns}?status=complete&limit=2").json()
    assert page["total"] == 3
    assert len(page["workflowInstances"]) == 2
    assert {i["status"] for i in page["workflowInstances"]} == {"complete"}
    pending = client.get(f"/api/instances/{ns}?status=pending").json()
    assert [i["id"] for i in pending["workflowInstances"]] == [waiting["instanceId"]]
    by_workflow = client.get(f"/api/namespaces/{ns}/workflows/nap/instances/?status=complete")
    assert by_workflow.json()["total"] == 0
    error(client.get(f"/api/instances/{ns}?status=done"), 400, "status")
    client.delete(f"/api/instances/{waiting['instanceId']}")


def test_the_ui_is_served_and_the_root_leads_there(client: httpx.Client) -> None:
    root = client.get("/", follow_redirects=False)
    assert root.status_code == 307
    assert root.headers["location"] == "/ui/"
    assert client.get("/ui", follow_redirects=False).status_code in (301, 307)
    page = client.get("/ui/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="js/app.js">' in page.text
    script = client.get("/ui/js/app.js", headers={"Accept-Encoding": "gzip"})
    assert script.status_code == 200
    assert script.headers["content-encoding"] == "gzip"
    assert "javascript" in script.headers["content-type"]
    assert client.get("/ui/js/nothing.js").status_code == 404
    assert client.post("/ui/index.html").status_code == 405
    # Revalidation: the same files answer 304 to their ETag.
    again = client.get("/ui/js/app.js", headers={"If-None-Match": script.headers["etag"]})
    assert again.status_code == 304
    assert client.get("/ui/style.css").headers["cache-control"] == "no-cache"
    # The API is where it was.
    assert client.get("/api/healthz").json() == {"status": "ok"}


def test_every_file_the_page_loads_is_shipped() -> None:
    static = Path(__file__).resolve().parents[2] / "src/dirigent/ui/static"
    index = (static / "index.html").read_text()
    assert (static / "style.css").is_file()
    assert "style.css" in index
    for script in static.rglob("*.js"):
        for imported in _imports(script.read_text()):
            assert (script.parent / imported).resolve().is_file(), f"{script}: {imported}"
        # Preloaded, so the first load fetches every module at once.
        assert f'<link rel="modulepreload" href="{script.relative_to(static)}">' in index


def _imports(source: str) -> list[str]:
    import re

    return re.findall(r"""(?:from|import)\s*\(?\s*["'](\.{1,2}/[^"']+)["']""", source)


def test_the_ui_needs_no_token_but_the_api_does(tmp_path: Path) -> None:
    token = secrets.token_hex(8)
    running = start_server(
        tmp_path, env={"DIRIGENT_REQUIRE_TOKEN": "true", "DIRIGENT_API_TOKENS": token}
    )
    try:
        with httpx.Client(base_url=running.url, timeout=10) as client:
            assert client.get("/ui/").status_code == 200
            assert client.get("/ui/js/api.js").status_code == 200
            error(client.get("/api/namespaces/"), 401)
            error(client.post("/api/namespaces/default/lint", content=b"id: x"), 401)
            headers = {"Authorization": f"Bearer {token}"}
            assert client.get("/api/namespaces/", headers=headers).status_code == 200
    finally:
        running.stop()

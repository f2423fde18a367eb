"""Workflows: push, list, get, update (revisions, flags), toggle, download, delete, metrics."""

from __future__ import annotations

import base64

import httpx

from tests.api.support import ECHO, NAP, error, is_timestamp, push, wait_for_status

ECHO_V2 = ECHO.replace("Answers its input.", "Answers its input, again.")

BROKEN = """\
id: broken
states:
  - id: a
    type: noop
    transition: nowhere
  - id: b
    type: wrong
"""

UNREACHABLE = """\
id: lonely
states:
  - id: a
    type: noop
  - id: b
    type: noop
"""


def test_push_answers_the_workflow(client: httpx.Client, ns: str) -> None:
    body = push(client, ns, ECHO).json()
    assert set(body) == {
        "id",
        "revision",
        "active",
        "createdAt",
        "description",
        "logToEvents",
        "warnings",
    }
    assert body["id"] == "echo"
    assert body["revision"] == 0
    assert body["active"] is True
    assert body["description"] == "Answers its input."
    assert body["logToEvents"] == ""
    assert body["warnings"] == []
    assert is_timestamp(body["createdAt"])


def test_push_reports_warnings(client: httpx.Client, ns: str) -> None:
    warnings = push(client, ns, UNREACHABLE).json()["warnings"]
    assert len(warnings) == 1
    assert warnings[0].startswith("warning: line 5")
    assert "states[1]" in warnings[0]


def test_push_with_trailing_slash_and_any_content_type(client: httpx.Client, ns: str) -> None:
    answer = client.post(f"/api/namespaces/{ns}/workflows/", content=ECHO.encode())
    assert answer.status_code == 200
    assert answer.json()["id"] == "echo"


def test_list(client: httpx.Client, ns: str) -> None:
    push(client, ns, ECHO)
    push(client, ns, NAP)
    listing = client.get(f"/api/namespaces/{ns}/workflows/").json()
    assert set(listing) == {"workflows", "offset", "limit", "total"}
    assert listing["total"] == 2
    assert [w["id"] for w in listing["workflows"]] == ["echo", "nap"]
    first = listing["workflows"][0]
    assert set(first) == {"id", "revision", "active", "createdAt", "description", "logToEvents"}
    page = client.get(f"/api/namespaces/{ns}/workflows", params={"offset": 1, "limit": 1}).json()
    assert [w["id"] for w in page["workflows"]] == ["nap"]
    assert (page["offset"], page["limit"], page["total"]) == (1, 1, 2)


def test_get_and_download(client: httpx.Client, ns: str) -> None:
    push(client, ns, ECHO)
    body = client.get(f"/api/namespaces/{ns}/workflows/echo").json()
    assert {
        "name",
        "revision",
        "active",
        "createdAt",
        "description",
        "workflow",
        "logToEvents",
    } <= set(body)
    assert body["name"] == "echo"
    assert base64.b64decode(body["workflow"]).decode() == ECHO
    download = client.get(f"/api/namespaces/{ns}/workflows/echo/download")
    assert download.status_code == 200
    assert download.content == ECHO.encode()
    assert download.headers["content-type"].startswith("application/x-yaml")
    assert "echo.yaml" in download.headers["content-disposition"]


def test_update_adds_a_revision(client: httpx.Client, ns: str) -> None:
    push(client, ns, ECHO)
    answer = client.put(f"/api/namespaces/{ns}/workflows/echo", content=ECHO_V2.encode())
    assert answer.status_code == 200
    body = answer.json()
    assert body["revision"] == 1
    assert body["description"] == "Answers its input, again."
    got = client.get(f"/api/namespaces/{ns}/workflows/echo").json()
    assert got["revision"] == 1
    assert base64.b64decode(got["workflow"]).decode() == ECHO_V2


def test_update_with_the_right_revision(client: httpx.Client, ns: str) -> None:
    push(client, ns, ECHO)
    answer = client.put(
        f"/api/namespaces/{ns}/workflows/echo", params={"revision": 0}, content=ECHO_V2.encode()
    )
    assert answer.status_code == 200
    assert answer.json()["revision"] == 1


def test_update_with_a_wrong_revision_changes_nothing(client: httpx.Client, ns: str) -> None:
    push(client, ns, ECHO)
    error(
        client.put(
            f"/api/namespaces/{ns}/workflows/echo",
            params={"revision": 3},
            content=ECHO_V2.encode(),
        ),
        409,
        "revision:",
        "at revision 0, not 3",
    )
    got = client.get(f"/api/namespaces/{ns}/workflows/echo").json()
    assert got["revision"] == 0
    assert base64.b64decode(got["workflow"]).decode() == ECHO


def test_update_flags_only(client: httpx.Client, ns: str) -> None:
    push(client, ns, ECHO)
    answer = client.put(
        f"/api/namespaces/{ns}/workflows/echo", params={"active": "false", "logEvent": "mylog"}
    )
    assert answer.status_code == 200
    body = answer.json()
    assert (body["revision"], body["active"], body["logToEvents"]) == (0, False, "mylog")


def test_bad_updates_change_nothing(client: httpx.Client, ns: str) -> None:
    push(client, ns, ECHO)
    url = f"/api/namespaces/{ns}/workflows/echo"
    error(client.put(url), 400, "body:", "nothing to update")
    error(client.put(url, params={"revision": "x"}, content=ECHO_V2), 400, "revision:")
    error(client.put(url, params={"revision": -1}, content=ECHO_V2), 400, "revision:")
    error(client.put(url, params={"active": "maybe"}), 400, "active:")
    error(client.put(url, content=NAP), 400, "id:", "'nap' is not 'echo'")
    error(client.put(url, content=BROKEN.replace("broken", "echo")), 400, "line 5")
    error(client.put(f"/api/namespaces/{ns}/workflows/other", content=ECHO), 404, "'other'")
    got = client.get(url).json()
    assert (got["revision"], got["active"]) == (0, True)
    assert base64.b64decode(got["workflow"]).decode() == ECHO


def test_toggle(client: httpx.Client, ns: str) -> None:
    push(client, ns, ECHO)
    off = client.put(f"/api/namespaces/{ns}/workflows/echo/toggle")
    assert off.status_code == 200
    assert off.json()["active"] is False
    assert off.json()["revision"] == 0
    on = client.put(f"/api/namespaces/{ns}/workflows/echo/toggle")
    assert on.json()["active"] is True
    error(client.put(f"/api/namespaces/{ns}/workflows/missing/toggle"), 404, "'missing'")


def test_push_an_invalid_definition_names_the_lines(client: httpx.Client, ns: str) -> None:
    message = error(
        client.post(f"/api/namespaces/{ns}/workflows", content=BROKEN.encode()),
        400,
        "not valid",
        "line 5",
        "states[0].transition",
        "line 7",
    )
    assert "nowhere" in message
    assert client.get(f"/api/namespaces/{ns}/workflows/").json()["total"] == 0


def test_push_bad_bodies(client: httpx.Client, ns: str) -> None:
    url = f"/api/namespaces/{ns}/workflows"
    error(client.post(url, content=b""), 400, "body:")
    error(client.post(url, content=b"id: [unclosed"), 400, "line 1")
    error(client.post(url, content=b"- a list"), 400, "not valid")
    error(client.post(url, content=b"\xff\xfe\x00"), 400)
    error(client.post(url, content=ECHO.replace("id: echo", "id: Echo").encode()), 400, "id")
    assert client.get(f"/api/namespaces/{ns}/workflows/").json()["total"] == 0


def test_push_twice_is_a_conflict(client: httpx.Client, ns: str) -> None:
    push(client, ns, ECHO)
    error(
        client.post(f"/api/namespaces/{ns}/workflows", content=ECHO_V2.encode()),
        409,
        "'echo' exists already",
    )
    assert client.get(f"/api/namespaces/{ns}/workflows/echo").json()["revision"] == 0


def test_unknown_namespace_and_workflow(client: httpx.Client, ns: str) -> None:
    error(client.get("/api/namespaces/nothing-here/workflows/"), 404, "namespace 'nothing-here'")
    error(
        client.post("/api/namespaces/nothing-here/workflows", content=ECHO.encode()),
        404,
        "namespace 'nothing-here'",
    )
    error(client.get("/api/namespaces/nothing-here/workflows/echo"), 404, "namespace")
    error(client.get(f"/api/namespaces/{ns}/workflows/echo"), 404, "workflow 'echo'")
    error(client.get(f"/api/namespaces/{ns}/workflows/echo/download"), 404, "workflow 'echo'")
    error(client.delete(f"/api/namespaces/{ns}/workflows/echo"), 404, "workflow 'echo'")
    error(client.get(f"/api/namespaces/{ns}/workflows/Bad.Name"), 406, "workflow:")
    error(client.get(f"/api/namespaces/{ns}/workflows/", params={"offset": "-1"}), 400, "offset:")
    error(client.put(f"/api/namespaces/{ns}/workflows/echo/toggle"), 404, "workflow 'echo'")


def test_delete_removes_instances_and_variables(client: httpx.Client, ns: str) -> None:
    push(client, ns, ECHO)
    push(client, ns, NAP)
    done = client.post(f"/api/namespaces/{ns}/workflows/echo/execute", params={"wait": "true"})
    finished = done.headers["Direktiv-InstanceID"]
    sleeping = client.post(f"/api/namespaces/{ns}/workflows/nap/execute").json()["instanceId"]
    wait_for_status(client, sleeping, {"pending"})
    client.post(f"/api/namespaces/{ns}/workflows/echo/variables/v", content=b"1")
    client.post(f"/api/namespaces/{ns}/variables/v", content=b"ns")

    deleted = client.delete(f"/api/namespaces/{ns}/workflows/echo")
    assert deleted.status_code == 200
    assert deleted.json() == {"id": "echo"}
    assert client.delete(f"/api/namespaces/{ns}/workflows/nap").status_code == 200

    error(client.get(f"/api/namespaces/{ns}/workflows/echo"), 404)
    error(client.get(f"/api/instances/{finished}"), 404)
    error(client.get(f"/api/instances/{sleeping}"), 404)
    assert client.get(f"/api/namespaces/{ns}/variables/v").content == b"ns"
    push(client, ns, ECHO)  # the same id again: no variables left over
    assert client.get(f"/api/namespaces/{ns}/workflows/echo/variables/").json() == {"variables": []}


def test_metrics(client: httpx.Client, ns: str) -> None:
    push(client, ns, ECHO)
    push(client, ns, FAILING)
    for _ in range(2):
        client.post(f"/api/namespaces/{ns}/workflows/echo/execute", params={"wait": "1"})
    client.post(f"/api/namespaces/{ns}/workflows/failing/execute", params={"wait": "1"})
    echo = client.get(f"/api/namespaces/{ns}/workflows/echo/metrics").json()
    assert echo["totalInstancesRun"] == 2
    assert echo["successfulExecutions"] == 2
    assert echo["failedExecutions"] == 0
    assert echo["successRate"] == 1
    assert echo["errorCodes"] == {}
    assert [(s["name"], s["type"], s["totalExecutions"]) for s in echo["states"]] == [
        ("only", "noop", 2)
    ]
    failing = client.get(f"/api/namespaces/{ns}/workflows/failing/metrics").json()
    assert failing["failedExecutions"] == 1
    assert failing["errorCodes"] == {"my.error": 1}
    assert failing["errorCodesRepresentation"] == {"my.error": 1.0}
    later = client.get(
        f"/api/namespaces/{ns}/workflows/echo/metrics", params={"since": "2999-01-01T00:00:00Z"}
    ).json()
    assert later["totalInstancesRun"] == 0
    error(
        client.get(f"/api/namespaces/{ns}/workflows/echo/metrics", params={"since": "soon"}),
        400,
        "since:",
    )
    error(client.get(f"/api/namespaces/{ns}/workflows/none/metrics"), 404)


FAILING = """\
id: failing
states:
  - id: fail
    type: error
    error: my.error
    message: 'failed on %s'
    args: ['jq(.name)']
"""


def test_workflow_instances(client: httpx.Client, ns: str) -> None:
    push(client, ns, ECHO)
    ids = [
        client.post(f"/api/namespaces/{ns}/workflows/echo/execute").json()["instanceId"]
        for _ in range(3)
    ]
    for instance_id in ids:
        wait_for_status(client, instance_id, {"complete"})
    listing = client.get(f"/api/namespaces/{ns}/workflows/echo/instances/").json()
    assert set(listing) == {"workflowInstances", "offset", "limit", "total"}
    assert listing["total"] == 3
    assert {i["id"] for i in listing["workflowInstances"]} == set(ids)
    first = listing["workflowInstances"][0]
    assert {"id", "status", "beginTime"} <= set(first)
    assert first["status"] == "complete"
    assert is_timestamp(first["beginTime"])
    begins = [
        (i["beginTime"]["seconds"], i["beginTime"]["nanos"]) for i in listing["workflowInstances"]
    ]
    assert begins == sorted(begins, reverse=True)
    page = client.get(
        f"/api/namespaces/{ns}/workflows/echo/instances", params={"limit": 2, "offset": 2}
    ).json()
    assert len(page["workflowInstances"]) == 1
    error(client.get(f"/api/namespaces/{ns}/workflows/none/instances/"), 404)

"""Instances: list, get, cancel, logs; following logs and status as Server-Sent Events."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import httpx

from tests.api.support import ECHO, NAP, error, is_timestamp, push, wait_for_status

TICKER = """\
id: ticker
states:
  - id: first
    type: noop
    log: 'first jq(.n)'
    transition: nap
  - id: nap
    type: delay
    duration: PT0.5S
    transition: second
  - id: second
    type: noop
    log: 'second jq(.n + 1)'
    transform: 'jq({done: true})'
"""


def events(answer: httpx.Response) -> Iterator[tuple[str, str | None, object]]:
    """The Server-Sent Events of a streamed response: (event name, id, JSON data)."""
    name, event_id, data = "message", None, []
    for line in answer.iter_lines():
        if line.startswith(":"):
            continue
        if not line:
            if data:
                yield name, event_id, json.loads("\n".join(data))
            name, event_id, data = "message", None, []
        elif line.startswith("event: "):
            name = line[7:]
        elif line.startswith("id: "):
            event_id = line[4:]
        elif line.startswith("data: "):
            data.append(line[6:])


def start(client: httpx.Client, ns: str, workflow: str, body: bytes = b"{}") -> str:
    answer = client.post(f"/api/namespaces/{ns}/workflows/{workflow}/execute", content=body)
    assert answer.status_code == 200, answer.text
    instance_id: str = answer.json()["instanceId"]
    return instance_id


def test_get_instance(client: httpx.Client, ns: str) -> None:
    push(client, ns, ECHO)
    instance_id = start(client, ns, "echo", b'{"a": 1}')
    body = wait_for_status(client, instance_id, {"complete"})
    assert set(body) == {
        "id",
        "status",
        "invokedBy",
        "revision",
        "beginTime",
        "endTime",
        "flow",
        "input",
        "output",
        "errorCode",
        "errorMessage",
    }
    assert body["id"] == instance_id
    assert body["invokedBy"] == "api"
    assert body["revision"] == 0
    assert is_timestamp(body["beginTime"])
    assert is_timestamp(body["endTime"])
    assert body["flow"] == ["only"]
    assert json.loads(base64.b64decode(str(body["input"]))) == {"a": 1}
    assert json.loads(base64.b64decode(str(body["output"]))) == {"a": 1}
    assert (body["errorCode"], body["errorMessage"]) == ("", "")


def test_a_pending_instance_has_no_output_and_no_end(client: httpx.Client, ns: str) -> None:
    push(client, ns, NAP)
    instance_id = start(client, ns, "nap")
    body = wait_for_status(client, instance_id, {"pending"})
    assert body["endTime"] is None
    assert body["output"] == ""


def test_list_namespace_instances(client: httpx.Client, ns: str) -> None:
    push(client, ns, ECHO)
    push(client, ns, NAP)
    first = start(client, ns, "echo")
    second = start(client, ns, "nap")
    wait_for_status(client, first, {"complete"})
    listing = client.get(f"/api/instances/{ns}").json()
    assert set(listing) == {"workflowInstances", "offset", "limit", "total"}
    assert [i["id"] for i in listing["workflowInstances"]] == [second, first]
    assert listing["total"] == 2
    brief = listing["workflowInstances"][1]
    assert {"id", "status", "beginTime"} <= set(brief)
    assert brief["status"] == "complete"
    page = client.get(f"/api/instances/{ns}/", params={"offset": 1, "limit": 1}).json()
    assert [i["id"] for i in page["workflowInstances"]] == [first]
    assert (page["offset"], page["limit"], page["total"]) == (1, 1, 2)


def test_bad_listing_requests(client: httpx.Client, ns: str) -> None:
    error(client.get("/api/instances/nothing-here"), 404, "namespace 'nothing-here'")
    error(client.get(f"/api/instances/{ns}", params={"offset": -1}), 400, "offset:")
    error(client.get(f"/api/instances/{ns}", params={"limit": "ten"}), 400, "limit:")
    error(client.get(f"/api/instances/{ns}", params={"limit": 10**6}), 400, "limit:")
    push(client, ns, ECHO)
    instance_id = start(client, ns, "echo")
    logs = f"/api/instances/{instance_id}/logs"
    error(client.get(logs, params={"limit": "x"}), 400, "limit:")
    error(client.get(logs, params={"follow": "perhaps"}), 400, "follow:")
    error(
        client.get(logs, params={"follow": "true"}, headers={"Last-Event-ID": "x"}),
        400,
        "last-event-id:",
    )
    error(
        client.get(f"/api/instances/{instance_id}/status", params={"follow": "2"}), 400, "follow:"
    )


def test_unknown_instances(client: httpx.Client, ns: str) -> None:
    error(client.get(f"/api/instances/{ns}/echo/0123abcd"), 404, f"'{ns}/echo/0123abcd'")
    error(client.delete(f"/api/instances/{ns}/echo/0123abcd"), 404)
    error(client.get(f"/api/instances/{ns}/echo/0123abcd/logs"), 404)
    error(client.get(f"/api/instances/{ns}/echo/0123abcd/logs?follow=true"), 404)
    error(client.get(f"/api/instances/{ns}/echo/0123abcd/status"), 404)
    error(client.get(f"/api/instances/{ns}/echo/0123abcd/status?follow=true"), 404)
    error(client.get(f"/api/instances/{ns}/Echo/0123abcd"), 406, "workflow:")


def test_cancel_a_waiting_instance(client: httpx.Client, ns: str) -> None:
    push(client, ns, NAP)
    instance_id = start(client, ns, "nap")
    wait_for_status(client, instance_id, {"pending"})
    answer = client.delete(f"/api/instances/{instance_id}")
    assert answer.status_code == 200
    assert answer.json() == {}
    body = wait_for_status(client, instance_id, {"cancelled", "failed", "complete"})
    assert body["status"] == "cancelled"
    assert body["errorCode"] == "direktiv.cancels.api"
    error(client.delete(f"/api/instances/{instance_id}"), 409, "ended already (cancelled)")


def mine(messages: list[str]) -> list[str]:
    """The lines the workflow's `log:` fields wrote (the engine adds lines of its own)."""
    return [m for m in messages if m.startswith(("first", "second"))]


def test_logs(client: httpx.Client, ns: str) -> None:
    push(client, ns, TICKER)
    answer = client.post(
        f"/api/namespaces/{ns}/workflows/ticker/execute", params={"wait": "1"}, content=b'{"n": 1}'
    )
    instance_id = answer.headers["Direktiv-InstanceID"]
    logs = client.get(f"/api/instances/{instance_id}/logs").json()
    assert set(logs) == {"workflowInstanceLogs", "offset", "limit"}
    lines = logs["workflowInstanceLogs"]
    assert mine([line["message"] for line in lines]) == ["first 1", "second 2"]
    first = next(line for line in lines if line["message"] == "first 1")
    assert set(first) == {"timestamp", "message", "context"}
    assert is_timestamp(first["timestamp"])
    assert first["context"]["state"] == "first"
    times = [(line["timestamp"]["seconds"], line["timestamp"]["nanos"]) for line in lines]
    assert times == sorted(times)
    page = client.get(f"/api/instances/{instance_id}/logs", params={"offset": 1, "limit": 1}).json()
    assert page["workflowInstanceLogs"] == lines[1:2]
    assert (page["offset"], page["limit"]) == (1, 1)


def test_follow_logs(client: httpx.Client, ns: str) -> None:
    push(client, ns, TICKER)
    instance_id = start(client, ns, "ticker", b'{"n": 5}')
    with client.stream(
        "GET", f"/api/instances/{instance_id}/logs", params={"follow": "true"}
    ) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/event-stream")
        got = list(events(answer))
    assert [name for name, _, _ in got[:-1]] == ["log"] * (len(got) - 1)
    assert [event_id for _, event_id, _ in got[:-1]] == [str(i) for i in range(len(got) - 1)]
    messages = [data["message"] for _, _, data in got[:-1]]  # type: ignore[index]
    assert mine(messages) == ["first 5", "second 6"]
    assert messages == [line["message"] for line in _log(client, instance_id)]
    name, _, end = got[-1]
    assert name == "end"
    assert isinstance(end, dict)
    assert (end["id"], end["status"]) == (instance_id, "complete")


def _log(client: httpx.Client, instance_id: str) -> list[dict[str, object]]:
    lines: list[dict[str, object]] = client.get(f"/api/instances/{instance_id}/logs").json()[
        "workflowInstanceLogs"
    ]
    return lines


def test_follow_logs_resumes_after_the_last_event(client: httpx.Client, ns: str) -> None:
    push(client, ns, TICKER)
    instance_id = start(client, ns, "ticker", b'{"n": 1}')
    wait_for_status(client, instance_id, {"complete"})
    lines = _log(client, instance_id)
    seen = next(i for i, line in enumerate(lines) if line["message"] == "first 1")
    with client.stream(
        "GET",
        f"/api/instances/{instance_id}/logs?follow=true",
        headers={"Last-Event-ID": str(seen)},
    ) as answer:
        got = list(events(answer))
    assert got[0][1] == str(seen + 1)
    messages = [data["message"] for name, _, data in got if name == "log"]  # type: ignore[index]
    assert mine(messages) == ["second 2"]
    assert got[-1][0] == "end"


def test_status(client: httpx.Client, ns: str) -> None:
    push(client, ns, TICKER)
    instance_id = start(client, ns, "ticker", b'{"n": 1}')
    now = client.get(f"/api/instances/{instance_id}/status").json()
    assert set(now) == {
        "id",
        "status",
        "state",
        "beginTime",
        "endTime",
        "errorCode",
        "errorMessage",
    }
    with client.stream("GET", f"/api/instances/{instance_id}/status?follow=true") as answer:
        assert answer.headers["content-type"].startswith("text/event-stream")
        got = list(events(answer))
    names = [name for name, _, _ in got]
    assert names[-1] == "end"
    assert set(names[:-1]) == {"status"}
    last = got[-1][2]
    assert isinstance(last, dict)
    assert (last["status"], last["state"]) == ("complete", "second")
    statuses = [data["status"] for _, _, data in got if isinstance(data, dict)]
    assert statuses[-2:] == ["complete", "complete"]


def test_follow_a_cancelled_instance(client: httpx.Client, ns: str) -> None:
    push(client, ns, NAP)
    instance_id = start(client, ns, "nap")
    wait_for_status(client, instance_id, {"pending"})
    with client.stream("GET", f"/api/instances/{instance_id}/status?follow=true") as answer:
        lines = events(answer)
        first = next(lines)
        assert first[0] == "status"
        client.delete(f"/api/instances/{instance_id}")
        rest = list(lines)
    end = rest[-1]
    assert end[0] == "end"
    assert isinstance(end[2], dict)
    assert end[2]["status"] == "cancelled"

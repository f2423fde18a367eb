"""Events and schedules against a running server (SQLite, PostgreSQL, memory): every start type,
every waiting state, correlation, glob filters, binary mode, duplicates, bad events, generateEvent,
logEvent, toggling, and schedules with their next run times."""

from __future__ import annotations

import base64
import itertools
import json
import time
from typing import Any

import httpx

from tests.api.support import error, push, wait_for_status

_ids = itertools.count()


def cloudevent(type_: str, data: object = None, **attributes: object) -> dict[str, Any]:
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": f"ev-{next(_ids)}",
        "source": "https://shop.example.com/eu",
        "type": type_,
        **attributes,
    }
    if data is not None:
        event["data"] = data
    return event


def send(client: httpx.Client, ns: str, event: dict[str, Any]) -> dict[str, Any]:
    answer = client.post(f"/api/namespaces/{ns}/event", json=event)
    assert answer.status_code == 200, answer.text
    (receipt,) = answer.json()["events"]
    return receipt  # type: ignore[no-any-return]


def output(client: httpx.Client, instance_id: str) -> Any:
    body = wait_for_status(client, instance_id, {"complete", "failed", "crashed", "cancelled"})
    assert body["status"] == "complete", body
    return json.loads(base64.b64decode(str(body["output"])))


def until(check: Any, seconds: float = 15.0) -> Any:
    """Poll a real server until `check()` gives something truthy (bounded)."""
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not hold in time")
        time.sleep(0.05)


def entered(client: httpx.Client, instance_id: str, state: str) -> None:
    """Until the instance has entered `state`: its waits are committed with that log line."""

    def check() -> bool:
        answer = client.get(f"/api/instances/{instance_id}/logs", params={"limit": 1000})
        lines = [e["message"] for e in answer.json()["workflowInstanceLogs"]]
        return any(line.startswith(f"entering state '{state}'") for line in lines)

    until(check)


def instances(client: httpx.Client, ns: str, workflow: str) -> list[dict[str, Any]]:
    answer = client.get(f"/api/namespaces/{ns}/workflows/{workflow}/instances/")
    assert answer.status_code == 200, answer.text
    return answer.json()["workflowInstances"]  # type: ignore[no-any-return]


def start(client: httpx.Client, ns: str, workflow: str, data: object) -> str:
    answer = client.post(f"/api/namespaces/{ns}/workflows/{workflow}/execute", json=data)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["instanceId"])


ON_ORDER = """\
id: on-order
start:
  type: event
  event:
    type: order.created
    filters:
      source: "https://shop.example.com/*"
      subject: "order-*"
      Region: "eu-*"
states:
  - id: only
    type: noop
"""


def test_an_event_starts_a_workflow_when_its_filters_match(client: httpx.Client, ns: str) -> None:
    push(client, ns, ON_ORDER)
    # Glob filters on source, subject and an extension; each must match, a missing one does not.
    misses = [
        cloudevent("order.created", subject="order-1", region="us-east"),
        cloudevent("order.created", subject="invoice-1", region="eu-west"),
        cloudevent("order.created", subject="order-1"),
        cloudevent("order.created", subject="order-1", region="eu-west", source="elsewhere"),
        cloudevent("order.updated", subject="order-1", region="eu-west"),
    ]
    for event in misses:
        assert send(client, ns, event)["started"] == []
    receipt = send(
        client, ns, cloudevent("order.created", {"total": 3}, subject="order-9", region="eu-west")
    )
    (instance_id,) = receipt["started"]
    assert receipt["deliveries"] == 1
    data = output(client, instance_id)
    assert data["order.created"] == {"total": 3}
    assert data["cloudevents"]["order.created"]["subject"] == "order-9"
    assert data["cloudevents"]["order.created"]["region"] == "eu-west"
    (brief,) = instances(client, ns, "on-order")
    assert brief["invokedBy"] == "event"
    # Event-started workflows cannot be executed by API.
    error(
        client.post(f"/api/namespaces/{ns}/workflows/on-order/execute", json={}),
        400,
        "starts on events",
    )


def test_events_xor_starts_on_any_one(client: httpx.Client, ns: str) -> None:
    push(
        client,
        ns,
        """\
id: either
start:
  type: eventsXor
  events:
    - type: a
    - type: b
      filters: {subject: "keep"}
states:
  - id: only
    type: noop
""",
    )
    (first,) = send(client, ns, cloudevent("a", {"n": 1}))["started"]
    assert send(client, ns, cloudevent("b", {"n": 2}, subject="drop"))["started"] == []
    (second,) = send(client, ns, cloudevent("b", {"n": 3}, subject="keep"))["started"]
    assert output(client, first)["a"] == {"n": 1}
    assert output(client, second)["b"] == {"n": 3}


def test_events_and_correlates_and_groups_durably(client: httpx.Client, ns: str) -> None:
    push(
        client,
        ns,
        """\
id: both
start:
  type: eventsAnd
  correlate: [subject]
  lifespan: PT1H
  events:
    - type: paid
    - type: shipped
states:
  - id: only
    type: noop
""",
    )
    assert send(client, ns, cloudevent("paid", {"p": 1}, subject="o1"))["deliveries"] == 1
    assert send(client, ns, cloudevent("shipped", {"s": 2}, subject="o2"))["started"] == []
    # No subject: it cannot be correlated, so it joins no group.
    assert send(client, ns, cloudevent("shipped", {"s": 0}))["deliveries"] == 0
    (instance_id,) = send(client, ns, cloudevent("shipped", {"s": 1}, subject="o1"))["started"]
    data = output(client, instance_id)
    assert (data["paid"], data["shipped"]) == ({"p": 1}, {"s": 1})
    # o2 waits for its payment still.
    (other,) = send(client, ns, cloudevent("paid", {"p": 2}, subject="o2"))["started"]
    assert output(client, other)["shipped"] == {"s": 2}


WAITER = """\
id: waiter
states:
  - id: first
    type: consumeEvent
    event:
      type: go
      context: {subject: 'jq(.key)'}
    transition: both
  - id: both
    type: eventAnd
    events:
      - event: {type: left, context: {subject: 'jq(.key)'}}
      - event: {type: right}
    transition: pick
  - id: pick
    type: eventXor
    events:
      - event: {type: never}
      - event: {type: blob}
        transition: done
        transform: 'jq(. + {picked: true})'
  - id: done
    type: noop
"""


def test_waiting_states_take_their_events(client: httpx.Client, ns: str) -> None:
    push(client, ns, WAITER)
    instance_id = start(client, ns, "waiter", {"key": "k1"})
    entered(client, instance_id, "first")
    assert send(client, ns, cloudevent("go", subject="k2"))["deliveries"] == 0
    assert send(client, ns, cloudevent("go", {"g": 1}, subject="k1"))["deliveries"] == 1
    entered(client, instance_id, "both")
    send(client, ns, cloudevent("right", {"r": 1}))
    send(client, ns, cloudevent("left", {"l": 1}, subject="k1"))
    entered(client, instance_id, "pick")
    # Binary mode: attributes in headers, the body is the data (not JSON: base64).
    answer = client.post(
        f"/api/namespaces/{ns}/event",
        content=b"<xml/>",
        headers={
            "ce-specversion": "1.0",
            "ce-type": "blob",
            "ce-source": "sensor",
            "ce-id": "bin-1",
            "Content-Type": "application/xml",
        },
    )
    assert answer.status_code == 200, answer.text
    data = output(client, instance_id)
    assert data["go"] == {"g": 1}
    assert (data["left"], data["right"]) == ({"l": 1}, {"r": 1})
    assert data["blob"] == base64.b64encode(b"<xml/>").decode()
    assert data["cloudevents"]["blob"]["source"] == "sensor"
    assert data["picked"] is True


def test_a_wait_times_out_catchably(client: httpx.Client, ns: str) -> None:
    push(
        client,
        ns,
        """\
id: impatient
states:
  - id: wait
    type: consumeEvent
    timeout: PT1S
    event: {type: never}
    catch:
      - error: direktiv.cancels.timeout
""",
    )
    instance_id = start(client, ns, "impatient", {})
    data = output(client, instance_id)
    assert data["error"]["code"] == "direktiv.cancels.timeout"


def test_duplicates_and_the_event_listing(client: httpx.Client, ns: str) -> None:
    push(client, ns, ON_ORDER)
    event = cloudevent("order.created", {"n": 1}, subject="order-1", region="eu-1")
    first = send(client, ns, event)
    again = send(client, ns, {**event, "data": {"n": 2}})
    assert len(first["started"]) == 1
    assert (again["duplicate"], again["deliveries"], again["started"]) == (True, 0, [])
    assert len(instances(client, ns, "on-order")) == 1
    send(client, ns, cloudevent("nobody.listens"))
    answer = client.get(f"/api/namespaces/{ns}/events", params={"limit": 10})
    assert answer.status_code == 200, answer.text
    listed = answer.json()
    assert listed["total"] == 2
    newest, oldest = listed["events"]
    assert (newest["type"], newest["deliveries"]) == ("nobody.listens", 0)
    assert (oldest["id"], oldest["deliveries"]) == (event["id"], 1)
    assert oldest["event"]["data"] == {"n": 1}  # the first one, not the duplicate
    error(client.get("/api/namespaces/nothing-here/events"), 404, "nothing-here")


def test_bad_events_say_what_is_wrong(client: httpx.Client, ns: str) -> None:
    url = f"/api/namespaces/{ns}/event"
    for attribute in ("id", "source", "type", "specversion"):
        event = {k: v for k, v in cloudevent("t").items() if k != attribute}
        error(client.post(url, json=event), 400, f"{attribute}:")
    binary = {"ce-specversion": "1.0", "ce-type": "t", "ce-id": "1"}
    error(client.post(url, content=b"{}", headers=binary), 400, "source:")
    error(client.post(url, json=cloudevent("t", time="noon")), 400, "time:")
    error(
        client.post(url, content=b"{", headers={**binary, "ce-source": "s"}),
        400,
        "body:",
        "not valid JSON",
    )
    assert client.get(f"/api/namespaces/{ns}/events").json()["total"] == 0


def test_generated_events_start_workflows_and_logs_become_events(
    client: httpx.Client, ns: str
) -> None:
    push(
        client,
        ns,
        """\
id: maker
states:
  - id: make
    type: generateEvent
    log: 'making jq(.n)'
    event:
      type: made
      source: maker
      data: 'jq({n: .n})'
      context: {subject: 'item-jq(.n)'}
""",
    )
    push(
        client,
        ns,
        """\
id: on-made
start:
  type: event
  event: {type: made, filters: {subject: "item-*"}}
states:
  - id: only
    type: noop
""",
    )
    assert (
        client.put(
            f"/api/namespaces/{ns}/workflows/maker", params={"logEvent": "audit"}
        ).status_code
        == 200
    )
    maker = start(client, ns, "maker", {"n": 4})
    output(client, maker)
    (started,) = until(lambda: instances(client, ns, "on-made"))
    assert output(client, started["id"])["made"] == {"n": 4}
    events = client.get(f"/api/namespaces/{ns}/events").json()["events"]
    (log,) = [e["event"] for e in events if e["type"] == "direktiv.instanceLog"]
    assert log["logger"] == "audit"
    assert log["subject"] == maker
    assert log["data"] == {"instance": maker, "state": "make", "msg": "making 4"}


def test_listeners_follow_toggle_and_delete(client: httpx.Client, ns: str) -> None:
    push(client, ns, ON_ORDER)
    event = {"subject": "order-1", "region": "eu-1"}
    toggled = client.put(f"/api/namespaces/{ns}/workflows/on-order/toggle")
    assert toggled.json()["active"] is False
    assert send(client, ns, cloudevent("order.created", **event))["started"] == []
    client.put(f"/api/namespaces/{ns}/workflows/on-order/toggle")
    assert len(send(client, ns, cloudevent("order.created", **event))["started"]) == 1
    assert client.delete(f"/api/namespaces/{ns}/workflows/on-order").status_code == 200
    assert send(client, ns, cloudevent("order.created", **event))["deliveries"] == 0


def test_a_schedule_starts_instances_and_shows_its_next_runs(client: httpx.Client, ns: str) -> None:
    push(
        client,
        ns,
        """\
id: ticker
start:
  type: scheduled
  cron: "@every 1s"
states:
  - id: only
    type: noop
""",
    )
    detail = client.get(f"/api/namespaces/{ns}/workflows/ticker").json()
    runs = [t["seconds"] for t in detail["nextRuns"]]
    assert len(runs) == 5
    assert [b - a for a, b in itertools.pairwise(runs)] == [1, 1, 1, 1]
    ticks = until(lambda: (found := instances(client, ns, "ticker")) and len(found) >= 2 and found)
    for brief in ticks:
        assert brief["invokedBy"] == "schedule"
        assert "/tick-" in brief["id"]
    assert len({brief["id"] for brief in ticks}) == len(ticks)
    output(client, ticks[0]["id"])
    client.put(f"/api/namespaces/{ns}/workflows/ticker/toggle")
    assert client.get(f"/api/namespaces/{ns}/workflows/ticker").json()["nextRuns"] == []
    error(
        client.post(f"/api/namespaces/{ns}/workflows/ticker/execute", json={}),
        409,
    )

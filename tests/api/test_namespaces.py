"""Namespaces: list, create, get, delete, the namespace log, events."""

from __future__ import annotations

import secrets

import httpx

from tests.api.support import ECHO, error, is_timestamp, push


def test_healthz(client: httpx.Client) -> None:
    answer = client.get("/api/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}


def test_the_default_namespace_exists(client: httpx.Client) -> None:
    names = [n["name"] for n in client.get("/api/namespaces/").json()["namespaces"]]
    assert "default" in names


def test_create_list_get_delete(client: httpx.Client) -> None:
    name = f"n-{secrets.token_hex(4)}"
    created = client.post(f"/api/namespaces/{name}")
    assert created.status_code == 200
    body = created.json()
    assert set(body) == {"name", "createdAt"}
    assert body["name"] == name
    assert is_timestamp(body["createdAt"])

    listing = client.get("/api/namespaces/")
    assert listing.status_code == 200
    shape = listing.json()
    assert set(shape) == {"namespaces", "offset", "limit", "total"}
    assert shape["offset"] == 0
    assert shape["total"] == len(shape["namespaces"])
    mine = [n for n in shape["namespaces"] if n["name"] == name]
    assert mine == [body]
    assert [n["name"] for n in shape["namespaces"]] == sorted(
        n["name"] for n in shape["namespaces"]
    )

    assert client.get(f"/api/namespaces/{name}").json() == body

    deleted = client.delete(f"/api/namespaces/{name}")
    assert deleted.status_code == 200
    assert deleted.json() == {"name": name}
    error(client.get(f"/api/namespaces/{name}"), 404, f"namespace '{name}' does not exist")
    names = [n["name"] for n in client.get("/api/namespaces").json()["namespaces"]]
    assert name not in names


def test_paging_the_namespace_list(client: httpx.Client, ns: str) -> None:
    page = client.get("/api/namespaces/", params={"offset": 1, "limit": 1}).json()
    assert page["offset"] == 1
    assert page["limit"] == 1
    assert len(page["namespaces"]) == 1
    assert page["total"] >= 2


def test_create_twice_is_a_conflict(client: httpx.Client, ns: str) -> None:
    error(client.post(f"/api/namespaces/{ns}"), 409, f"namespace '{ns}' exists already")


def test_invalid_names_are_refused_with_406(client: httpx.Client) -> None:
    for bad in ("Upper", "1abc", "a.b", "trailing-", "x" * 65):
        message = error(client.post(f"/api/namespaces/{bad}"), 406, "namespace:", "not a valid")
        assert bad in message
    names = [n["name"] for n in client.get("/api/namespaces/").json()["namespaces"]]
    assert "Upper" not in names


def test_delete_missing_namespace(client: httpx.Client) -> None:
    error(client.delete("/api/namespaces/nothing-here"), 404, "nothing-here")


def test_delete_removes_everything_in_it(client: httpx.Client) -> None:
    name = f"n-{secrets.token_hex(4)}"
    client.post(f"/api/namespaces/{name}")
    push(client, name, ECHO)
    client.post(f"/api/namespaces/{name}/variables/v", content=b"1")
    client.post(f"/api/namespaces/{name}/secrets/", json={"name": "s", "data": "x"})
    started = client.post(f"/api/namespaces/{name}/workflows/echo/execute", params={"wait": 1})
    instance = started.headers["Direktiv-InstanceID"]
    assert client.delete(f"/api/namespaces/{name}").status_code == 200

    client.post(f"/api/namespaces/{name}")  # the same name again starts empty
    try:
        assert client.get(f"/api/namespaces/{name}/workflows/").json()["workflows"] == []
        assert client.get(f"/api/namespaces/{name}/variables/").json() == {"variables": []}
        assert client.get(f"/api/namespaces/{name}/secrets/").json() == {"secrets": []}
        error(client.get(f"/api/instances/{instance}"), 404)
    finally:
        client.delete(f"/api/namespaces/{name}")


def test_the_namespace_log_tells_namespace_and_workflow_changes(client: httpx.Client) -> None:
    name = f"log-{secrets.token_hex(4)}"
    assert client.post(f"/api/namespaces/{name}").status_code == 200
    push(client, name, ECHO)
    assert client.put(f"/api/namespaces/{name}/workflows/echo/toggle").status_code == 200
    assert client.delete(f"/api/namespaces/{name}/workflows/echo").status_code == 200
    answer = client.get(f"/api/namespaces/{name}/logs", params={"offset": 1, "limit": 5})
    assert answer.status_code == 200
    body = answer.json()
    assert (body["offset"], body["limit"]) == (1, 5)
    assert [line["message"] for line in body["namespaceLogs"]] == [
        "workflow 'echo' created",
        "workflow 'echo' deactivated",
        "workflow 'echo' deleted",
    ]
    assert all(is_timestamp(line["timestamp"]) for line in body["namespaceLogs"])
    assert all(line["context"] == {} for line in body["namespaceLogs"])
    # The log goes with its namespace.
    assert client.delete(f"/api/namespaces/{name}").status_code == 200
    assert client.post(f"/api/namespaces/{name}").status_code == 200
    again = client.get(f"/api/namespaces/{name}/logs").json()["namespaceLogs"]
    assert [line["message"] for line in again] == [f"namespace '{name}' created"]
    client.delete(f"/api/namespaces/{name}")


def test_namespace_log_errors(client: httpx.Client, ns: str) -> None:
    error(client.get("/api/namespaces/nothing-here/logs"), 404)
    error(client.get(f"/api/namespaces/{ns}/logs", params={"limit": "x"}), 400, "limit:")


EVENT = {
    "specversion": "1.0",
    "type": "com.example.greeting",
    "source": "https://example.com",
    "id": "A234-1234-1234",
    "datacontenttype": "application/json",
    "data": {"name": "Ada"},
}


def test_send_a_structured_event(client: httpx.Client, ns: str) -> None:
    answer = client.post(f"/api/namespaces/{ns}/event", json=EVENT)
    assert answer.status_code == 200
    (receipt,) = answer.json()["events"]
    assert receipt["id"] == EVENT["id"]
    assert receipt["duplicate"] is False


def test_send_a_batch_of_events(client: httpx.Client, ns: str) -> None:
    answer = client.post(
        f"/api/namespaces/{ns}/event",
        json=[EVENT, {**EVENT, "id": "2"}],
        headers={"Content-Type": "application/cloudevents-batch+json"},
    )
    assert answer.status_code == 200


def test_send_a_binary_mode_event(client: httpx.Client, ns: str) -> None:
    answer = client.post(
        f"/api/namespaces/{ns}/event",
        content=b"<much wow='xml'/>",
        headers={
            "ce-specversion": "1.0",
            "ce-type": "com.example.xml",
            "ce-source": "test",
            "ce-id": "1",
            "Content-Type": "text/xml",
        },
    )
    assert answer.status_code == 200


def test_bad_events_are_refused(client: httpx.Client, ns: str) -> None:
    url = f"/api/namespaces/{ns}/event"
    error(client.post(url, content=b"not json"), 400, "body:", "CloudEvent")
    error(client.post(url, json=[1, 2]), 400, "body:", "JSON object")
    without_type = {k: v for k, v in EVENT.items() if k != "type"}
    error(client.post(url, json=without_type), 400, "type:")
    error(client.post(url, json={**EVENT, "specversion": "2.0"}), 400, "specversion:")
    error(client.post(url, json={**EVENT, "id": 5}), 400, "id:")
    error(client.post("/api/namespaces/nothing-here/event", json=EVENT), 404, "nothing-here")

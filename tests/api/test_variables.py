"""Namespace and workflow variables: raw bodies in and out, MIME types, empty bodies delete."""

from __future__ import annotations

import httpx
import pytest

from tests.api.support import ECHO, error, push

COUNTER = """\
id: counter
states:
  - id: read
    type: getter
    variables:
      - key: greeting
        scope: namespace
      - key: count
        scope: workflow
    transition: write
  - id: write
    type: setter
    variables:
      - key: count
        scope: workflow
        value: 'jq((.var.count // 0) + 1)'
"""


@pytest.fixture(params=["namespace", "workflow"])
def base(request: pytest.FixtureRequest, client: httpx.Client, ns: str) -> str:
    """The variables URL of one scope."""
    if request.param == "namespace":
        return f"/api/namespaces/{ns}/variables"
    push(client, ns, ECHO)
    return f"/api/namespaces/{ns}/workflows/echo/variables"


def test_set_get_list_delete(client: httpx.Client, base: str) -> None:
    answer = client.post(
        f"{base}/token", content=b"secret!!", headers={"Content-Type": "text/plain"}
    )
    assert answer.status_code == 200
    client.post(f"{base}/blob", content=bytes(range(256)))
    got = client.get(f"{base}/token")
    assert got.status_code == 200
    assert got.content == b"secret!!"
    assert got.headers["content-type"].startswith("text/plain")
    blob = client.get(f"{base}/blob")
    assert blob.content == bytes(range(256))

    listing = client.get(f"{base}/").json()
    assert listing == {
        "variables": [
            {"name": "blob", "size": 256, "mimeType": blob.headers["content-type"]},
            {"name": "token", "size": 8, "mimeType": "text/plain"},
        ]
    }
    assert client.get(base).json() == listing  # without the trailing slash too

    assert client.post(f"{base}/token", content=b"").status_code == 200  # empty body deletes
    error(client.get(f"{base}/token"), 404, "variable 'token' does not exist")
    assert client.delete(f"{base}/blob").status_code == 200
    assert client.get(f"{base}/").json() == {"variables": []}


def test_replace_keeps_the_new_mime_type(client: httpx.Client, base: str) -> None:
    client.post(f"{base}/v", content=b"{}", headers={"Content-Type": "application/json"})
    client.post(f"{base}/v", content=b"<a/>", headers={"Content-Type": "text/xml"})
    got = client.get(f"{base}/v")
    assert (got.content, got.headers["content-type"]) == (b"<a/>", "text/xml")


def test_bad_keys_are_refused(client: httpx.Client, base: str) -> None:
    error(client.post(f"{base}/bad.key", content=b"x"), 406, "variable:", "bad.key")
    error(client.get(f"{base}/-x"), 406, "variable:")
    assert client.get(f"{base}/").json() == {"variables": []}


def test_unknown_owner(client: httpx.Client, ns: str) -> None:
    error(client.get("/api/namespaces/nothing-here/variables/"), 404, "nothing-here")
    error(client.post("/api/namespaces/nothing-here/variables/v", content=b"1"), 404)
    error(client.get(f"/api/namespaces/{ns}/workflows/none/variables/"), 404, "'none'")
    error(client.post(f"/api/namespaces/{ns}/workflows/none/variables/v", content=b"1"), 404)
    error(client.get(f"/api/namespaces/{ns}/workflows/none/variables/v"), 404)


def test_workflows_see_the_variables(client: httpx.Client, ns: str) -> None:
    push(client, ns, COUNTER)
    client.post(f"/api/namespaces/{ns}/variables/greeting", content=b'"hi"')
    client.post(f"/api/namespaces/{ns}/workflows/counter/variables/count", content=b"41")
    answer = client.post(f"/api/namespaces/{ns}/workflows/counter/execute", params={"wait": 1})
    assert answer.json()["var"] == {"greeting": "hi", "count": 41}
    assert client.get(f"/api/namespaces/{ns}/workflows/counter/variables/count").content == b"42"

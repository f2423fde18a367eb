"""Secrets and registries: names listed, values never returned."""

from __future__ import annotations

import base64

import httpx

from tests.api.support import error, push

USES_SECRET = """\
id: uses-secret
functions:
  - id: nothing
    image: test/nothing
states:
  - id: call
    type: action
    action:
      function: nothing
      secrets: [missing]
"""


def test_secrets(client: httpx.Client, ns: str) -> None:
    url = f"/api/namespaces/{ns}/secrets/"
    created = client.post(url, json={"name": "TOKEN", "data": "s3cr3t-value"})
    assert created.status_code == 200
    assert created.json() == {}
    client.post(url, json={"name": "OTHER", "data": "x"})
    listing = client.get(url)
    assert listing.json() == {"secrets": [{"name": "OTHER"}, {"name": "TOKEN"}]}
    assert "s3cr3t-value" not in listing.text
    client.post(url, json={"name": "TOKEN", "data": "replaced"})  # replaces, no conflict
    deleted = client.request("DELETE", url, json={"name": "TOKEN"})
    assert deleted.status_code == 200
    assert deleted.json() == {}
    assert client.get(url).json() == {"secrets": [{"name": "OTHER"}]}
    error(client.request("DELETE", url, json={"name": "TOKEN"}), 404, "secret 'TOKEN'")


def test_secret_bodies_are_checked(client: httpx.Client, ns: str) -> None:
    url = f"/api/namespaces/{ns}/secrets/"
    error(client.post(url, json={"name": "A"}), 400, "data: Field required")
    error(client.post(url, json={"name": 1, "data": "x"}), 400, "name:")
    error(client.post(url, json={"name": "A", "data": ""}), 400, "data:")
    error(client.post(url, json={"name": "bad name", "data": "x"}), 406, "name:")
    error(
        client.post(url, content=b"{not json", headers={"Content-Type": "application/json"}),
        400,
        "body:",
    )
    error(client.post(url, json=["A", "x"]), 400)
    error(client.request("DELETE", url, json={}), 400, "name: Field required")
    error(
        client.post("/api/namespaces/nothing-here/secrets/", json={"name": "A", "data": "x"}), 404
    )
    error(client.get("/api/namespaces/nothing-here/secrets/"), 404)
    assert client.get(url).json() == {"secrets": []}


def test_registries(client: httpx.Client, ns: str) -> None:
    url = f"/api/namespaces/{ns}/registries/"
    created = client.post(url, json={"name": "https://gcr.io", "data": "user:token"})
    assert created.status_code == 200
    listing = client.get(url).json()
    assert listing == {
        "registries": [
            {"name": "https://gcr.io", "id": base64.b64encode(b"https://gcr.io").decode()}
        ]
    }
    assert "user:token" not in client.get(url).text
    error(client.post(url, json={"name": "https://x.io", "data": "no-colon"}), 400, "user:token")
    error(client.post(url, json={"name": "has space", "data": "a:b"}), 400, "name:")
    assert client.request("DELETE", url, json={"name": "https://gcr.io"}).status_code == 200
    assert client.get(url).json() == {"registries": []}
    error(client.request("DELETE", url, json={"name": "https://gcr.io"}), 404)


def test_a_missing_secret_fails_the_instance(client: httpx.Client, ns: str) -> None:
    push(client, ns, USES_SECRET)
    answer = client.post(f"/api/namespaces/{ns}/workflows/uses-secret/execute?wait=true")
    assert answer.status_code == 200
    assert answer.headers["Direktiv-ErrorCode"] == "direktiv.secrets.notFound"

"""What every route shares: the error body, unknown routes, body limits, OpenAPI and docs."""

from __future__ import annotations

from collections.abc import Iterator

import httpx

from tests.api.support import ECHO, error, push

MIB = 1024 * 1024

#: Every compatible route of the 2021 API (docs: api-and-cli.md), as OpenAPI paths and methods.
COMPATIBLE = [
    ("get", "/api/healthz"),
    ("get", "/api/namespaces/"),
    ("post", "/api/namespaces/{namespace}"),
    ("delete", "/api/namespaces/{namespace}"),
    ("get", "/api/namespaces/{namespace}/logs"),
    ("post", "/api/namespaces/{namespace}/event"),
    ("get", "/api/namespaces/{namespace}/secrets/"),
    ("post", "/api/namespaces/{namespace}/secrets/"),
    ("delete", "/api/namespaces/{namespace}/secrets/"),
    ("get", "/api/namespaces/{namespace}/registries/"),
    ("post", "/api/namespaces/{namespace}/registries/"),
    ("delete", "/api/namespaces/{namespace}/registries/"),
    ("get", "/api/namespaces/{namespace}/workflows/"),
    ("post", "/api/namespaces/{namespace}/workflows"),
    ("get", "/api/namespaces/{namespace}/workflows/{workflow}"),
    ("put", "/api/namespaces/{namespace}/workflows/{workflow}"),
    ("put", "/api/namespaces/{namespace}/workflows/{workflow}/toggle"),
    ("delete", "/api/namespaces/{namespace}/workflows/{workflow}"),
    ("get", "/api/namespaces/{namespace}/workflows/{workflow}/download"),
    ("post", "/api/namespaces/{namespace}/workflows/{workflow}/execute"),
    ("get", "/api/namespaces/{namespace}/workflows/{workflow}/execute"),
    ("get", "/api/namespaces/{namespace}/workflows/{workflow}/instances/"),
    ("get", "/api/namespaces/{namespace}/workflows/{workflow}/metrics"),
    ("get", "/api/namespaces/{namespace}/workflows/{workflow}/variables/"),
    ("get", "/api/namespaces/{namespace}/workflows/{workflow}/variables/{variable}"),
    ("post", "/api/namespaces/{namespace}/workflows/{workflow}/variables/{variable}"),
    ("get", "/api/namespaces/{namespace}/variables/"),
    ("get", "/api/namespaces/{namespace}/variables/{variable}"),
    ("post", "/api/namespaces/{namespace}/variables/{variable}"),
    ("get", "/api/instances/{namespace}"),
    ("get", "/api/instances/{namespace}/{workflow}/{id}"),
    ("delete", "/api/instances/{namespace}/{workflow}/{id}"),
    ("get", "/api/instances/{namespace}/{workflow}/{id}/logs"),
    ("get", "/api/instances/{namespace}/{workflow}/{id}/status"),
]


def test_openapi_lists_every_compatible_route(client: httpx.Client) -> None:
    answer = client.get("/api/openapi.json")
    assert answer.status_code == 200
    paths = answer.json()["paths"]
    missing = [(m, p) for m, p in COMPATIBLE if m not in paths.get(p, {})]
    assert missing == []


def test_interactive_docs(client: httpx.Client) -> None:
    answer = client.get("/api/docs")
    assert answer.status_code == 200
    assert "/api/openapi.json" in answer.text


def test_unknown_routes_and_methods(client: httpx.Client) -> None:
    error(client.get("/api/nothing"), 404, "no route GET /api/nothing")
    error(client.patch("/api/namespaces/default"), 405, "PATCH is not allowed")


def test_both_slash_spellings_work_without_a_redirect(client: httpx.Client, ns: str) -> None:
    for path in (f"/api/namespaces/{ns}/workflows", f"/api/namespaces/{ns}/workflows/"):
        answer = client.get(path)
        assert answer.status_code == 200, path
    assert client.get(f"/api/instances/{ns}/").status_code == 200


def test_a_body_over_the_limit_is_refused(client: httpx.Client, ns: str) -> None:
    push(client, ns, ECHO)
    huge = b"x" * (16 * MIB + 1)
    url = f"/api/namespaces/{ns}/workflows/echo/execute"
    error(client.post(url, content=huge), 413, "larger than 16777216 bytes")
    error(client.post(f"/api/namespaces/{ns}/variables/big", content=huge), 413)
    assert client.get(f"/api/namespaces/{ns}/variables/").json() == {"variables": []}

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while it streams
        for _ in range(17):
            yield b"y" * MIB

    error(client.post(url, content=chunks()), 413, "larger than")
    listing = client.get(f"/api/namespaces/{ns}/workflows/echo/instances/").json()
    assert listing["total"] == 0


def test_a_body_at_the_limit_is_taken(client: httpx.Client, ns: str) -> None:
    answer = client.post(f"/api/namespaces/{ns}/variables/big", content=b"z" * (16 * MIB))
    assert answer.status_code == 200
    assert client.get(f"/api/namespaces/{ns}/variables/").json()["variables"][0]["size"] == 16 * MIB


def test_validation_errors_name_the_field(client: httpx.Client, ns: str) -> None:
    message = error(client.get("/api/namespaces/", params={"limit": "many"}), 400)
    assert message.startswith("limit: ")
    message = error(client.get("/api/namespaces/", params={"offset": "-1", "limit": "x"}), 400)
    assert "offset: " in message
    assert "limit: " in message

"""The client's pieces that need no server: reading answers, places in messages, ids, SSE framing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from dirigent.cli.client import http
from dirigent.cli.client.http import Api, ApiError, Event, Server, _api_error, items, open_api, path
from dirigent.cli.client.instances import instance_route, progress_of
from dirigent.cli.client.render import decode_data, timestamp, took, when
from dirigent.cli.client.workflows import located
from tests.fixtures.functions.runner import free_port


def test_server_url_forms() -> None:
    assert Server.of("localhost:8780/", None) == Server("http://localhost:8780", None)
    assert Server.of("https://d.example.com", "") == Server("https://d.example.com", None)
    assert Server.of("http://h:1", "t").token == "t"


def test_path_escapes_each_segment() -> None:
    assert path("/api/namespaces", "a b", "/workflows/") == "/api/namespaces/a%20b/workflows/"
    assert path("/api/namespaces", "../x") == "/api/namespaces/..%2Fx"


def test_items_finds_the_list() -> None:
    assert items({"workflows": [1], "offset": 0}, "workflows") == [1]
    assert items({"other": [2], "total": 1}, "workflows") == [2]
    assert items([3], "x") == [3]
    assert items({"a": [1], "b": [2]}, "x") == []
    assert items("text", "x") == []


def test_api_errors_read_every_body() -> None:
    error = _api_error(404, "Not Found", b'{"Code": 404, "Message": "workflow \'x\' is missing"}')
    assert (error.status, error.code, error.message) == (404, 404, "workflow 'x' is missing")
    assert _api_error(404, "Not Found", b'{"detail": "Not Found"}').message == "Not Found"
    assert _api_error(502, "Bad Gateway", b"upstream down").message == "upstream down"
    assert _api_error(500, "Internal Server Error", b"").message == "HTTP 500 Internal Server Error"
    unauthorized = _api_error(
        401, "Unauthorized", b'{"Code": 401, "Message": "the token is not valid"}'
    )
    assert unauthorized.message == "the token is not valid (pass --token, or set DIRIGENT_TOKEN)"


def test_located_rewrites_line_and_column() -> None:
    message = (
        "the workflow definition is not valid:\n"
        "line 5, column 17: states[0].transition: no state 'nowhere'\n"
        "line 7: something"
    )
    assert located("f.yaml", message) == (
        "the workflow definition is not valid:\n"
        "f.yaml:5:17: states[0].transition: no state 'nowhere'\n"
        "f.yaml:7: something"
    )
    assert located("f.yaml", "warning: line 3, column 1: x") == "warning: f.yaml:3:1: x"


def test_instance_routes() -> None:
    assert instance_route("ns/wf/abc", "other") == "/api/instances/ns/wf/abc"
    assert instance_route("wf/abc", "ns") == "/api/instances/ns/wf/abc"
    with pytest.raises(http.ClientError):
        instance_route("a/b/c/d", "ns")
    with pytest.raises(http.ClientError):
        instance_route("a//c", "ns")


def test_progress_of_instances_and_status_events() -> None:
    assert progress_of({"status": "pending", "flow": ["a", "b"]}) == ("pending", "b")
    assert progress_of({"status": "pending", "state": "c"}) == ("pending", "c")
    assert progress_of({"status": "complete", "flow": []}) == ("complete", "")


def test_times_and_data() -> None:
    moment = timestamp({"seconds": "1700000000", "nanos": 500_000_000})
    assert moment is not None
    assert moment.timestamp() == 1_700_000_000.5
    assert timestamp({"seconds": 0, "nanos": 0}) is None
    assert timestamp("2024-01-02T03:04:05Z") is not None
    assert when(None) == "-"
    assert took({"seconds": 10, "nanos": 0}, {"seconds": 11, "nanos": 250_000_000}) == "1.250s"
    assert took({"seconds": 10, "nanos": 0}, None) == "-"
    assert decode_data("eyJhIjogMX0=") == b'{"a": 1}'
    assert decode_data("") == b""
    assert decode_data(None) == b""


@pytest.fixture
async def sse_server() -> AsyncIterator[str]:
    """A tiny server with one event stream, framed the awkward ways the SSE format allows."""

    async def stream(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b": keep-alive\n\n")
        await response.write(b'data: {"status": "pending",\ndata:  "state": "a"}\n\n')
        await response.write(b"event: end\r\ndata: bye\r\n\r\n")
        await response.write(b"data: last without blank line")
        return response

    async def missing(request: web.Request) -> web.Response:
        return web.json_response({"Code": 404, "Message": "no route"}, status=404)

    app = web.Application()
    app.router.add_get("/stream", stream)
    app.router.add_get("/missing", missing)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_server_sent_events(sse_server: str) -> None:
    async with open_api(Server(sse_server)) as api:
        events = [event async for event in api.events("/stream")]
        assert events == [
            Event("message", '{"status": "pending",\n "state": "a"}'),
            Event("end", "bye"),
            Event("message", "last without blank line"),
        ]
        assert events[0].json() == {"status": "pending", "state": "a"}
        with pytest.raises(ApiError) as refused:
            async for _ in api.events("/missing"):
                pass
        assert refused.value.status == 404


async def test_bearer_token_is_sent() -> None:
    seen: list[str | None] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization"))
        return web.json_response({"namespaces": []})

    app = web.Application()
    app.router.add_get("/api/namespaces/", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with open_api(Server.of(f"127.0.0.1:{port}", "t0k")) as api:
            assert isinstance(api, Api)
            assert await api.get_all("/api/namespaces/", "namespaces") == []
    finally:
        await runner.cleanup()
    assert seen == ["Bearer t0k"]

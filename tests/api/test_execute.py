"""Executing workflows: inputs (POST body, GET query), waiting, `field`, failures, refusals."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import httpx

from tests.api.support import ECHO, NAP, ROOT, error, push, wait_for_status

HELLO = (ROOT / "examples" / "hello" / "hello.yaml").read_text()

FAILING = """\
id: failing
states:
  - id: fail
    type: error
    error: my.error
    message: 'no luck with %s'
    args: ['jq(.name)']
"""

FILES = """\
id: files
states:
  - id: make
    type: noop
    transform: 'jq({file: "aGVsbG8gd29ybGQ=", text: "not base64!", count: 3, list: [1, 2]})'
"""

SCHEDULED = """\
id: nightly
start:
  type: scheduled
  cron: '0 3 * * *'
states:
  - id: only
    type: noop
"""

ON_EVENT = """\
id: on-event
start:
  type: event
  event:
    type: com.example.thing
states:
  - id: only
    type: noop
"""

SINGULAR = NAP.replace("id: nap", "id: single\nsingular: true")


def execute(client: httpx.Client, ns: str, workflow: str, **options: Any) -> httpx.Response:
    return client.post(f"/api/namespaces/{ns}/workflows/{workflow}/execute", **options)


def test_execute_answers_the_instance_id(client: httpx.Client, ns: str) -> None:
    push(client, ns, ECHO)
    answer = execute(client, ns, "echo", content=b'{"a": 1}')
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"instanceId"}
    assert re.fullmatch(rf"{ns}/echo/[0-9a-f]+", body["instanceId"])
    detail = wait_for_status(client, body["instanceId"], {"complete"})
    assert json.loads(base64.b64decode(str(detail["output"]))) == {"a": 1}


def test_wait_answers_the_output(client: httpx.Client, ns: str) -> None:
    push(client, ns, HELLO)
    answer = execute(client, ns, "hello", params={"wait": "true"}, content=b'{"name": "Ada"}')
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {"greeting": "Hello, Ada!"}
    instance_id = answer.headers["Direktiv-InstanceID"]
    assert instance_id.startswith(f"{ns}/hello/")
    assert "Direktiv-ErrorCode" not in answer.headers
    assert "Direktiv_ErrorCode" not in answer.headers
    detail = client.get(f"/api/instances/{instance_id}").json()
    assert detail["status"] == "complete"


def test_inputs_of_every_kind(client: httpx.Client, ns: str) -> None:
    push(client, ns, ECHO)
    cases = [
        (b'{"x": [1, 2]}', {"x": [1, 2]}),
        (b"[1, 2]", {"input": [1, 2]}),
        (b'"text"', {"input": "text"}),
        (b"", {"input": ""}),
        (b"\x00\x01binary", {"input": base64.b64encode(b"\x00\x01binary").decode()}),
    ]
    for body, output in cases:
        answer = execute(client, ns, "echo", params={"wait": "yes"}, content=body)
        assert answer.json() == output, body


def test_get_turns_the_query_into_the_input(client: httpx.Client, ns: str) -> None:
    push(client, ns, ECHO)
    answer = client.get(
        f"/api/namespaces/{ns}/workflows/echo/execute",
        params=[("a", "1"), ("a", "2"), ("b", "x"), ("wait", "true"), ("field", ".")],
    )
    assert answer.status_code == 200
    assert answer.json() == {"a": ["1", "2"], "b": "x"}
    started = client.get(f"/api/namespaces/{ns}/workflows/echo/execute", params={"c": "3"})
    instance_id = started.json()["instanceId"]
    detail = wait_for_status(client, instance_id, {"complete"})
    assert json.loads(base64.b64decode(str(detail["input"]))) == {"c": "3"}


def test_failure_headers_in_both_spellings(client: httpx.Client, ns: str) -> None:
    push(client, ns, FAILING)
    answer = execute(client, ns, "failing", params={"wait": "true"}, content=b'{"name": "Bo"}')
    assert answer.status_code == 200
    headers = answer.headers
    assert headers["Direktiv-ErrorCode"] == "my.error"
    assert headers["Direktiv-ErrorMessage"] == "no luck with Bo"
    assert headers["Direktiv_ErrorCode"] == "my.error"
    assert headers["Direktiv_ErrorMsg"] == "no luck with Bo"
    assert headers["Direktiv-InstanceID"].startswith(f"{ns}/failing/")
    detail = client.get(f"/api/instances/{headers['Direktiv-InstanceID']}").json()
    assert (detail["status"], detail["errorCode"], detail["errorMessage"]) == (
        "failed",
        "my.error",
        "no luck with Bo",
    )


def test_caught_schema_failure_in_hello(client: httpx.Client, ns: str) -> None:
    push(client, ns, HELLO)
    answer = execute(client, ns, "hello", params={"wait": "1"}, content=b"{}")
    assert answer.headers["Direktiv-ErrorCode"] == "hello.input"
    assert answer.headers["Direktiv_ErrorMsg"].startswith("no name to greet")


def test_field_extraction(client: httpx.Client, ns: str) -> None:
    push(client, ns, FILES)

    def field(query: str) -> httpx.Response:
        return execute(client, ns, "files", params={"wait": "true", "field": query})

    decoded = field(".file")
    assert decoded.content == b"hello world"
    assert decoded.headers["content-type"] == "application/octet-stream"
    assert decoded.headers["Direktiv-InstanceID"].startswith(f"{ns}/files/")
    text = field(".text")
    assert text.content == b"not base64!"
    assert text.headers["content-type"].startswith("text/plain")
    assert field(".count").json() == 3
    assert field(".list").json() == [1, 2]
    assert field(".missing").json() is None
    assert field(".list[]").json() == 1  # the first value


def test_bad_field_is_refused_before_anything_starts(client: httpx.Client, ns: str) -> None:
    push(client, ns, ECHO)
    error(execute(client, ns, "echo", params={"wait": "true", "field": ".a["}), 400, "field:")
    error(execute(client, ns, "echo", params={"wait": "true", "field": "env"}), 400, "field:")
    listing = client.get(f"/api/namespaces/{ns}/workflows/echo/instances/").json()
    assert listing["total"] == 0


def test_field_runtime_error(client: httpx.Client, ns: str) -> None:
    push(client, ns, FILES)
    error(
        execute(client, ns, "files", params={"wait": "true", "field": '.text | error("x")'}),
        400,
        "field:",
    )


def test_wait_false_values_do_not_wait(client: httpx.Client, ns: str) -> None:
    push(client, ns, ECHO)
    for value in ("false", "0", "", "no"):
        answer = execute(client, ns, "echo", params={"wait": value})
        assert set(answer.json()) == {"instanceId"}, value


def test_refusals(client: httpx.Client, ns: str) -> None:
    push(client, ns, ECHO)
    push(client, ns, SCHEDULED)
    push(client, ns, ON_EVENT)
    error(execute(client, ns, "missing"), 404, "workflow 'missing'")
    error(execute(client, "nothing-here", "echo"), 404, "namespace 'nothing-here'")
    error(execute(client, ns, "Bad_Name"), 406, "workflow:")
    error(execute(client, ns, "nightly"), 400, "on a schedule")
    error(execute(client, ns, "on-event"), 400, "on events")
    client.put(f"/api/namespaces/{ns}/workflows/echo/toggle")
    error(execute(client, ns, "echo", params={"wait": "true"}), 409, "inactive")
    error(client.get(f"/api/namespaces/{ns}/workflows/echo/execute"), 409, "inactive")
    for workflow in ("echo", "nightly", "on-event"):
        listing = client.get(f"/api/namespaces/{ns}/workflows/{workflow}/instances/").json()
        assert listing["total"] == 0, workflow


def test_singular_workflow_refuses_a_second_instance(client: httpx.Client, ns: str) -> None:
    push(client, ns, SINGULAR)
    first = execute(client, ns, "single").json()["instanceId"]
    error(execute(client, ns, "single"), 409, "singular")
    client.delete(f"/api/instances/{first}")
    wait_for_status(client, first, {"cancelled"})
    assert execute(client, ns, "single").status_code == 200

"""The sidecar's `/log` and `/var` (contract §4), directly and from real functions."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import aiohttp
import pytest

from dirigent.errors import Unavailable
from dirigent.functions import FunctionCaller, Sidecar, open_sidecar
from dirigent.store.memory import MemoryStore
from dirigent.store.records import InstanceRef, LogEntry, Variable, VariableRef
from tests.fixtures.functions.runner import RunningFunction
from tests.functions.support import OWNER, STATE, function_call

AID = "0123456789abcdef0123456789abcdef"


def base(sidecar: Sidecar) -> str:
    return f"http://127.0.0.1:{sidecar.port}"


def messages(store: MemoryStore, instance_id: str = OWNER.instance_id) -> list[str]:
    return [entry.message for entry in store.logs(instance_id)]


async def wait_for_log(store: MemoryStore, message: str, within: float = 10.0) -> LogEntry:
    arrived = asyncio.Event()
    store.add_log_listener(lambda entry: arrived.set() if entry.message == message else None)
    for entry in store.logs(OWNER.instance_id):
        if entry.message == message:
            return entry
    async with asyncio.timeout(within):
        await arrived.wait()
    return next(e for e in store.logs(OWNER.instance_id) if e.message == message)


# /log, directly


async def test_log_get_and_post_append_to_the_instance_log_in_arrival_order(
    sidecar: Sidecar, store: MemoryStore, http: aiohttp.ClientSession
) -> None:
    sidecar.register(AID, OWNER, STATE)
    before = datetime.now(UTC)
    url = f"{base(sidecar)}/log"
    async with http.get(url, params={"aid": AID, "log": "one"}) as response:
        assert response.status == 200
        assert await response.read() == b""
    for body, content_type in [
        (b"two\n", "plain/text"),
        (b'{"three": 3}', "application/json"),
        (b"four\r\n", "text/plain"),
        (b"five", None),
        (b"six \xff", None),  # not UTF-8: replaced, not refused
    ]:
        headers = {"Content-Type": content_type} if content_type else {}
        async with http.post(url, params={"aid": AID}, data=body, headers=headers) as response:
            assert response.status == 200
            assert await response.read() == b""

    assert messages(store) == ["one", "two", '{"three": 3}', "four", "five", "six \ufffd"]
    for entry in store.logs(OWNER.instance_id):
        assert (entry.state, entry.action_id) == (STATE, AID)
        assert before <= entry.time <= datetime.now(UTC)


async def test_log_keeps_inner_newlines_and_strips_only_one_trailing(
    sidecar: Sidecar, store: MemoryStore, http: aiohttp.ClientSession
) -> None:
    sidecar.register(AID, OWNER, STATE)
    url = f"{base(sidecar)}/log"
    async with http.post(url, params={"aid": AID}, data=b"a\nb\n\n"):
        pass
    assert messages(store) == ["a\nb\n"]


async def test_empty_log_message_is_accepted_but_not_logged(
    sidecar: Sidecar, store: MemoryStore, http: aiohttp.ClientSession
) -> None:
    sidecar.register(AID, OWNER, STATE)
    async with http.get(f"{base(sidecar)}/log", params={"aid": AID}) as response:
        assert response.status == 200
    assert messages(store) == []


async def test_logs_of_actions_are_attributed_to_their_own_instance_and_state(
    sidecar: Sidecar, store: MemoryStore, http: aiohttp.ClientSession
) -> None:
    other = InstanceRef("ns", "wf", "inst-2")
    sidecar.register("a1", OWNER, "first")
    sidecar.register("a2", other, "second")
    url = f"{base(sidecar)}/log"
    for aid, text in [("a2", "x"), ("a1", "y"), ("a2", "z")]:
        async with http.post(url, params={"aid": aid}, data=text):
            pass
    assert [(e.message, e.state) for e in store.logs("inst-2")] == [
        ("x", "second"),
        ("z", "second"),
    ]
    assert [(e.message, e.action_id) for e in store.logs(OWNER.instance_id)] == [("y", "a1")]


@pytest.mark.parametrize("aid", ["", "None", "development", "unknown"])
async def test_log_for_an_unknown_action_is_404(
    sidecar: Sidecar, store: MemoryStore, http: aiohttp.ClientSession, aid: str
) -> None:
    sidecar.register(AID, OWNER, STATE)
    async with http.post(f"{base(sidecar)}/log", params={"aid": aid}, data=b"x") as response:
        assert response.status == 404
    async with http.get(f"{base(sidecar)}/log", params={"aid": aid, "log": "x"}) as response:
        assert response.status == 404
    assert messages(store) == []


async def test_late_logs_are_accepted_for_the_grace_then_404(
    sidecar: Sidecar, store: MemoryStore, http: aiohttp.ClientSession
) -> None:
    sidecar.register(AID, OWNER, STATE)
    sidecar.unregister(AID, grace=0.3)
    url = f"{base(sidecar)}/log"
    async with http.post(url, params={"aid": AID}, data=b"late") as response:
        assert response.status == 200
    # /var ends with the action, at once.
    async with http.get(f"{base(sidecar)}/var", params={"aid": AID, "key": "k"}) as response:
        assert response.status == 404
    await asyncio.sleep(0.4)
    async with http.post(url, params={"aid": AID}, data=b"too late") as response:
        assert response.status == 404
    assert messages(store) == ["late"]


async def test_unregister_without_grace_ends_logs_at_once(
    sidecar: Sidecar, http: aiohttp.ClientSession
) -> None:
    sidecar.register(AID, OWNER, STATE)
    sidecar.unregister(AID, grace=0)
    async with http.post(f"{base(sidecar)}/log", params={"aid": AID}, data=b"x") as response:
        assert response.status == 404


@pytest.mark.parametrize("path", ["/log", "/var"])
@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
async def test_other_methods_are_405(
    sidecar: Sidecar, http: aiohttp.ClientSession, path: str, method: str
) -> None:
    sidecar.register(AID, OWNER, STATE)
    async with http.request(
        method, f"{base(sidecar)}{path}", params={"aid": AID, "key": "k"}
    ) as response:
        assert response.status == 405
        assert response.headers["Allow"] == "GET, POST"


async def test_other_paths_are_404(sidecar: Sidecar, http: aiohttp.ClientSession) -> None:
    sidecar.register(AID, OWNER, STATE)
    async with http.get(f"{base(sidecar)}/", params={"aid": AID}) as response:
        assert response.status == 404


# /var, directly


async def test_var_set_get_delete_in_all_three_scopes(
    sidecar: Sidecar, store: MemoryStore, http: aiohttp.ClientSession
) -> None:
    sidecar.register(AID, OWNER, STATE)
    url = f"{base(sidecar)}/var"
    for scope in ("instance", "workflow", "namespace"):
        params = {"aid": AID, "scope": scope, "key": "config"}
        value = f"value of {scope}".encode()
        async with http.post(
            url, params=params, data=value, headers={"Content-Type": "text/csv; charset=utf-8"}
        ) as response:
            assert response.status == 200
        ref = VariableRef.of(scope, "config", OWNER)
        assert await store.get_variable(ref) == Variable(value, "text/csv; charset=utf-8")
        async with http.get(url, params=params) as response:
            assert response.status == 200
            assert await response.read() == value
            assert response.headers["Content-Length"] == str(len(value))
            assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
        async with http.post(url, params=params, data=b"") as response:
            assert response.status == 200
        assert await store.get_variable(ref) is None


async def test_var_scopes_are_those_of_the_actions_instance(
    sidecar: Sidecar, store: MemoryStore, http: aiohttp.ClientSession
) -> None:
    sidecar.register(AID, OWNER, STATE)
    url = f"{base(sidecar)}/var"
    for scope in ("instance", "workflow", "namespace"):
        async with http.post(url, params={"aid": AID, "scope": scope, "key": "k"}, data=scope):
            pass
    assert set(store.variables()) == {
        VariableRef("instance", "k", "ns", "wf", "inst-1"),
        VariableRef("workflow", "k", "ns", "wf", ""),
        VariableRef("namespace", "k", "ns", "", ""),
    }


async def test_var_without_scope_is_instance_scope(
    sidecar: Sidecar, store: MemoryStore, http: aiohttp.ClientSession
) -> None:
    sidecar.register(AID, OWNER, STATE)
    url = f"{base(sidecar)}/var"
    async with http.post(url, params={"aid": AID, "key": "k"}, data=b"v"):
        pass
    async with http.post(url, params={"aid": AID, "scope": "", "key": "j"}, data=b"w"):
        pass
    assert await store.get_variable(VariableRef.of("instance", "k", OWNER)) is not None
    assert await store.get_variable(VariableRef.of("instance", "j", OWNER)) is not None


async def test_var_posted_without_content_type_is_octet_stream(
    sidecar: Sidecar, store: MemoryStore
) -> None:
    sidecar.register(AID, OWNER, STATE)
    # aiohttp's client adds a Content-Type to bytes; a raw request shows what bare clients send.
    reader, writer = await asyncio.open_connection("127.0.0.1", sidecar.port)
    writer.write(
        f"POST /var?aid={AID}&key=k HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
        "Connection: close\r\n\r\nabc".encode()
    )
    status = await reader.readline()
    await reader.read()
    writer.close()
    await writer.wait_closed()
    assert b" 200 " in status
    variable = await store.get_variable(VariableRef.of("instance", "k", OWNER))
    assert variable == Variable(b"abc", "application/octet-stream")


async def test_var_get_of_a_missing_variable_is_200_and_empty(
    sidecar: Sidecar, http: aiohttp.ClientSession
) -> None:
    sidecar.register(AID, OWNER, STATE)
    async with http.get(f"{base(sidecar)}/var", params={"aid": AID, "key": "nope"}) as response:
        assert response.status == 200
        assert await response.read() == b""


@pytest.mark.parametrize(
    "params",
    [
        {"scope": "global", "key": "k"},
        {"scope": "INSTANCE", "key": "k"},
        {"key": "1starts-with-digit"},
        {"key": "ends-with-dash-"},
        {"key": "has space"},
        {"key": ""},
        {},
    ],
)
async def test_var_with_bad_scope_or_key_is_400(
    sidecar: Sidecar, store: MemoryStore, http: aiohttp.ClientSession, params: dict[str, str]
) -> None:
    sidecar.register(AID, OWNER, STATE)
    url = f"{base(sidecar)}/var"
    async with http.get(url, params={"aid": AID, **params}) as response:
        assert response.status == 400
    async with http.post(url, params={"aid": AID, **params}, data=b"x") as response:
        assert response.status == 400
    assert store.variables() == {}


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_var_for_unknown_or_finished_actions_is_404(
    sidecar: Sidecar, store: MemoryStore, http: aiohttp.ClientSession, method: str
) -> None:
    sidecar.register("done", OWNER, STATE)
    sidecar.unregister("done", grace=10)
    url = f"{base(sidecar)}/var"
    for aid in ["done", "never", "None", ""]:
        async with http.request(
            method, url, params={"aid": aid, "key": "k"}, data=b"x"
        ) as response:
            assert response.status == 404
    assert store.variables() == {}


# Lifecycle


async def test_a_taken_port_is_a_clear_unavailable_error(store: MemoryStore) -> None:
    async with open_sidecar(store, port=0) as first:
        with pytest.raises(Unavailable, match=f"sidecar port {first.port} is in use"):
            async with open_sidecar(store, port=first.port):
                pass  # pragma: no cover


async def test_a_sidecar_frees_its_port_when_closed(store: MemoryStore) -> None:
    async with open_sidecar(store, port=0) as first:
        port = first.port
    async with open_sidecar(store, port=port) as second:
        assert second.port == port


async def test_the_sidecar_listens_on_loopback_only(sidecar: Sidecar) -> None:
    assert sidecar._runner is not None
    assert [address[0] for address in sidecar._runner.addresses] == ["127.0.0.1"]


# From real functions


async def test_function_logs_reach_the_instance_log_including_late_ones(
    caller: FunctionCaller, logger: RunningFunction, store: MemoryStore
) -> None:
    call = function_call(logger.url, {"late_delay": 0.2})
    assert await caller.call(call) == {"statuses": [200, 200, 200, 200]}
    early = ["via GET", "via POST plain/text", '{"msg": "via POST json"}', "via POST bare"]
    assert messages(store) == early

    late = await wait_for_log(store, "late line")  # arrives after the answer
    assert (late.action_id, late.state) == (call.action_id, STATE)
    assert messages(store) == [*early, "late line"]
    assert await logger.wait_for_output("LATE 200")


async def test_function_logs_after_the_grace_get_404(
    store: MemoryStore, sidecar: Sidecar, logger: RunningFunction
) -> None:
    caller = FunctionCaller(store, sidecar=sidecar, log_grace=0.05)
    try:
        await caller.call(function_call(logger.url, {"late_delay": 0.5}))
    finally:
        await caller.aclose()
    assert await logger.wait_for_output("LATE 404")
    assert "late line" not in messages(store)


async def test_function_run_without_action_id_sends_aid_none_and_gets_404(
    sidecar: Sidecar, logger: RunningFunction, http: aiohttp.ClientSession, store: MemoryStore
) -> None:
    async with http.post(logger.url, json={"late": False}) as response:
        assert await response.json(content_type=None) == {"statuses": [404, 404, 404, 404]}
    assert messages(store) == []


async def test_function_reads_writes_and_deletes_variables_of_all_scopes(
    caller: FunctionCaller, vars_function: RunningFunction, store: MemoryStore
) -> None:
    for scope in ("instance", "workflow", "namespace"):
        await store.set_variable(
            VariableRef.of(scope, "existing", OWNER), Variable(f"{scope} value".encode(), "text/x")
        )
    ops = [
        {"op": "get", "scope": "instance", "key": "existing"},
        {"op": "get", "scope": "workflow", "key": "existing"},
        {"op": "get", "scope": "namespace", "key": "existing"},
        {"op": "get", "key": "existing"},  # no scope: instance
        {"op": "get", "scope": "namespace", "key": "absent"},
        {"op": "set", "scope": "workflow", "key": "made", "value": "new", "content_type": "a/b"},
        {"op": "set", "key": "plain", "value": "no type"},
        {"op": "delete", "scope": "namespace", "key": "existing"},
        {"op": "get", "scope": "bogus", "key": "k"},
        {"op": "get", "key": "bad key"},
        {"op": "raw", "method": "PUT", "key": "k"},
        {"op": "get", "key": "existing", "aid": "None"},
    ]
    results = (await caller.call(function_call(vars_function.url, {"ops": ops})))["results"]

    assert [(r["status"], r["body"]) for r in results] == [
        (200, "instance value"),
        (200, "workflow value"),
        (200, "namespace value"),
        (200, "instance value"),
        (200, ""),
        (200, ""),
        (200, ""),
        (200, ""),
        (400, "scope must be instance, workflow or namespace"),
        (400, "not a valid variable key: 'bad key'"),
        (405, "only GET and POST"),
        (404, "action 'None' is not running"),
    ]
    assert results[0]["content_type"] == "text/x"
    variables = store.variables()
    assert variables[VariableRef.of("workflow", "made", OWNER)] == Variable(b"new", "a/b")
    assert variables[VariableRef.of("instance", "plain", OWNER)].data == b"no type"
    assert VariableRef.of("namespace", "existing", OWNER) not in variables


async def test_var_requests_for_a_finished_call_are_404(
    caller: FunctionCaller,
    sidecar: Sidecar,
    vars_function: RunningFunction,
    http: aiohttp.ClientSession,
) -> None:
    call = function_call(vars_function.url, {})
    await caller.call(call)
    url = f"{base(sidecar)}/var"
    async with http.get(url, params={"aid": call.action_id, "key": "k"}) as response:
        assert response.status == 404


async def test_registering_again_revives_an_action_in_its_grace(
    sidecar: Sidecar, http: aiohttp.ClientSession
) -> None:
    sidecar.register(AID, OWNER, STATE)
    sidecar.unregister(AID, grace=0.1)
    sidecar.register(AID, OWNER, STATE)
    sidecar.unregister("never-registered", grace=1)  # nothing to do
    await asyncio.sleep(0.2)  # the old grace ran out; the new registration stays
    async with http.get(f"{base(sidecar)}/var", params={"aid": AID, "key": "k"}) as response:
        assert response.status == 200


async def test_an_address_that_cannot_be_bound_is_an_os_error(store: MemoryStore) -> None:
    with pytest.raises(OSError, match="assign"):
        async with open_sidecar(store, host="192.0.2.1", port=0):  # TEST-NET-1: not ours
            pass  # pragma: no cover

"""`DELETE /` with an action id cancels that call: `ctx.cancelled` for sync and async handlers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from dirigent.errors import Code, WorkflowError
from dirigent.functions import FunctionCaller, Sidecar
from dirigent.store.memory import MemoryStore
from tests.functions.support import OWNER, function_call
from tests.sdk.support import Running, start


async def _post(http: aiohttp.ClientSession, url: str, action_id: str) -> Any:
    headers = {"Direktiv-ActionID": action_id}
    async with http.post(url, json={"do": "wait", "within": 30}, headers=headers) as response:
        return await response.json()


async def _delete(http: aiohttp.ClientSession, url: str, action_id: str) -> int:
    async with http.delete(url, headers={"Direktiv-ActionID": action_id}) as response:
        return response.status


@pytest.fixture(params=["kitchen", "akitchen"])
async def function(request: pytest.FixtureRequest, sidecar: Sidecar) -> AsyncIterator[Running]:
    """The sync and the async test function."""
    async with start(request.param, sidecar.port) as running:
        yield running


async def test_delete_cancels_only_that_action(
    function: Running, http: aiohttp.ClientSession
) -> None:
    first = asyncio.create_task(_post(http, function.url, "first"))
    second = asyncio.create_task(_post(http, function.url, "second"))
    await function.printed.wait_for("WAITING first")
    await function.printed.wait_for("WAITING second")
    assert await _delete(http, function.url, "first") == 200
    assert await first == {"cancelled": True}
    assert not second.done()
    assert await _delete(http, function.url, "second") == 200
    assert await second == {"cancelled": True}


async def test_a_delete_that_overtakes_its_post_still_cancels(
    kitchen: Running, http: aiohttp.ClientSession
) -> None:
    assert await _delete(http, kitchen.url, "early") == 200
    assert await _post(http, kitchen.url, "early") == {"cancelled": True}


async def test_a_delete_for_no_call_is_harmless(
    kitchen: Running, http: aiohttp.ClientSession
) -> None:
    assert await _delete(http, kitchen.url, "nobody") == 200
    async with http.post(kitchen.url, json={"do": "echo"}, headers={"Direktiv-ActionID": "x"}) as r:
        assert await r.json() == {"do": "echo"}


async def test_the_engines_cancel_reaches_the_handler(
    function: Running, caller: FunctionCaller, store: MemoryStore
) -> None:
    call = function_call(function.url, {"do": "wait", "within": 30})
    calling = asyncio.create_task(caller.call(call))
    await function.printed.wait_for(f"WAITING {call.action_id}")
    await caller.cancel(call.action_id, WorkflowError(Code.CANCELS_API, "cancelled by a test"))
    with pytest.raises(WorkflowError) as raised:
        await calling
    assert raised.value.code == Code.CANCELS_API
    # The handler saw the cancel and logged it before answering (within the grace).
    messages = [entry.message for entry in store.logs(OWNER.instance_id)]
    assert messages == ["cancelled: True"]

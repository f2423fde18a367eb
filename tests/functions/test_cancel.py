"""Cancel and deadline (contract §6) against a real function that sleeps."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from dirigent.errors import Code, WorkflowError
from dirigent.functions import FunctionCaller
from dirigent.spec.functions import FunctionFile
from dirigent.store.memory import MemoryStore
from tests.fixtures.functions.runner import RunningFunction
from tests.functions.conftest import CANCEL_GRACE
from tests.functions.support import exists, function_call, leftovers

API_CANCEL = WorkflowError(Code.CANCELS_API, "cancelled through the API", catchable=False)


async def start_slow_call(
    caller: FunctionCaller, slow: RunningFunction, **value: object
) -> tuple[str, asyncio.Task[object]]:
    call = function_call(slow.url, value)
    task = asyncio.create_task(caller.call(call))
    await slow.wait_for_output(f"STARTED {call.action_id}")
    return call.action_id, task


async def test_cancel_sends_delete_and_raises_the_given_error_after_the_grace(
    caller: FunctionCaller, slow: RunningFunction
) -> None:
    loop = asyncio.get_running_loop()
    action_id, task = await start_slow_call(caller, slow, seconds=30)
    started = loop.time()

    await caller.cancel(action_id, API_CANCEL)
    await slow.wait_for_output(f"CANCELLED {action_id}")
    with pytest.raises(WorkflowError) as raised:
        await task

    assert raised.value is API_CANCEL
    elapsed = loop.time() - started
    # The function ignored the cancel: the call waited the whole grace, then gave up.
    assert CANCEL_GRACE * 0.9 <= elapsed < CANCEL_GRACE + 2


async def test_a_function_that_obeys_the_cancel_ends_the_call_before_the_grace(
    store: MemoryStore, slow: RunningFunction, temp_root: Path
) -> None:
    caller = FunctionCaller(store, temp_root=temp_root, cancel_grace=20.0)
    loop = asyncio.get_running_loop()
    try:
        action_id, task = await start_slow_call(caller, slow, seconds=30, obey_cancel=True)
        started = loop.time()
        await caller.cancel(action_id, API_CANCEL)
        with pytest.raises(WorkflowError) as raised:
            await task
    finally:
        await caller.aclose()
    assert raised.value is API_CANCEL
    assert loop.time() - started < 10  # far from the 20 s grace
    assert f"CANCELLED {action_id}" in slow.output()


async def test_cancel_without_error_raises_cancels_timeout(
    caller: FunctionCaller, slow: RunningFunction
) -> None:
    action_id, task = await start_slow_call(caller, slow, seconds=30, obey_cancel=True)
    await caller.cancel(action_id)
    with pytest.raises(WorkflowError) as raised:
        await task
    assert (raised.value.code, raised.value.catchable) == (Code.CANCELS_TIMEOUT, True)


async def test_a_later_cancel_error_replaces_an_earlier_one(
    caller: FunctionCaller, slow: RunningFunction
) -> None:
    action_id, task = await start_slow_call(caller, slow, seconds=30)
    await caller.cancel(action_id)
    await caller.cancel(action_id, API_CANCEL)
    with pytest.raises(WorkflowError) as raised:
        await task
    assert raised.value is API_CANCEL
    cancels = [line for line in slow.output() if line == f"CANCELLED {action_id}"]
    assert len(cancels) == 1  # one DELETE per call


async def test_cancel_of_an_unknown_or_finished_call_does_nothing(
    caller: FunctionCaller, slow: RunningFunction
) -> None:
    call = function_call(slow.url, {"seconds": 0})
    assert await caller.call(call) == {"slept": 0, "cancelled": False}
    await caller.cancel(call.action_id, API_CANCEL)
    await caller.cancel("no-such-action", API_CANCEL)
    assert not any(line.startswith("CANCELLED") for line in slow.output())


async def test_the_deadline_cancels_the_call(caller: FunctionCaller, slow: RunningFunction) -> None:
    loop = asyncio.get_running_loop()
    call = function_call(slow.url, {"seconds": 30}, deadline_in=0.3)
    started = loop.time()
    with pytest.raises(WorkflowError) as raised:
        await caller.call(call)
    elapsed = loop.time() - started

    error = raised.value
    assert (error.code, error.catchable) == (Code.CANCELS_TIMEOUT, True)
    assert "deadline" in error.message
    assert f"CANCELLED {call.action_id}" in slow.output()
    assert 0.25 <= elapsed < 0.3 + CANCEL_GRACE + 2


async def test_an_answer_before_the_deadline_is_kept(
    caller: FunctionCaller, slow: RunningFunction
) -> None:
    call = function_call(slow.url, {"seconds": 0.1}, deadline_in=5)
    assert await caller.call(call) == {"slept": 0.1, "cancelled": False}


async def test_the_engine_may_cancel_during_the_deadline_grace(
    caller: FunctionCaller, slow: RunningFunction
) -> None:
    call = function_call(slow.url, {"seconds": 30}, deadline_in=0.2)
    task = asyncio.create_task(caller.call(call))
    await slow.wait_for_output(f"CANCELLED {call.action_id}")  # the deadline passed
    await caller.cancel(call.action_id, API_CANCEL)
    with pytest.raises(WorkflowError) as raised:
        await task
    assert raised.value is API_CANCEL


async def test_temp_dir_is_removed_after_a_cancel(
    caller: FunctionCaller, slow: RunningFunction, temp_root: Path
) -> None:
    action_id, task = await start_slow_call(caller, slow, seconds=30, obey_cancel=True)
    [name] = os.listdir(temp_root)  # the call's dir
    await caller.cancel(action_id, API_CANCEL)
    with pytest.raises(WorkflowError):
        await task
    await caller.wait_removed()
    assert not exists(temp_root / name)
    assert leftovers(temp_root) == []


async def test_cancelling_the_calling_task_abandons_the_call_cleanly(
    caller: FunctionCaller, slow: RunningFunction, temp_root: Path
) -> None:
    action_id, task = await start_slow_call(caller, slow, seconds=30)
    [name] = os.listdir(temp_root)  # the call's dir
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await caller.wait_removed()
    assert not exists(temp_root / name)
    assert leftovers(temp_root) == []
    await caller.cancel(action_id, API_CANCEL)  # already gone: nothing to do


async def test_many_concurrent_calls_are_cancelled_independently(
    caller: FunctionCaller, slow: RunningFunction
) -> None:
    calls = [function_call(slow.url, {"seconds": 30, "obey_cancel": True}) for _ in range(5)]
    tasks = [asyncio.create_task(caller.call(call)) for call in calls]
    for call in calls:
        await slow.wait_for_output(f"STARTED {call.action_id}")
    errors = [WorkflowError(Code.CANCELS_API, f"cancel {i}") for i in range(5)]
    for call, error in zip(calls, errors, strict=True):
        await caller.cancel(call.action_id, error)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert results == errors


async def test_a_cancel_during_preparation_stops_the_call_before_the_post(
    caller: FunctionCaller, slow: RunningFunction, temp_root: Path
) -> None:
    files = (FunctionFile(key="data"),)  # written in a worker thread: the call waits there
    call = function_call(slow.url, {"seconds": 30}, files=files)
    task = asyncio.create_task(caller.call(call))
    await asyncio.sleep(0)  # the call is now preparing its temp dir
    await caller.cancel(call.action_id, API_CANCEL)
    with pytest.raises(WorkflowError) as raised:
        await task
    assert raised.value is API_CANCEL
    assert slow.output() == []  # neither a POST nor a DELETE reached the function
    await caller.wait_removed()
    assert leftovers(temp_root) == []  # the dir with the file `data` is gone


async def test_one_action_id_cannot_be_called_twice_at_once(
    caller: FunctionCaller, slow: RunningFunction
) -> None:
    call = function_call(slow.url, {"seconds": 30, "obey_cancel": True})
    action_id, task = call.action_id, asyncio.create_task(caller.call(call))
    await slow.wait_for_output(f"STARTED {action_id}")
    with pytest.raises(ValueError, match="already being called"):
        await caller.call(call)
    await caller.cancel(action_id, API_CANCEL)
    with pytest.raises(WorkflowError):
        await task

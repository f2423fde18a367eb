"""Workflows from the store: each revision parsed once, known revisions served without a read."""

from __future__ import annotations

from datetime import UTC, datetime

from dirigent.operations.workflows_source import StoreWorkflows
from dirigent.store.memory import MemoryStore
from dirigent.store.records import WorkflowRecord

T0 = datetime(2026, 1, 1, tzinfo=UTC)
ONE = "id: flow\nstates:\n  - id: one\n    type: noop\n"
TWO = "id: flow\nstates:\n  - id: two\n    type: noop\n"


async def _store() -> MemoryStore:
    store = MemoryStore()
    await store.create_namespace("ns", T0)
    await store.create_workflow(WorkflowRecord("ns", "flow", 0, ONE.encode(), True, "", T0, T0))
    return store


async def test_the_latest_revision_is_read_each_time() -> None:
    store = await _store()
    workflows = StoreWorkflows(store)
    first = await workflows.get_workflow("ns", "flow")
    assert first is not None
    assert first.revision == 0
    await store.update_workflow("ns", "flow", source=TWO.encode(), description="", now=T0)
    await store.set_workflow_flags("ns", "flow", active=False, log_to_events="logger")
    latest = await workflows.get_workflow("ns", "flow")
    assert latest is not None
    assert (latest.revision, latest.active, latest.log_to_events) == (1, False, "logger")
    assert latest.definition.start_state == "two"


async def test_a_known_revision_is_served_from_memory() -> None:
    store = await _store()
    workflows = StoreWorkflows(store)
    loaded = await workflows.get_workflow("ns", "flow", 0)
    assert loaded is not None
    # Deleted behind its back (on another server, say): the revision it knows stays as it was.
    await store.delete_workflow("ns", "flow")
    assert await workflows.get_workflow("ns", "flow", 0) is loaded
    assert await workflows.get_workflow("ns", "flow") is None
    workflows.forget("ns", "flow")
    assert await workflows.get_workflow("ns", "flow", 0) is None

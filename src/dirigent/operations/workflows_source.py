"""Workflows from the store, parsed once per revision."""

from __future__ import annotations

from dataclasses import replace

from dirigent.operations.ports import WorkflowRevision
from dirigent.spec import DefinitionError, load_workflow
from dirigent.store.base import Store


class StoreWorkflows:
    """The runtime's WorkflowSource on a store: revisions are immutable, so each is parsed once.

    A revision asked for by number that was loaded before is served from memory without reading the
    store (an instance's revision, at each claim); its `active` and `log_to_events` are then as last
    read, which only the latest revision's reads (starts, `logEvent`) rely on, and those always read.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._parsed: dict[tuple[str, str, int], WorkflowRevision] = {}

    async def get_workflow(
        self, namespace: str, workflow: str, revision: int | None = None
    ) -> WorkflowRevision | None:
        if revision is not None:
            known = self._parsed.get((namespace, workflow, revision))
            if known is not None:
                return known
        record = await self._store.get_workflow(namespace, workflow, revision)
        if record is None:
            return None
        key = (namespace, workflow, record.revision)
        found = self._parsed.get(key)
        if found is None:
            try:
                definition = load_workflow(record.source, f"{namespace}/{workflow}")
            except DefinitionError:
                return None  # only valid revisions are stored; a broken one cannot run
            found = WorkflowRevision(
                definition, record.revision, record.active, record.log_to_events
            )
            self._parsed[key] = found
        if (found.active, found.log_to_events) != (record.active, record.log_to_events):
            found = replace(found, active=record.active, log_to_events=record.log_to_events)
            self._parsed[key] = found
        return found

    def forget(self, namespace: str, workflow: str) -> None:
        """Drop parsed revisions of a deleted workflow."""
        for key in [k for k in self._parsed if k[:2] == (namespace, workflow)]:
            del self._parsed[key]

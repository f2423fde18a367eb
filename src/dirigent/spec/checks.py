"""Checks across the parts of a definition: ids are unique, names refer to things that exist, every
state can be reached.

These run on the document's plain data, not on the validated model, so that they also run when
pydantic found errors elsewhere: a definition with a bad duration and a transition to a missing
state reports both at once. They therefore read the data defensively: a part of the wrong shape is
skipped here (pydantic reports it).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any

from dirigent.spec.problems import Path, Problem
from dirigent.spec.source import Document

#: State types whose actions name functions: the key of their action(s) and whether it is a list.
_ACTION_KEYS = {
    "action": ("action", False),
    "foreach": ("action", False),
    "parallel": ("actions", True),
}


def check_references(document: Document) -> list[Problem]:
    """Duplicate ids, transitions / functions / schemas that do not exist (errors) and states that
    cannot be reached from the start state (warnings)."""
    data = document.data if isinstance(document.data, dict) else {}
    problems: list[Problem] = []
    states = _entries(data, "states")
    state_ids = _unique_ids(document, "states", states, "state", problems, required=True)
    function_ids = _unique_ids(
        document, "functions", _entries(data, "functions"), "function", problems
    )
    schema_ids = _unique_ids(document, "schemas", _entries(data, "schemas"), "schema", problems)

    def refer(path: Path, name: Any, known: dict[str, int] | None, what: str) -> None:
        if known is None or not isinstance(name, str) or name in known:
            return
        message = f"no {what} '{name}'"
        close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
        if close:
            message += f"; did you mean '{close[0]}'?"
        problems.append(document.problem(path, message))

    edges: dict[str, list[str]] = {}
    for index, state in states:
        path: Path = ("states", index)
        targets = edges.setdefault(str(state.get("id")), [])
        for target_path, target in _transitions(state):
            refer((*path, *target_path), target, state_ids, "state")
            if isinstance(target, str):
                targets.append(target)
        for action_path, action in _actions(state):
            refer(
                (*path, *action_path, "function"), action.get("function"), function_ids, "function"
            )
        if state.get("type") == "validate" and isinstance(state.get("schema"), str):
            refer((*path, "schema"), state["schema"], schema_ids, "schema")

    start = data.get("start")
    start_state = start.get("state") if isinstance(start, dict) else None
    refer(("start", "state"), start_state, state_ids, "state")
    if start_state is None and states and isinstance(states[0][1].get("id"), str):
        start_state = states[0][1]["id"]
    if state_ids is not None and isinstance(start_state, str) and start_state in state_ids:
        problems.extend(_unreachable(document, states, edges, start_state))
    return problems


def _entries(data: dict[str, Any], key: str) -> list[tuple[int, dict[str, Any]]]:
    """The maps of the list `data[key]` with their indexes (other entries are pydantic's to report)."""
    value = data.get(key)
    if not isinstance(value, list):
        return []
    return [(i, entry) for i, entry in enumerate(value) if isinstance(entry, dict)]


def _unique_ids(
    document: Document,
    key: str,
    entries: list[tuple[int, dict[str, Any]]],
    what: str,
    problems: list[Problem],
    *,
    required: bool = False,
) -> dict[str, int] | None:
    """The ids of the entries of `key`, reporting duplicates; `None` when `key` is not a list, or
    is missing although `required` (then nothing can be said about names of its entries)."""
    data = document.data
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, list) and (required or value is not None):
        return None
    ids: dict[str, int] = {}
    for index, entry in entries:
        name = entry.get("id")
        if not isinstance(name, str):
            continue
        if name in ids:
            first = ids[name]
            position = document.position((key, first, "id"))
            where = f" (line {position[0] + 1})" if position is not None else ""
            problems.append(
                document.problem(
                    (key, index, "id"),
                    f"duplicate {what} id '{name}': {key}[{first}] has it too{where}",
                )
            )
        else:
            ids[name] = index
    return ids


def _transitions(state: dict[str, Any]) -> Iterator[tuple[Path, Any]]:
    """Every place in `state` that names a next state, with its path inside the state."""
    if "transition" in state:
        yield ("transition",), state["transition"]
    for j, catcher in _items(state.get("catch")):
        if "transition" in catcher:
            yield ("catch", j, "transition"), catcher["transition"]
    kind = state.get("type")
    if kind == "switch":
        for j, condition in _items(state.get("conditions")):
            if "transition" in condition:
                yield ("conditions", j, "transition"), condition["transition"]
        if "defaultTransition" in state:
            yield ("defaultTransition",), state["defaultTransition"]
    elif kind == "eventXor":
        for j, branch in _items(state.get("events")):
            if "transition" in branch:
                yield ("events", j, "transition"), branch["transition"]


def _actions(state: dict[str, Any]) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every action of `state` (a map) with its path inside the state."""
    kind = state.get("type")
    if not isinstance(kind, str) or kind not in _ACTION_KEYS:
        return
    key, many = _ACTION_KEYS[kind]
    if many:
        for j, action in _items(state.get(key)):
            yield (key, j), action
    elif isinstance(state.get(key), dict):
        yield (key,), state[key]


def _items(value: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict):
                yield index, item


def _unreachable(
    document: Document,
    states: list[tuple[int, dict[str, Any]]],
    edges: dict[str, list[str]],
    start: str,
) -> Iterator[Problem]:
    reached = {start}
    pending = [start]
    while pending:
        for target in edges.get(pending.pop(), []):
            if target not in reached:
                reached.add(target)
                pending.append(target)
    for index, state in states:
        name = state.get("id")
        if isinstance(name, str) and name not in reached:
            yield document.problem(
                ("states", index), f"state '{name}' is unreachable from the start state", "warning"
            )

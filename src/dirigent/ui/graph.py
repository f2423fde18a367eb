"""A workflow as a graph: one node per state, one edge per way from a state to another.

Edges carry their kind and a label: a plain `transition`; a switch's `condition` (labelled with the
condition) and `default`; an eventXor's `event` (labelled with the event type); a `catch` (labelled
with the error glob). Edges of the same kind between the same two states are merged, their labels
joined. A node is `start` when the instance begins there and `end` when the instance can complete
right after it (no transition on some way out: plain, condition, default, event or catch).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import orjson

from dirigent.jq import Template
from dirigent.spec import State, WorkflowDefinition
from dirigent.spec.states import EventXorState, SwitchState

EdgeKind = Literal["transition", "condition", "default", "event", "catch"]


@dataclass(frozen=True, slots=True)
class Node:
    """A state: its id, its type, and whether the instance starts there or can end after it."""

    id: str
    type: str
    start: bool
    end: bool


@dataclass(frozen=True, slots=True)
class Edge:
    """A way from `source` to `target` (state ids); `label` is "" for a plain transition."""

    source: str
    target: str
    kind: EdgeKind
    label: str


@dataclass(frozen=True, slots=True)
class Graph:
    """Nodes in definition order; edges in the order they appear in the definition."""

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]


def workflow_graph(definition: WorkflowDefinition) -> Graph:
    """The graph of a loaded workflow."""
    nodes: list[Node] = []
    merged: dict[tuple[str, str, EdgeKind], list[str]] = {}
    for state in definition.workflow.states:
        ways = list(_ways_out(state))
        for target, kind, label in ways:
            if target is not None:
                labels = merged.setdefault((state.id, target, kind), [])
                if label and label not in labels:
                    labels.append(label)
        ends = any(target is None and kind != "catch" for target, kind, _ in ways) or any(
            c.transition is None for c in state.catch
        )
        nodes.append(Node(state.id, state.type, state.id == definition.start_state, ends))
    edges = tuple(
        Edge(source, target, kind, ", ".join(labels))
        for (source, target, kind), labels in merged.items()
    )
    return Graph(tuple(nodes), edges)


def _ways_out(state: State) -> list[tuple[str | None, EdgeKind, str]]:
    """(target or None for "the instance ends", kind, label) of every way out of `state`."""
    ways: list[tuple[str | None, EdgeKind, str]] = []
    if isinstance(state, SwitchState):
        for condition in state.conditions:
            ways.append((condition.transition, "condition", template_text(condition.condition)))
        ways.append((state.defaultTransition, "default", "default"))
    elif isinstance(state, EventXorState):
        for branch in state.events:
            ways.append((branch.transition, "event", branch.event.type))
    else:
        ways.append((state.transition, "transition", ""))
    for catcher in state.catch:
        if catcher.transition is not None:
            ways.append((catcher.transition, "catch", catcher.error))
    return ways


def template_text(template: Template) -> str:
    """A template as written: a string as is, any other value as compact JSON."""
    source = template.source
    return source if isinstance(source, str) else orjson.dumps(source).decode()

"""The workflow graph and its layered drawing: what becomes a node and an edge, and the drawing's
invariants (rows, no overlaps, edges down except loops back, readable for 50+ states)."""

from __future__ import annotations

import itertools

import pytest

from dirigent.spec import load_workflow
from dirigent.ui.graph import Graph, workflow_graph
from dirigent.ui.layout import MARGIN, NODE_GAP, Drawing, draw
from tests.ui.workflows import BRANCHING, big_workflow


def edges_of(yaml: str) -> set[tuple[str, str, str, str]]:
    graph = workflow_graph(load_workflow(yaml))
    return {(e.source, e.target, e.kind, e.label) for e in graph.edges}


def test_nodes_carry_type_start_and_end() -> None:
    graph = workflow_graph(load_workflow(BRANCHING))
    nodes = {n.id: n for n in graph.nodes}
    assert [n.id for n in graph.nodes] == ["prepare", "call", "decide", "big", "small", "failed"]
    assert nodes["prepare"].start
    assert not nodes["call"].start
    assert nodes["call"].type == "action"
    assert not nodes["call"].end  # it goes on to `decide`, and its catch goes somewhere
    assert nodes["decide"].type == "switch"
    assert not nodes["decide"].end
    assert nodes["big"].end
    assert nodes["small"].end
    assert nodes["failed"].end


def test_edges_are_labelled_by_kind() -> None:
    assert edges_of(BRANCHING) == {
        ("prepare", "call", "transition", ""),
        ("call", "decide", "transition", ""),
        ("call", "failed", "catch", "*"),
        ("decide", "big", "condition", "jq(.count > 2)"),
        ("decide", "small", "condition", "jq(.count > 0)"),
        ("decide", "failed", "default", "default"),
    }


def test_start_state_and_ways_to_end() -> None:
    yaml = """
id: w
start: {type: default, state: b}
states:
  - id: a
    type: noop
  - id: b
    type: switch
    conditions:
      - condition: 'jq(.x)'
        transition: a
      - condition: 'jq(.y)'
  - id: c
    type: noop
    transition: a
    catch:
      - error: 'x.*'
"""
    graph = workflow_graph(load_workflow(yaml))
    nodes = {n.id: n for n in graph.nodes}
    assert nodes["b"].start
    assert not nodes["a"].start
    # A condition without a transition, no default, a catch without one: the instance can end.
    assert nodes["b"].end
    assert nodes["c"].end
    assert nodes["a"].end


def test_same_kind_edges_to_one_target_merge_their_labels() -> None:
    yaml = """
id: w
states:
  - id: a
    type: switch
    conditions:
      - condition: 'jq(.x)'
        transition: b
      - condition: 'jq(.y)'
        transition: b
    defaultTransition: b
  - id: b
    type: noop
"""
    assert edges_of(yaml) == {
        ("a", "b", "condition", "jq(.x), jq(.y)"),
        ("a", "b", "default", "default"),
    }


def test_event_xor_branches_are_labelled_with_the_event_type() -> None:
    yaml = """
id: w
states:
  - id: wait
    type: eventXor
    events:
      - event: {type: order.paid}
        transition: ship
      - event: {type: order.cancelled}
  - id: ship
    type: noop
"""
    graph = workflow_graph(load_workflow(yaml))
    assert [(e.source, e.target, e.kind, e.label) for e in graph.edges] == [
        ("wait", "ship", "event", "order.paid")
    ]
    assert graph.nodes[0].end


def boxes_overlap(drawing: Drawing) -> list[tuple[str, str]]:
    overlapping = []
    for row in {n.row for n in drawing.nodes}:
        boxes = sorted((n for n in drawing.nodes if n.row == row), key=lambda n: n.x)
        for left, right in itertools.pairwise(boxes):
            if left.x + left.width + NODE_GAP > right.x + 0.01:
                overlapping.append((left.node.id, right.node.id))
    return overlapping


def test_a_drawing_puts_states_in_rows_from_the_start_down() -> None:
    drawing = draw(workflow_graph(load_workflow(BRANCHING)))
    place = {n.node.id: n for n in drawing.nodes}
    assert place["prepare"].row == 0
    assert place["call"].row == 1
    assert place["decide"].row == 2
    assert place["big"].row == place["small"].row == 3
    assert place["failed"].row == 3  # the longest way there: prepare → call → decide → failed
    assert not boxes_overlap(drawing)
    for node in drawing.nodes:
        assert node.x >= MARGIN - 0.01
        assert node.y >= MARGIN - 0.01
        assert node.x + node.width <= drawing.width
        assert node.y + node.height <= drawing.height


def test_edges_run_from_the_source_to_the_target() -> None:
    drawing = draw(workflow_graph(load_workflow(BRANCHING)))
    place = {n.node.id: n for n in drawing.nodes}
    for routed in drawing.edges:
        source, target = place[routed.edge.source], place[routed.edge.target]
        (x0, y0), (x1, y1) = routed.points[0], routed.points[-1]
        assert not routed.back
        assert y0 == source.y + source.height
        assert y1 == target.y
        assert source.x <= x0 <= source.x + source.width
        assert target.x <= x1 <= target.x + target.width


def test_a_loop_is_drawn_with_one_edge_going_back_up() -> None:
    yaml = """
id: w
states:
  - id: a
    type: noop
    transition: b
  - id: b
    type: noop
    transition: c
  - id: c
    type: switch
    conditions:
      - condition: 'jq(.again)'
        transition: a
  - id: d
    type: noop
    transition: d
"""
    drawing = draw(workflow_graph(load_workflow(yaml)))
    routed = {(r.edge.source, r.edge.target): r for r in drawing.edges}
    assert [k for k, r in routed.items() if r.back] == [("c", "a")]
    back = routed[("c", "a")]
    assert back.points[0][1] > back.points[-1][1]  # from c, up to a
    assert len(back.points) > 2  # through the row of b, beside it
    loop = routed[("d", "d")]  # a state that goes to itself: a loop on its right side
    place = {n.node.id: n for n in drawing.nodes}
    assert all(x >= place["d"].x + place["d"].width for x, _ in loop.points)


@pytest.mark.parametrize("yaml", [BRANCHING, big_workflow(50)], ids=["branching", "fifty"])
def test_long_edges_pass_beside_the_states_of_the_rows_between(yaml: str) -> None:
    drawing = draw(workflow_graph(load_workflow(yaml)))
    place = {n.node.id: n for n in drawing.nodes}
    for routed in drawing.edges:
        for x, y in routed.points[1:-1]:
            for node in drawing.nodes:
                inside_x = node.x < x < node.x + node.width
                inside_y = node.y < y < node.y + node.height
                assert not (inside_x and inside_y), (routed.edge, node.node.id)
        assert routed.edge.source in place


def test_fifty_states_stay_readable() -> None:
    definition = load_workflow(big_workflow(50))
    drawing = draw(workflow_graph(definition))
    assert len(drawing.nodes) == len(definition.states) > 50
    assert not boxes_overlap(drawing)
    # A mostly linear workflow stays narrow: at most a few states side by side.
    widest = max(
        sum(1 for n in drawing.nodes if n.row == r) for r in {n.row for n in drawing.nodes}
    )
    assert widest <= 4
    assert drawing.width < 1200


def test_an_empty_graph_draws_nothing() -> None:
    drawing = draw(Graph((), ()))
    assert drawing.nodes == ()
    assert drawing.edges == ()

"""A layered drawing of a workflow graph: states in rows from the start down, edges flowing down.

The classic steps of a layered (Sugiyama) drawing, kept simple:

1. Loops are broken by a depth-first walk from the start state: an edge back to a state on the
   walk's path is drawn upward (`back`), every other edge downward.
2. Each state's row is the longest path to it from a state without predecessors, so every
   downward edge goes at least one row down.
3. An edge that spans several rows passes through a point in each row between (a "dummy"), so
   edges run between the states of a row rather than through them.
4. Within each row, states are ordered by the mean position of their neighbours (barycenters),
   sweeping down and up; the order with the fewest crossings wins.
5. Each state is moved towards the mean x of its neighbours, keeping a gap between neighbours in
   its row.

Sizes are in CSS pixels for the UI's font; a state's width follows its id's length within bounds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

from dirigent.ui.graph import Edge, Graph, Node

Point = tuple[float, float]

NODE_HEIGHT = 44.0
MIN_WIDTH = 110.0
MAX_WIDTH = 240.0
#: Width of one character of a state id in the UI's font (13 px monospace), and the padding.
CHAR_WIDTH = 7.9
PADDING = 30.0
#: Vertical space between rows, where edge labels sit.
ROW_GAP = 52.0
#: Horizontal gap between two states of a row; smaller next to an edge's point.
NODE_GAP = 36.0
DUMMY_GAP = 14.0
DUMMY_WIDTH = 8.0
MARGIN = 24.0
#: Room on the right of a state for an edge back to itself.
SELF_LOOP = 28.0
ORDER_SWEEPS = 12
PLACE_SWEEPS = 8


@dataclass(frozen=True, slots=True)
class PlacedNode:
    """A state and its box: top-left corner, size, and its row (0 at the top)."""

    node: Node
    x: float
    y: float
    width: float
    height: float
    row: int


@dataclass(frozen=True, slots=True)
class RoutedEdge:
    """An edge and the points its line passes through, from source to target; `back` when it
    goes up (it closes a loop)."""

    edge: Edge
    points: tuple[Point, ...]
    back: bool


@dataclass(frozen=True, slots=True)
class Drawing:
    """Every state placed and every edge routed, within `width` × `height`."""

    nodes: tuple[PlacedNode, ...]
    edges: tuple[RoutedEdge, ...]
    width: float
    height: float


def draw(graph: Graph) -> Drawing:
    """Lay out `graph` in rows; the start state is in the top row."""
    if not graph.nodes:
        return Drawing((), (), 2 * MARGIN, 2 * MARGIN)
    return _Layout(graph).run()


def node_width(node_id: str) -> float:
    return max(MIN_WIDTH, min(MAX_WIDTH, len(node_id) * CHAR_WIDTH + PADDING))


@dataclass
class _Chain:
    """An edge as a path through the layered graph: vertices from its upper end to its lower."""

    edge: Edge
    vertices: list[int]
    back: bool


@dataclass
class _Layout:
    graph: Graph
    count: int = 0  # vertices: the states (0 … n-1), then the dummies
    width: list[float] = field(default_factory=list)
    row: list[int] = field(default_factory=list)
    rows: list[list[int]] = field(default_factory=list)
    up: list[list[int]] = field(default_factory=list)  # neighbours in the row above
    down: list[list[int]] = field(default_factory=list)  # neighbours in the row below
    x: list[float] = field(default_factory=list)  # left edge
    chains: list[_Chain] = field(default_factory=list)
    loops: list[Edge] = field(default_factory=list)

    def run(self) -> Drawing:
        nodes = self.graph.nodes
        index = {node.id: i for i, node in enumerate(nodes)}
        self.count = len(nodes)
        self.width = [node_width(node.id) for node in nodes]
        discovery, back = self._walk(index)
        downward = [
            (index[e.target], index[e.source], e, True)
            if (index[e.source], index[e.target]) in back
            else (index[e.source], index[e.target], e, False)
            for e in self.graph.edges
            if e.source != e.target
        ]
        self.loops = [e for e in self.graph.edges if e.source == e.target]
        self.row = _longest_path_rows(len(nodes), [(a, b) for a, b, _, _ in downward])
        self.rows = [[] for _ in range(max(self.row) + 1)]
        for vertex in sorted(range(len(nodes)), key=lambda v: discovery[v]):
            self.rows[self.row[vertex]].append(vertex)
        self.up = [[] for _ in nodes]
        self.down = [[] for _ in nodes]
        for upper, lower, edge, is_back in downward:
            self.chains.append(_Chain(edge, self._chain(upper, lower), is_back))
        self._order()
        self._place()
        return self._drawing()

    # 1. Which edges go back up

    def _walk(self, index: dict[str, int]) -> tuple[list[int], set[tuple[int, int]]]:
        """Depth-first from the start state (then from any state not reached yet, in definition
        order): the order states were found in, and the edges that lead back onto the path."""
        targets: list[list[int]] = [[] for _ in self.graph.nodes]
        for edge in self.graph.edges:
            targets[index[edge.source]].append(index[edge.target])
        starts = [i for i, node in enumerate(self.graph.nodes) if node.start]
        found = [-1] * len(self.graph.nodes)
        on_path = [False] * len(self.graph.nodes)
        back: set[tuple[int, int]] = set()
        counter = 0
        for root in [*starts, *range(len(self.graph.nodes))]:
            if found[root] >= 0:
                continue
            found[root] = counter
            counter += 1
            on_path[root] = True
            stack: list[tuple[int, int]] = [(root, 0)]
            while stack:
                vertex, next_target = stack[-1]
                if next_target == len(targets[vertex]):
                    stack.pop()
                    on_path[vertex] = False
                    continue
                stack[-1] = (vertex, next_target + 1)
                target = targets[vertex][next_target]
                if target == vertex:
                    continue
                if on_path[target]:
                    back.add((vertex, target))
                elif found[target] < 0:
                    found[target] = counter
                    counter += 1
                    on_path[target] = True
                    stack.append((target, 0))
        return found, back

    # 3. Edges through the rows they span

    def _chain(self, upper: int, lower: int) -> list[int]:
        vertices = [upper]
        for row in range(self.row[upper] + 1, self.row[lower]):
            dummy = self.count
            self.count += 1
            self.width.append(DUMMY_WIDTH)
            self.row.append(row)
            self.rows[row].append(dummy)
            self.up.append([])
            self.down.append([])
            vertices.append(dummy)
        vertices.append(lower)
        for a, b in pairwise(vertices):
            self.down[a].append(b)
            self.up[b].append(a)
        return vertices

    # 4. Order within rows

    def _order(self) -> None:
        best = [list(r) for r in self.rows]
        fewest = self._crossings()
        position = self._positions()
        for sweep in range(ORDER_SWEEPS):
            downward = sweep % 2 == 0
            sequence = range(1, len(self.rows)) if downward else range(len(self.rows) - 2, -1, -1)
            for r in sequence:
                self._sort_row(r, self.up if downward else self.down, position)
            crossings = self._crossings()
            if crossings < fewest:
                fewest = crossings
                best = [list(r) for r in self.rows]
        self.rows = best

    def _sort_row(self, r: int, neighbours: list[list[int]], position: list[int]) -> None:
        """Order row `r` by the mean position of each vertex's neighbours (a vertex without any
        keeps its place); `position` is updated to the new order."""

        def barycenter(vertex: int) -> float:
            around = neighbours[vertex]
            if not around:
                return float(position[vertex])
            return sum(position[n] for n in around) / len(around)

        self.rows[r] = sorted(self.rows[r], key=barycenter)  # stable: ties keep their order
        for i, vertex in enumerate(self.rows[r]):
            position[vertex] = i

    def _positions(self) -> list[int]:
        position = [0] * self.count
        for row in self.rows:
            for i, vertex in enumerate(row):
                position[vertex] = i
        return position

    def _crossings(self) -> int:
        position = self._positions()
        total = 0
        for row in self.rows[:-1]:
            segments = sorted((position[a], position[b]) for a in row for b in self.down[a])
            for i, (a1, b1) in enumerate(segments):
                for a2, b2 in segments[i + 1 :]:
                    if a2 > a1 and b2 < b1:
                        total += 1
        return total

    # 5. x within rows

    def _gap(self, a: int, b: int) -> float:
        states = len(self.graph.nodes)
        return NODE_GAP if a < states and b < states else DUMMY_GAP

    def _place(self) -> None:
        self.x = [0.0] * self.count
        for row in self.rows:
            left = 0.0
            for i, vertex in enumerate(row):
                if i:
                    left += self._gap(row[i - 1], vertex)
                self.x[vertex] = left
                left += self.width[vertex]
        for sweep in range(PLACE_SWEEPS):
            downward = sweep % 2 == 0
            sequence = range(1, len(self.rows)) if downward else range(len(self.rows) - 2, -1, -1)
            for r in sequence:
                self._place_row(self.rows[r], self.up if downward else self.down)

    def _center(self, vertex: int) -> float:
        return self.x[vertex] + self.width[vertex] / 2

    def _place_row(self, row: list[int], neighbours: list[list[int]]) -> None:
        """Move each vertex's center towards the mean of its neighbours', keeping gaps: the mean
        of the placements packed from the left and from the right, then gaps enforced."""
        wanted = []
        for vertex in row:
            around = neighbours[vertex]
            center = (
                sum(self._center(n) for n in around) / len(around)
                if around
                else self._center(vertex)
            )
            wanted.append(center - self.width[vertex] / 2)
        from_left = list(wanted)
        for i in range(1, len(row)):
            least = from_left[i - 1] + self.width[row[i - 1]] + self._gap(row[i - 1], row[i])
            from_left[i] = max(from_left[i], least)
        from_right = list(wanted)
        for i in range(len(row) - 2, -1, -1):
            most = from_right[i + 1] - self.width[row[i]] - self._gap(row[i], row[i + 1])
            from_right[i] = min(from_right[i], most)
        for i, vertex in enumerate(row):
            self.x[vertex] = (from_left[i] + from_right[i]) / 2
            if i:
                previous = row[i - 1]
                least = self.x[previous] + self.width[previous] + self._gap(previous, vertex)
                self.x[vertex] = max(self.x[vertex], least)

    # The result

    def _top(self, vertex: int) -> float:
        return MARGIN + self.row[vertex] * (NODE_HEIGHT + ROW_GAP)

    def _drawing(self) -> Drawing:
        shift = MARGIN - min(self.x)
        self.x = [x + shift for x in self.x]
        nodes = tuple(
            PlacedNode(node, self.x[i], self._top(i), self.width[i], NODE_HEIGHT, self.row[i])
            for i, node in enumerate(self.graph.nodes)
        )
        routes = [self._route(chain) for chain in self.chains]
        ports = _Ports(self)
        for chain, points in zip(self.chains, routes, strict=True):
            ports.attach(chain, points)
        ports.spread()
        edges = [
            RoutedEdge(
                chain.edge, tuple(reversed(points)) if chain.back else tuple(points), chain.back
            )
            for chain, points in zip(self.chains, routes, strict=True)
        ]
        index = {node.id: i for i, node in enumerate(self.graph.nodes)}
        edges.extend(RoutedEdge(e, self._self_loop(index[e.source]), False) for e in self.loops)
        right = max(self.x[v] + self.width[v] for v in range(self.count))
        bottom = MARGIN + len(self.rows) * (NODE_HEIGHT + ROW_GAP) - ROW_GAP
        return Drawing(
            nodes,
            _in_definition_order(edges, self.graph),
            right + MARGIN + SELF_LOOP,
            bottom + MARGIN,
        )

    def _route(self, chain: _Chain) -> list[Point]:
        """Points from the upper end's bottom to the lower end's top, straight down through the
        rows between (the ends' x are set by `_Ports`)."""
        upper, *between, lower = chain.vertices
        points: list[Point] = [(self._center(upper), self._top(upper) + NODE_HEIGHT)]
        for dummy in between:
            points.append((self._center(dummy), self._top(dummy)))
            points.append((self._center(dummy), self._top(dummy) + NODE_HEIGHT))
        points.append((self._center(lower), self._top(lower)))
        return points

    def _self_loop(self, vertex: int) -> tuple[Point, ...]:
        right = self.x[vertex] + self.width[vertex]
        top = self._top(vertex)
        reach = right + SELF_LOOP - 4
        return (
            (right, top + 14),
            (reach, top + 14),
            (reach, top + NODE_HEIGHT - 14),
            (right, top + NODE_HEIGHT - 14),
        )


class _Ports:
    """Where edges meet a state: spread along its top and bottom sides, ordered by where the edge
    comes from, so edges do not all meet in one point."""

    def __init__(self, layout: _Layout) -> None:
        self.layout = layout
        # vertex → [(x of the other end, points, index of the point to move)]
        self.tops: dict[int, list[tuple[float, list[Point], int]]] = {}
        self.bottoms: dict[int, list[tuple[float, list[Point], int]]] = {}

    def attach(self, chain: _Chain, points: list[Point]) -> None:
        upper, lower = chain.vertices[0], chain.vertices[-1]
        self.bottoms.setdefault(upper, []).append((points[1][0], points, 0))
        self.tops.setdefault(lower, []).append((points[-2][0], points, len(points) - 1))

    def spread(self) -> None:
        layout = self.layout
        for side in (self.tops, self.bottoms):
            for vertex, attached in side.items():
                attached.sort(key=lambda a: a[0])
                left = layout.x[vertex] + layout.width[vertex] * 0.15
                span = layout.width[vertex] * 0.7
                for i, (_, points, at) in enumerate(attached):
                    x = left + span * (i + 1) / (len(attached) + 1)
                    points[at] = (x, points[at][1])


def _longest_path_rows(count: int, edges: list[tuple[int, int]]) -> list[int]:
    """Each vertex's row: 0 without predecessors, else one more than its lowest predecessor's
    (the edges form no cycle)."""
    successors: list[list[int]] = [[] for _ in range(count)]
    waiting = [0] * count
    for a, b in edges:
        successors[a].append(b)
        waiting[b] += 1
    rows = [0] * count
    ready = [v for v in range(count) if waiting[v] == 0]
    while ready:
        vertex = ready.pop()
        for successor in successors[vertex]:
            rows[successor] = max(rows[successor], rows[vertex] + 1)
            waiting[successor] -= 1
            if waiting[successor] == 0:
                ready.append(successor)
    return rows


def _in_definition_order(edges: list[RoutedEdge], graph: Graph) -> tuple[RoutedEdge, ...]:
    order = {edge: i for i, edge in enumerate(graph.edges)}
    return tuple(sorted(edges, key=lambda e: order[e.edge]))

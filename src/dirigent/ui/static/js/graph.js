// Draws a workflow graph laid out by the server (GET …/graph, or the `graph` of a lint) as SVG:
// states as boxes with their type, edges as curves with arrows, labels on switch, event and catch
// edges, start and end marked. An instance's path can be shown on it: states visited (how often),
// edges taken, the current state, the state that failed. Zoom with the buttons or Ctrl+wheel.

import { h, svg } from "./dom.js";

const LABEL_MAX = 30;

/** createGraph({onSelect}) → {element, show(drawing), mark(path), select(id)} */
export function createGraph({ onSelect = null, empty = "No graph yet" } = {}) {
  const canvas = h("div.graph-canvas");
  const zoomLabel = h("span.zoom-label", "100 %");
  let zoom = 1;
  let drawing = null;
  let root = null;
  let fitted = false;

  const setZoom = (value) => {
    zoom = Math.min(2, Math.max(0.2, value));
    zoomLabel.textContent = `${Math.round(zoom * 100)} %`;
    if (root && drawing) {
      root.setAttribute("width", drawing.width * zoom);
      root.setAttribute("height", drawing.height * zoom);
    }
  };
  const fit = () => {
    if (!drawing) return;
    const width = canvas.clientWidth - 8;
    setZoom(width > 0 ? Math.min(1, width / drawing.width) : 1);
  };
  canvas.addEventListener(
    "wheel",
    (event) => {
      if (!event.ctrlKey) return;
      event.preventDefault();
      setZoom(zoom * (event.deltaY < 0 ? 1.1 : 1 / 1.1));
    },
    { passive: false },
  );
  const element = h(
    "div.graph",
    h(
      "div.graph-tools",
      h("button.small", { type: "button", title: "Zoom out", onclick: () => setZoom(zoom / 1.25) }, "−"),
      zoomLabel,
      h("button.small", { type: "button", title: "Zoom in", onclick: () => setZoom(zoom * 1.25) }, "+"),
      h("button.small", { type: "button", title: "Fit the width", onclick: fit }, "Fit"),
      legend(),
    ),
    canvas,
  );
  canvas.append(h("div.empty", empty));

  function show(next) {
    drawing = next;
    if (!next || !next.nodes.length) {
      canvas.replaceChildren(h("div.empty", empty));
      root = null;
      return;
    }
    root = render(next, onSelect);
    canvas.replaceChildren(root);
    placeLabels(root, next);
    if (!fitted) {
      fitted = true;
      requestAnimationFrame(() => {
        const width = canvas.clientWidth - 8;
        // Readable first: shrink to fit the width, but not below 60 %.
        setZoom(width > 0 ? Math.max(0.6, Math.min(1, width / next.width)) : 1);
      });
    } else setZoom(zoom);
  }

  /** Show an instance's path: {visits: [{state}], current, failed} */
  function mark({ visits = [], current = null, failed = null } = {}) {
    if (!root) return;
    const counts = new Map();
    const taken = new Set();
    visits.forEach((visit, i) => {
      counts.set(visit.state, (counts.get(visit.state) || 0) + 1);
      if (i > 0) taken.add(`${visits[i - 1].state}\u0000${visit.state}`);
    });
    for (const node of root.querySelectorAll(".node")) {
      const id = node.dataset.state;
      const count = counts.get(id) || 0;
      node.classList.toggle("visited", count > 0);
      node.classList.toggle("current", id === current);
      node.classList.toggle("failed", id === failed);
      const tag = node.querySelector(".count");
      tag.textContent = count > 1 ? `×${count}` : "";
    }
    for (const edge of root.querySelectorAll(".edge")) {
      edge.classList.toggle("taken", taken.has(`${edge.dataset.source}\u0000${edge.dataset.target}`));
    }
    root.classList.toggle("has-path", visits.length > 0);
  }

  function select(id) {
    if (!root) return;
    for (const node of root.querySelectorAll(".node")) node.classList.toggle("selected", node.dataset.state === id);
  }

  /** Scroll the state into the middle of the view (when it is out of sight). */
  function reveal(id) {
    const node = drawing?.nodes.find((n) => n.id === id);
    if (!node) return;
    const top = node.y * zoom;
    const left = node.x * zoom;
    const visible = canvas.scrollTop <= top && top + node.height * zoom <= canvas.scrollTop + canvas.clientHeight;
    if (!visible) canvas.scrollTop = top - canvas.clientHeight / 2;
    if (left < canvas.scrollLeft || left + node.width * zoom > canvas.scrollLeft + canvas.clientWidth) canvas.scrollLeft = left - canvas.clientWidth / 3;
  }

  return { element, show, mark, select, fit, reveal };
}

function legend() {
  const item = (cls, text) => h("span.legend-item", h(`span.swatch.${cls}`), text);
  return h(
    "span.legend",
    item("transition", "transition"),
    item("condition", "switch"),
    item("event", "event"),
    item("catch", "catch"),
  );
}

function render(drawing, onSelect) {
  const markers = ["transition", "condition", "default", "event", "catch", "taken"].map((kind) =>
    svg(
      "marker",
      { id: `arrow-${kind}`, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 9, markerHeight: 9, markerUnits: "userSpaceOnUse", orient: "auto-start-reverse" },
      svg("path", { d: "M0,0 L10,5 L0,10 z", class: `arrow arrow-${kind}` }),
    ),
  );
  const edges = drawing.edges.map((edge) => {
    const label = edge.label.length > LABEL_MAX ? edge.label.slice(0, LABEL_MAX - 1) + "…" : edge.label;
    return svg(
      "g",
      { class: `edge kind-${edge.kind}${edge.back ? " back" : ""}`, "data-source": edge.source, "data-target": edge.target },
      svg("title", {}, `${edge.source} → ${edge.target}${edge.label ? ` (${edge.kind}: ${edge.label})` : ""}`),
      svg("path", { d: pathOf(edge), class: "line", "marker-end": `url(#arrow-${edge.kind})` }),
      label ? svg("g", { class: "label" }, svg("rect", {}), svg("text", { "text-anchor": "middle" }, label)) : null,
    );
  });
  const nodes = drawing.nodes.map((node) => {
    const title = node.id.length > 26 ? node.id.slice(0, 25) + "…" : node.id;
    return svg(
      "g",
      {
        class: `node type-${node.type}${node.start ? " start" : ""}${node.end ? " end" : ""}`,
        "data-state": node.id,
        transform: `translate(${node.x},${node.y})`,
        tabindex: 0,
        role: "button",
        "aria-label": `state ${node.id} (${node.type})`,
        onclick: () => onSelect?.(node.id),
        onkeydown: (event) => (event.key === "Enter" || event.key === " ") && onSelect?.(node.id),
      },
      svg("title", {}, `${node.id} (${node.type})${node.start ? ", start" : ""}${node.end ? ", can end here" : ""}`),
      svg("rect", { class: "box", width: node.width, height: node.height, rx: 8 }),
      svg("rect", { class: "stripe", width: 5, height: node.height, rx: 2 }),
      svg("text", { class: "name", x: 14, y: 18 }, title),
      svg("text", { class: "kind", x: 14, y: 34 }, node.type),
      svg("text", { class: "count", x: node.width - 8, y: 34, "text-anchor": "end" }),
      node.start ? svg("g", { class: "pill start-pill", transform: "translate(-4,-12)" }, svg("rect", { width: 38, height: 16, rx: 8 }), svg("text", { x: 19, y: 12, "text-anchor": "middle" }, "start")) : null,
      node.end ? svg("g", { class: "pill end-pill", transform: `translate(${node.width - 30},${node.height - 6})` }, svg("rect", { width: 34, height: 16, rx: 8 }), svg("text", { x: 17, y: 12, "text-anchor": "middle" }, "end")) : null,
    );
  });
  return svg(
    "svg",
    { class: "graph-svg", viewBox: `0 0 ${drawing.width} ${drawing.height}`, width: drawing.width, height: drawing.height, role: "img", "aria-label": "workflow graph" },
    svg("defs", {}, markers),
    svg("g", { class: "edges" }, edges),
    svg("g", { class: "nodes" }, nodes),
  );
}

/** A smooth curve through the edge's points: vertical tangents between rows; a loop back bulges
 * to the side so it does not cover the edge it returns along. */
function pathOf(edge) {
  const p = edge.points;
  if (edge.source === edge.target) {
    return `M${p[0][0]},${p[0][1]} C${p[1][0]},${p[1][1]} ${p[2][0]},${p[2][1]} ${p[3][0]},${p[3][1]}`;
  }
  let d = `M${p[0][0]},${p[0][1]}`;
  for (let i = 1; i < p.length; i++) {
    const [x0, y0] = p[i - 1];
    const [x1, y1] = p[i];
    if (edge.back && p.length === 2) {
      const bulge = 50;
      d += ` C${x0 + bulge},${y0 - 20} ${x1 + bulge},${y1 + 20} ${x1},${y1}`;
    } else if (x0 === x1) d += ` L${x1},${y1}`;
    else {
      const my = (y0 + y1) / 2;
      d += ` C${x0},${my} ${x1},${my} ${x1},${y1}`;
    }
  }
  return d;
}

/** Put each label on its edge's line, near the source, where it overlaps no state and no label
 * placed before it (trying points along the edge's first stretch); then fit its background. */
function placeLabels(root, drawing) {
  requestAnimationFrame(() => {
    const taken = drawing.nodes.map((n) => ({ x: n.x - 2, y: n.y - 14, width: n.width + 4, height: n.height + 24 }));
    const edges = root.querySelectorAll(".edge");
    drawing.edges.forEach((edge, i) => {
      const group = edges[i].querySelector(".label");
      if (!group) return;
      const path = edges[i].querySelector(".line");
      const text = group.querySelector("text");
      const total = path.getTotalLength();
      const [x0, y0] = edge.points[0];
      const [x1, y1] = edge.points[1];
      const first = Math.min(1, Math.hypot(x1 - x0, y1 - y0) / (total || 1));
      let box = null;
      for (const t of [0.5, 0.68, 0.32, 0.82, 0.2, 0.9]) {
        const at = path.getPointAtLength(total * first * t);
        text.setAttribute("x", at.x);
        text.setAttribute("y", at.y + 4);
        box = text.getBBox();
        if (!taken.some((other) => overlaps(box, other))) break;
      }
      if (!box || !box.width) return;
      taken.push({ x: box.x - 4, y: box.y - 2, width: box.width + 8, height: box.height + 4 });
      const rect = group.querySelector("rect");
      rect.setAttribute("x", box.x - 4);
      rect.setAttribute("y", box.y - 2);
      rect.setAttribute("width", box.width + 8);
      rect.setAttribute("height", box.height + 4);
      rect.setAttribute("rx", 4);
    });
  });
}

function overlaps(a, b) {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

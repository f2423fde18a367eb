// Small SVG charts for the metrics: a ring of parts (complete / failed / pending) and horizontal
// bars (durations per state, counts per error code).

import { h, svg } from "./dom.js";

/** A ring of `parts` [{label, value, cls}] with `center` text in the middle. */
export function ring(parts, center, size = 96) {
  const total = parts.reduce((sum, p) => sum + p.value, 0);
  const radius = size / 2 - 8;
  const circumference = 2 * Math.PI * radius;
  let offset = 0;
  const arcs = total
    ? parts
        .filter((p) => p.value > 0)
        .map((part) => {
          const length = (part.value / total) * circumference;
          const arc = svg("circle", {
            class: `arc ${part.cls}`,
            cx: size / 2,
            cy: size / 2,
            r: radius,
            "stroke-dasharray": `${length} ${circumference - length}`,
            "stroke-dashoffset": -offset,
          }, svg("title", {}, `${part.label}: ${part.value}`));
          offset += length;
          return arc;
        })
    : [svg("circle", { class: "arc none", cx: size / 2, cy: size / 2, r: radius })];
  return h(
    "figure.ring",
    svg(
      "svg",
      { width: size, height: size, viewBox: `0 0 ${size} ${size}`, role: "img", "aria-label": parts.map((p) => `${p.label} ${p.value}`).join(", ") },
      svg("g", { transform: `rotate(-90 ${size / 2} ${size / 2})` }, arcs),
      svg("text", { x: size / 2, y: size / 2 + 5, "text-anchor": "middle", class: "ring-center" }, center),
    ),
    h(
      "figcaption",
      parts.map((p) => h("span.legend-item", h(`span.swatch.${p.cls}`), `${p.label} ${p.value.toLocaleString()}`)),
    ),
  );
}

/** Horizontal bars [{label, value, text, cls}], longest first if `sorted`. */
export function bars(items, { sorted = true, width = 320, max = 12 } = {}) {
  const rows = (sorted ? [...items].sort((a, b) => b.value - a.value) : items).slice(0, max);
  if (!rows.length) return h("p.muted", "Nothing yet.");
  const top = Math.max(...rows.map((r) => r.value)) || 1;
  const rowHeight = 22;
  const labelWidth = Math.min(140, Math.max(...rows.map((r) => r.label.length)) * 7 + 8);
  const barSpace = width - labelWidth - 70;
  return svg(
    "svg",
    { class: "bars", width, height: rows.length * rowHeight, viewBox: `0 0 ${width} ${rows.length * rowHeight}`, role: "img" },
    rows.map((row, i) => {
      const y = i * rowHeight;
      const length = Math.max(2, (row.value / top) * barSpace);
      const label = row.label.length > 20 ? row.label.slice(0, 19) + "…" : row.label;
      return svg(
        "g",
        {},
        svg("title", {}, `${row.label}: ${row.text ?? row.value}`),
        svg("text", { x: labelWidth - 6, y: y + 15, "text-anchor": "end", class: "bar-label" }, label),
        svg("rect", { x: labelWidth, y: y + 4, width: length, height: rowHeight - 8, rx: 3, class: `bar ${row.cls || ""}` }),
        svg("text", { x: labelWidth + length + 6, y: y + 15, class: "bar-value" }, row.text ?? String(row.value)),
      );
    }),
  );
}

// A code editor: a plain <textarea> over a highlighted copy of its text, with line numbers and
// problems marked at their lines (gutter dot, tinted line, the message at the line's end).
// The textarea does the editing (selection, undo, IME, clipboard); this module only draws.

import { h } from "./dom.js";
import { escape, highlight } from "./yaml.js";

const INDENT = "  ";

/**
 * createEditor({value, onChange, onSave, readOnly, label}) → {element, value, setValue,
 * setProblems, revealLine, focus}
 */
export function createEditor({ value = "", onChange = () => {}, onSave = null, readOnly = false, label = "Editor" } = {}) {
  const gutter = h("div.gutter-lines");
  const layer = h("div.highlight-lines");
  const area = h("textarea", {
    spellcheck: false,
    autocapitalize: "off",
    autocomplete: "off",
    wrap: "off",
    readOnly,
    "aria-label": label,
  });
  area.value = value;
  const element = h(
    "div.editor",
    h("div.gutter", { "aria-hidden": "true" }, gutter),
    h("div.code", h("pre.highlight", { "aria-hidden": "true" }, layer), area),
  );
  let problems = new Map(); // line → [{message, severity, column}]
  let scheduled = false;

  function draw() {
    scheduled = false;
    const lines = highlight(area.value);
    const html = [];
    const numbers = [];
    for (let i = 0; i < lines.length; i++) {
      const found = problems.get(i + 1);
      const kind = found ? (found.some((p) => p.severity === "error") ? "err" : "warn") : "";
      const note = found ? `<span class="inline-note">${escape(found.map((p) => p.message).join("; "))}</span>` : "";
      html.push(`<div class="l${kind ? " " + kind : ""}" data-line="${i + 1}">${lines[i]}${note}</div>`);
      const title = found ? ` title="${escape(found.map((p) => p.message).join("\n"))}"` : "";
      numbers.push(`<div class="n${kind ? " " + kind : ""}" data-line="${i + 1}"${title}>${i + 1}</div>`);
    }
    layer.innerHTML = html.join("");
    gutter.innerHTML = numbers.join("");
    sync();
  }

  function redraw() {
    if (!scheduled) {
      scheduled = true;
      requestAnimationFrame(draw);
    }
  }

  function sync() {
    layer.style.transform = `translate(${-area.scrollLeft}px, ${-area.scrollTop}px)`;
    gutter.style.transform = `translateY(${-area.scrollTop}px)`;
  }

  function insert(text) {
    // execCommand keeps the textarea's own undo history; setRangeText is the fallback.
    if (!document.execCommand("insertText", false, text)) {
      area.setRangeText(text, area.selectionStart, area.selectionEnd, "end");
      area.dispatchEvent(new Event("input"));
    }
  }

  area.addEventListener("input", () => {
    redraw();
    onChange(area.value);
  });
  area.addEventListener("scroll", sync);
  area.addEventListener("keydown", (event) => {
    if (readOnly) return;
    if ((event.ctrlKey || event.metaKey) && event.key === "s") {
      event.preventDefault();
      onSave?.();
    } else if (event.key === "Tab" && !event.ctrlKey && !event.altKey) {
      event.preventDefault();
      if (event.shiftKey) outdent();
      else insert(INDENT);
    } else if (event.key === "Enter" && !event.ctrlKey && !event.metaKey) {
      const start = area.value.lastIndexOf("\n", area.selectionStart - 1) + 1;
      const line = area.value.slice(start, area.selectionStart);
      let indent = line.match(/^\s*/)[0];
      if (/:\s*$|:\s*[|>][-+]?\s*$/.test(line)) indent += INDENT;
      else if (/^\s*- /.test(line) && /:\s*\S/.test(line)) indent += INDENT;
      event.preventDefault();
      insert("\n" + indent);
    }
  });

  function outdent() {
    const start = area.value.lastIndexOf("\n", area.selectionStart - 1) + 1;
    if (area.value.startsWith(INDENT, start)) {
      const caret = area.selectionStart;
      area.setSelectionRange(start, start + INDENT.length);
      insert("");
      area.setSelectionRange(Math.max(start, caret - INDENT.length), Math.max(start, caret - INDENT.length));
    }
  }

  draw();
  return {
    element,
    textarea: area,
    get value() {
      return area.value;
    },
    setValue(text) {
      area.value = text;
      draw();
    },
    /** [{line, column, message, severity}] — those without a line are not drawn. */
    setProblems(list) {
      problems = new Map();
      for (const problem of list) {
        if (!problem.line) continue;
        if (!problems.has(problem.line)) problems.set(problem.line, []);
        problems.get(problem.line).push(problem);
      }
      redraw();
    },
    revealLine(line, column = 1) {
      const lines = area.value.split("\n");
      let offset = 0;
      for (let i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i].length + 1;
      offset += Math.max(0, column - 1);
      area.focus();
      area.setSelectionRange(offset, offset);
      const lineHeight = parseFloat(getComputedStyle(area).lineHeight) || 20;
      area.scrollTop = Math.max(0, (line - 5) * lineHeight);
      sync();
    },
    focus() {
      area.focus();
    },
  };
}

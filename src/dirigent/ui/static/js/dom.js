// Building the page: `h` makes elements, plus formatting of times, sizes, statuses and JSON, and
// the small shared widgets (toasts, dialogs, tabs).

/** h("div.card#main", {onclick, title, …}, child, "text", [more children]) */
export function h(tag, attrs, ...children) {
  const [name, ...parts] = tag.split(/(?=[.#])/);
  const element = document.createElement(name || "div");
  for (const part of parts) {
    if (part[0] === ".") element.classList.add(part.slice(1));
    else element.id = part.slice(1);
  }
  if (attrs !== undefined && attrs !== null && (typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else if (key === "class") element.className += ` ${value}`;
    else if (key === "style" && typeof value === "object") Object.assign(element.style, value);
    else if (key in element && typeof value !== "string") element[key] = value;
    else element.setAttribute(key, value === true ? "" : value);
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
}

/** Replace the contents of `element`. */
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

const SVG = "http://www.w3.org/2000/svg";

export function svg(name, attrs = {}, ...children) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null) continue;
    if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else element.setAttribute(key, value);
  }
  for (const child of children.flat(Infinity)) {
    if (child !== null && child !== undefined && child !== false)
      element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

// Formatting

export function when(stamp) {
  if (!stamp) return "";
  return new Date(stamp.seconds * 1000 + Math.floor(stamp.nanos / 1e6)).toLocaleString();
}

export function millis(stamp) {
  return stamp ? stamp.seconds * 1000 + stamp.nanos / 1e6 : null;
}

export function ago(stamp) {
  const ms = millis(stamp);
  if (ms === null) return "";
  const seconds = Math.round((Date.now() - ms) / 1000);
  if (seconds < 5) return "just now";
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}

export function duration(ms) {
  if (ms === null || ms === undefined) return "";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
  const minutes = Math.floor(ms / 60000);
  if (minutes < 60) return `${minutes} min ${Math.round((ms % 60000) / 1000)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function bytes(size) {
  if (size < 1024) return `${size} B`;
  if (size < 1024 ** 2) return `${(size / 1024).toFixed(1)} KiB`;
  return `${(size / 1024 ** 2).toFixed(1)} MiB`;
}

export function percent(rate) {
  return `${(rate * 100).toFixed(rate === 1 || rate === 0 ? 0 : 1)} %`;
}

export function badge(status) {
  return h(`span.badge.status-${status}`, status);
}

/** The JSON text that a base64 field holds, pretty-printed ("" for an empty field). */
export function decodeJSON(base64) {
  if (!base64) return "";
  const raw = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const text = new TextDecoder().decode(raw);
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

export function decodeText(base64) {
  const raw = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return new TextDecoder().decode(raw);
}

export function code(text, cls = "") {
  return h(`pre.json${cls ? "." + cls : ""}`, text);
}

// Widgets

let toasts;

/** A message in the corner for a few seconds; `kind` is "ok" or "error". */
export function toast(message, kind = "ok") {
  toasts ??= document.body.appendChild(h("div.toasts", { role: "status" }));
  const item = h(`div.toast.${kind}`, message);
  toasts.append(item);
  setTimeout(() => item.remove(), kind === "error" ? 8000 : 3500);
}

/** A modal dialog with `content` and buttons; resolves with the button's value (null: closed). */
export function dialog(title, content, buttons = [["Close", null]]) {
  return new Promise((resolve) => {
    const box = h("dialog.modal", h("h2", title), content);
    const row = h("div.buttons");
    for (const [label, value, cls] of buttons) {
      row.append(
        h(`button${cls ? "." + cls : ""}`, { type: "button", onclick: () => finish(value) }, label),
      );
    }
    box.append(row);
    const finish = (value) => {
      box.close();
      box.remove();
      resolve(value);
    };
    box.addEventListener("cancel", (event) => {
      event.preventDefault();
      finish(null);
    });
    document.body.append(box);
    box.showModal();
  });
}

export async function confirmed(title, text, action = "Delete") {
  return (await dialog(title, h("p", text), [["Cancel", false], [action, true, "danger"]])) === true;
}

/** Tabs: [{id, label}], the current id, and the hash each leads to. */
export function tabs(items, current, hrefOf) {
  return h(
    "nav.tabs",
    items.map((item) =>
      h("a", { href: hrefOf(item.id), class: item.id === current ? "active" : "" }, item.label),
    ),
  );
}

/** A message in place of content that could not be loaded. */
export function problem(error) {
  return h("div.problem", error.message || String(error));
}

/** Save `data` (a Blob) as a file. */
export function saveFile(data, name) {
  const url = URL.createObjectURL(data);
  const link = h("a", { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

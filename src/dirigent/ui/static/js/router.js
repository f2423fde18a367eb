// Hash routes (`#/ns/default/workflows/hello`), so the server serves one page for all of them.
// A page is `async (params, query, view) => cleanup?`; the cleanup (closing streams, timers) runs
// when the user goes elsewhere.

const routes = [];
let cleanup = null;
let generation = 0;

/** route("/ns/:ns/workflows/:wf", page) */
export function route(pattern, page) {
  const names = [];
  const source = pattern.replace(/:(\w+)/g, (_, name) => {
    names.push(name);
    return "([^/]+)";
  });
  routes.push({ regex: new RegExp(`^${source}/?$`), names, page });
}

export function parseHash() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, search = ""] = hash.split("?");
  return { path, query: Object.fromEntries(new URLSearchParams(search)) };
}

/** A hash for `path` with `query` (empty values left out). */
export function link(path, query = {}) {
  const search = new URLSearchParams(
    Object.entries(query).filter(([, v]) => v !== "" && v !== undefined && v !== null),
  ).toString();
  return `#${path}${search ? "?" + search : ""}`;
}

export function go(path, query) {
  location.hash = link(path, query);
}

/** Change the query of the current route without leaving the page. */
export function setQuery(query) {
  const { path } = parseHash();
  history.replaceState(null, "", link(path, query));
}

/** Render the page of the current hash into `view`; `fallback(path)` when no route matches. */
export async function render(view, fallback) {
  const mine = ++generation;
  if (cleanup) {
    try {
      cleanup();
    } catch {
      // a page's cleanup failing must not stop the next page
    }
    cleanup = null;
  }
  const { path, query } = parseHash();
  for (const { regex, names, page } of routes) {
    const match = regex.exec(path);
    if (!match) continue;
    const params = Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(match[i + 1])]));
    view.replaceChildren();
    const done = await page(params, query, view);
    if (mine === generation) cleanup = typeof done === "function" ? done : null;
    else if (typeof done === "function") done(); // the user left while it loaded
    return params;
  }
  fallback(path);
  return {};
}

// The shell: header with the namespace and the sections, the token dialog, and the routes.

import { ApiError, forgetToken, getJSON, onTokenNeeded, setToken, token } from "./api.js";
import { dialog, fill, h } from "./dom.js";
import { eventsPage } from "./pages/events.js";
import { instancePage } from "./pages/instance.js";
import { instancesPage } from "./pages/instances.js";
import { metricsPage } from "./pages/metrics.js";
import { namespacesPage } from "./pages/namespaces.js";
import { registriesPage, secretsPage } from "./pages/sealed.js";
import { variablesPage } from "./pages/variables.js";
import { workflowPage } from "./pages/workflow.js";
import { workflowsPage } from "./pages/workflows.js";
import { go, render, route } from "./router.js";

const SECTIONS = [
  ["workflows", "Workflows"],
  ["instances", "Instances"],
  ["variables", "Variables"],
  ["secrets", "Secrets"],
  ["registries", "Registries"],
  ["events", "Events"],
  ["metrics", "Metrics"],
];

route("/ns/:ns/workflows", workflowsPage);
route("/ns/:ns/new-workflow", (params, query, view) => workflowPage({ ...params, wf: null, tab: "definition" }, query, view));
route("/ns/:ns/workflows/:wf", (params, query, view) => workflowPage({ ...params, tab: "definition" }, query, view));
route("/ns/:ns/workflows/:wf/:tab", workflowPage);
route("/ns/:ns/instances", instancesPage);
route("/ns/:ns/instances/:wf/:id", instancePage);
route("/ns/:ns/variables", variablesPage);
route("/ns/:ns/secrets", secretsPage);
route("/ns/:ns/registries", registriesPage);
route("/ns/:ns/events", eventsPage);
route("/ns/:ns/metrics", metricsPage);
route("/namespaces", namespacesPage);

const view = document.getElementById("view");
const namespaceSelect = document.getElementById("namespace");
const sections = document.getElementById("sections");
const tokenButton = document.getElementById("token");
let namespaces = [];

onTokenNeeded(async (message) => {
  const input = h("input", { type: "password", name: "token", autocomplete: "off", placeholder: "token", "aria-label": "API token" });
  const remember = h("input", { type: "checkbox", name: "remember" });
  const form = h(
    "form.token-form",
    { onsubmit: (event) => event.preventDefault() },
    h("p", "This server asks for an API token (", h("code", "dirigent token create"), " makes one)."),
    message ? h("p.muted", message) : null,
    input,
    h("label.check", remember, " Remember on this browser"),
  );
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") form.closest("dialog").querySelector("button.primary").click();
  });
  setTimeout(() => input.focus());
  const answer = await dialog("Sign in", form, [["Cancel", false], ["Use token", true, "primary"]]);
  if (!answer || !input.value.trim()) return false;
  setToken(input.value.trim(), remember.checked);
  showToken();
  return true;
});

function showToken() {
  tokenButton.hidden = !token();
}

tokenButton.addEventListener("click", () => {
  forgetToken();
  showToken();
  location.reload();
});

/** Load the namespace list for the selector (again after the namespaces page changed it). */
export async function loadNamespaces() {
  try {
    namespaces = (await getJSON("/api/namespaces/?limit=10000")).namespaces.map((n) => n.name);
  } catch (error) {
    namespaces = [];
    if (!(error instanceof ApiError)) throw error;
  }
  return namespaces;
}

function drawHeader(path) {
  const found = path.match(/^\/ns\/([^/]+)(?:\/([^/]+))?/);
  const ns = found ? decodeURIComponent(found[1]) : "";
  const section = found ? found[2] || "workflows" : "";
  const names = namespaces.includes(ns) || !ns ? namespaces : [ns, ...namespaces];
  fill(
    namespaceSelect,
    names.map((name) => h("option", { value: name, selected: name === ns }, name)),
    h("option", { value: "" }, "Manage namespaces…"),
  );
  if (!ns) namespaceSelect.value = "";
  fill(
    sections,
    SECTIONS.map(([id, label]) =>
      h("a", { href: ns ? `#/ns/${encodeURIComponent(ns)}/${id}` : "#/namespaces", class: id === section || (id === "workflows" && section === "new-workflow") ? "active" : "" }, label),
    ),
  );
}

namespaceSelect.addEventListener("change", () => {
  const chosen = namespaceSelect.value;
  if (!chosen) return go("/namespaces");
  const section = location.hash.split("/")[3] || "workflows";
  const keep = ["workflows", "instances", "variables", "secrets", "registries", "events", "metrics"];
  go(`/ns/${encodeURIComponent(chosen)}/${keep.includes(section) ? section : "workflows"}`);
});

async function show() {
  const hash = location.hash.replace(/^#/, "").split("?")[0] || "/";
  if (hash === "/" || hash === "") {
    const names = await loadNamespaces();
    if (names.includes("default")) return go("/ns/default/workflows");
    if (names.length) return go(`/ns/${encodeURIComponent(names[0])}/workflows`);
    return go("/namespaces");
  }
  drawHeader(hash);
  await render(view, (path) => fill(view, h("div.problem", `There is no page ${path}.`), h("p", h("a", { href: "#/" }, "Go to the start page"))));
}

window.addEventListener("hashchange", show);
showToken();
// The page and the namespace list load together; the header is drawn again once the list is in.
show();
loadNamespaces().then(() => drawHeader(location.hash.replace(/^#/, "").split("?")[0] || "/"));

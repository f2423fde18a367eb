// A workflow: its definition in the editor beside its graph, revisions with a diff, its
// instances, metrics and variables; run, toggle, download, delete.

import { enc, getJSON, nsPath, request, wfPath } from "../api.js";
import { confirmed, decodeText, fill, h, problem, saveFile, tabs, toast } from "../dom.js";
import { createEditor } from "../editor.js";
import { createGraph } from "../graph.js";
import { draftKey, workflowHash } from "../links.js";
import { go } from "../router.js";
import { executeDialog } from "./execute.js";
import { instancesList } from "./instances.js";
import { metricsCard } from "./metrics.js";
import { revisionsTab } from "./revisions.js";
import { variablesPanel } from "./variables.js";

const LINT_DELAY = 300;
const TABS = [
  { id: "definition", label: "Definition" },
  { id: "revisions", label: "Revisions" },
  { id: "instances", label: "Instances" },
  { id: "metrics", label: "Metrics" },
  { id: "variables", label: "Variables" },
];
const TEMPLATE = `id: my-workflow
description: A new workflow.
states:
  - id: hello
    type: noop
    transform: 'jq({greeting: ("Hello, " + (.name // "world") + "!")})'
`;

export async function workflowPage({ ns, wf, tab }, query, view) {
  let detail = null;
  if (wf) {
    try {
      detail = await getJSON(wfPath(ns, wf));
    } catch (error) {
      view.append(h("h1", wf), problem(error));
      return;
    }
  }
  view.append(head(ns, wf, detail));
  if (!wf) return definitionTab(ns, null, view);
  view.append(tabs(TABS, tab, (id) => workflowHash(ns, wf, id === "definition" ? "" : id)));
  const content = h("div.tab-content");
  view.append(content);
  switch (tab) {
    case "definition":
      return definitionTab(ns, detail, content);
    case "revisions":
      return revisionsTab(ns, detail, content);
    case "instances":
      return instancesList({ ns, wf, query, element: content });
    case "metrics":
      content.append(await metricsCard(ns, wf, { wide: true }));
      return;
    case "variables":
      return variablesPanel({ ns, wf, element: content });
    default:
      content.append(problem(new Error(`no tab ${tab}`)));
  }
}

function head(ns, wf, detail) {
  if (!detail) return h("div.page-head", h("h1", "New workflow"));
  const active = h("span.badge", { class: detail.active ? "status-complete" : "status-cancelled" }, detail.active ? "active" : "inactive");
  return h(
    "div.page-head",
    h("div", h("h1", wf, " ", active), detail.description ? h("p.muted", detail.description) : null),
    h(
      "div.actions",
      h("span.muted", `revision ${detail.revision}`),
      h("button.primary", { type: "button", onclick: () => executeDialog(ns, wf) }, "Run ▶"),
      h(
        "button",
        {
          type: "button",
          onclick: async () => {
            try {
              const now = await (await request(`${wfPath(ns, wf)}/toggle`, { method: "PUT" })).json();
              toast(`${wf} is ${now.active ? "active" : "inactive"}`);
              active.textContent = now.active ? "active" : "inactive";
              active.className = `badge ${now.active ? "status-complete" : "status-cancelled"}`;
            } catch (error) {
              toast(error.message, "error");
            }
          },
        },
        "Toggle active",
      ),
      h(
        "button",
        {
          type: "button",
          onclick: async () => {
            try {
              saveFile(await (await request(`${wfPath(ns, wf)}/download`)).blob(), `${wf}.yaml`);
            } catch (error) {
              toast(error.message, "error");
            }
          },
        },
        "Download",
      ),
      h(
        "button.danger",
        {
          type: "button",
          onclick: async () => {
            if (!(await confirmed(`Delete ${wf}?`, "Its revisions, instances (running ones are cancelled) and variables go with it."))) return;
            try {
              await request(wfPath(ns, wf), { method: "DELETE" });
              toast(`${wf} deleted`);
              go(`/ns/${enc(ns)}/workflows`);
            } catch (error) {
              toast(error.message, "error");
            }
          },
        },
        "Delete",
      ),
    ),
  );
}

function definitionTab(ns, detail, element) {
  const wf = detail?.id || null;
  const saved = detail ? decodeText(detail.workflow) : "";
  const draft = sessionStorage.getItem(draftKey(ns, wf || ""));
  let revision = detail?.revision ?? null;
  let baseline = saved;
  let sequence = 0;
  let timer = null;
  const state = h("span.lint-state.muted", "checking…");
  const modified = h("span.modified", { hidden: true }, "● modified");
  const problems = h("ul.problems");
  const saveButton = h("button.primary", { type: "button", onclick: () => save() }, wf ? "Save" : "Create");
  const graph = createGraph({ empty: "The graph appears when the definition is valid." });
  const editor = createEditor({
    value: draft ?? (wf ? saved : TEMPLATE),
    label: "Workflow definition",
    onChange: () => {
      changed();
      clearTimeout(timer);
      timer = setTimeout(lint, LINT_DELAY);
    },
    onSave: () => save(),
  });
  sessionStorage.removeItem(draftKey(ns, wf || ""));
  element.append(
    h(
      "div.split",
      h(
        "section.pane.editor-pane",
        h("div.pane-head", h("h2", "Definition"), modified, state, h("span.spacer"), saveButton),
        editor.element,
        problems,
      ),
      h("section.pane.graph-pane", h("div.pane-head", h("h2", "Graph")), graph.element),
    ),
  );

  function changed() {
    const dirty = editor.value !== baseline || !wf;
    modified.hidden = !dirty || !wf;
    saveButton.disabled = wf ? !dirty : false;
  }

  async function lint() {
    const mine = ++sequence;
    let result;
    try {
      result = await (await request(`${nsPath(ns)}/lint`, { method: "POST", body: editor.value, type: "text/yaml" })).json();
    } catch (error) {
      if (mine === sequence) fill(state, `cannot check: ${error.message}`);
      return;
    }
    if (mine !== sequence) return; // the text changed again meanwhile
    const errors = result.problems.filter((p) => p.severity === "error");
    const warnings = result.problems.length - errors.length;
    if (wf && result.id && result.id !== wf) {
      errors.push({ line: idLine(editor.value), column: 1, path: "id", message: `the id must stay '${wf}' (a workflow cannot be renamed)`, severity: "error" });
    }
    editor.setProblems([...errors, ...result.problems.filter((p) => p.severity !== "error")]);
    state.className = `lint-state ${errors.length ? "error" : "ok"}`;
    state.textContent = errors.length
      ? `${errors.length} error${errors.length > 1 ? "s" : ""}`
      : `✓ valid${warnings ? `, ${warnings} warning${warnings > 1 ? "s" : ""}` : ""}`;
    fill(
      problems,
      [...errors, ...result.problems.filter((p) => p.severity !== "error")].map((p) =>
        h(
          `li.${p.severity}`,
          { onclick: () => p.line && editor.revealLine(p.line, p.column || 1), title: "Go to the line" },
          h("span.where", p.line ? `line ${p.line}${p.column ? `:${p.column}` : ""}` : "—"),
          p.path ? h("code", p.path) : null,
          " ",
          p.message,
        ),
      ),
    );
    if (result.graph) graph.show(result.graph);
  }

  async function save() {
    clearTimeout(timer);
    const text = editor.value;
    try {
      const answer = wf
        ? await request(`${wfPath(ns, wf)}?revision=${revision}`, { method: "PUT", body: text, type: "text/yaml" })
        : await request(`${nsPath(ns)}/workflows`, { method: "POST", body: text, type: "text/yaml" });
      const written = await answer.json();
      if (!wf) {
        toast(`Workflow ${written.id} created`);
        return go(`/ns/${enc(ns)}/workflows/${enc(written.id)}`);
      }
      revision = written.revision;
      baseline = text;
      changed();
      toast(`Saved: revision ${written.revision}`);
      for (const warning of written.warnings || []) toast(`warning: ${warning}`, "error");
      const label = element.closest("main")?.querySelector(".page-head .actions .muted");
      if (label) label.textContent = `revision ${written.revision}`;
    } catch (error) {
      toast(error.message, "error");
      lint();
    }
  }

  const leaving = (event) => {
    if (wf && editor.value !== baseline) event.preventDefault();
  };
  window.addEventListener("beforeunload", leaving);
  changed();
  lint();
  return () => {
    clearTimeout(timer);
    window.removeEventListener("beforeunload", leaving);
    if (wf && editor.value !== baseline) sessionStorage.setItem(draftKey(ns, wf), editor.value);
  };
}

function idLine(text) {
  const index = text.split("\n").findIndex((line) => /^id\s*:/.test(line));
  return index >= 0 ? index + 1 : 1;
}

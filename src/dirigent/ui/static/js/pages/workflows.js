// The namespace's workflows: name, active, revision, last run and success rate (of its last 100
// instances), with toggling and uploading a YAML file.

import { getJSON, request, wfPath, nsPath, enc } from "../api.js";
import { ago, badge, fill, h, percent, problem, toast } from "../dom.js";
import { instanceHash, workflowHash } from "../links.js";
import { go } from "../router.js";
import { executeDialog } from "./execute.js";

const PAGE = 50;
/** How many recent instances the success rate is computed over. */
const RECENT = 100;

export async function workflowsPage({ ns }, query, view) {
  const offset = Number(query.offset || 0);
  const body = h("tbody");
  const pager = h("div.pager");
  const upload = h("input", {
    type: "file",
    accept: ".yaml,.yml,text/yaml",
    hidden: true,
    onchange: async () => {
      const file = upload.files[0];
      if (!file) return;
      try {
        const created = await (await request(`${nsPath(ns)}/workflows`, { method: "POST", body: await file.text(), type: "text/yaml" })).json();
        toast(`Workflow ${created.id} created`);
        go(`/ns/${enc(ns)}/workflows/${enc(created.id)}`);
      } catch (error) {
        toast(error.message, "error");
      }
      upload.value = "";
    },
  });
  view.append(
    h(
      "div.page-head",
      h("h1", "Workflows"),
      h(
        "div.actions",
        h("a.button.primary", { href: `#/ns/${enc(ns)}/new-workflow` }, "New workflow"),
        h("button", { type: "button", onclick: () => upload.click() }, "Upload YAML…"),
        upload,
      ),
    ),
    h(
      "table.list.workflows",
      h("thead", h("tr", ["Workflow", "Active", "Revision", "Last run", "Success (last 100)", ""].map((t) => h("th", t)))),
      body,
    ),
    pager,
  );
  let page;
  try {
    page = await getJSON(`${nsPath(ns)}/workflows/?offset=${offset}&limit=${PAGE}`);
  } catch (error) {
    fill(body, h("tr", h("td", { colspan: 6 }, problem(error))));
    return;
  }
  if (!page.workflows.length) {
    fill(body, h("tr", h("td.empty", { colspan: 6 }, "No workflows yet. Create one with “New workflow”.")));
  }
  for (const workflow of page.workflows) body.append(row(ns, workflow));
  pagerOf(pager, page, (next) => go(`/ns/${enc(ns)}/workflows`, { offset: next }));
}

function row(ns, workflow) {
  const last = h("td.last", h("span.muted", "…"));
  const rate = h("td.rate", h("span.muted", "…"));
  const toggle = h("input", {
    type: "checkbox",
    checked: workflow.active,
    "aria-label": `active: ${workflow.id}`,
    onchange: async () => {
      try {
        const now = await (await request(`${wfPath(ns, workflow.id)}/toggle`, { method: "PUT" })).json();
        toggle.checked = now.active;
        toast(`${workflow.id} is ${now.active ? "active" : "inactive"}`);
      } catch (error) {
        toggle.checked = !toggle.checked;
        toast(error.message, "error");
      }
    },
  });
  recent(ns, workflow.id, last, rate);
  return h(
    "tr",
    { "data-workflow": workflow.id },
    h("td", h("a.strong", { href: workflowHash(ns, workflow.id) }, workflow.id), workflow.description ? h("div.muted.small", workflow.description) : null),
    h("td", h("label.switch", toggle, h("span.slider"))),
    h("td.num", workflow.revision),
    last,
    rate,
    h("td.right", h("button.small", { type: "button", onclick: () => executeDialog(ns, workflow.id) }, "Run ▶")),
  );
}

async function recent(ns, id, last, rate) {
  try {
    const { workflowInstances: runs } = await getJSON(`${wfPath(ns, id)}/instances/?limit=${RECENT}`);
    if (!runs.length) {
      fill(last, h("span.muted", "never"));
      fill(rate, h("span.muted", "—"));
      return;
    }
    fill(last, h("a", { href: instanceHash(runs[0].id) }, badge(runs[0].status)), " ", h("span.muted.small", ago(runs[0].beginTime)));
    const ended = runs.filter((r) => r.status !== "pending");
    const complete = ended.filter((r) => r.status === "complete").length;
    fill(rate, ended.length ? meter(complete / ended.length, `${complete} of ${ended.length}`) : h("span.muted", "—"));
  } catch (error) {
    fill(last, h("span.muted", error.message));
  }
}

function meter(value, title) {
  return h("span.meter", { title }, h("span.meter-bar", h("span.meter-fill", { style: { width: `${value * 100}%` } })), percent(value));
}

/** Paging controls for a list answer {offset, limit, total}. */
export function pagerOf(element, page, goTo) {
  const { offset, limit, total } = page;
  if (total <= limit && offset === 0) return fill(element);
  const last = Math.max(0, Math.floor((total - 1) / limit) * limit);
  const button = (label, target, disabled) => h("button.small", { type: "button", disabled, onclick: () => goTo(target) }, label);
  fill(
    element,
    button("« First", 0, offset === 0),
    button("‹ Previous", Math.max(0, offset - limit), offset === 0),
    h("span.range", total ? `${(offset + 1).toLocaleString()}–${Math.min(total, offset + limit).toLocaleString()} of ${total.toLocaleString()}` : "none"),
    button("Next ›", offset + limit, offset + limit >= total),
    button("Last »", last, offset >= last),
  );
}

// Instances, newest first: filter by status (and workflow), page through, refreshed every few
// seconds. The server pages and counts (`offset`, `limit`, `status`), so a namespace with 100,000
// instances loads one page at a time.

import { enc, getJSON, nsPath, wfPath } from "../api.js";
import { ago, badge, duration, fill, h, millis, problem, when } from "../dom.js";
import { instanceHash } from "../links.js";
import { parseHash, setQuery } from "../router.js";
import { pagerOf } from "./workflows.js";

const PAGE = 50;
const REFRESH_MS = 3000;
const STATUSES = ["", "pending", "complete", "failed", "crashed", "cancelled"];

export async function instancesPage({ ns }, query, view) {
  view.append(h("div.page-head", h("h1", "Instances")));
  const element = h("div");
  view.append(element);
  return instancesList({ ns, wf: null, query, element, chooseWorkflow: true });
}

/** The list with its filters, in `element`; returns the cleanup that stops refreshing. */
export async function instancesList({ ns, wf, query, element, chooseWorkflow = false }) {
  const filter = { status: query.status || "", workflow: wf || query.workflow || "", offset: Number(query.offset || 0) };
  const body = h("tbody");
  const pager = h("div.pager");
  const count = h("span.muted.count");
  const chips = h(
    "div.chips",
    { role: "group", "aria-label": "status filter" },
    STATUSES.map((status) =>
      h(
        "button.chip",
        { type: "button", "data-status": status || "all", onclick: () => change({ status, offset: 0 }) },
        status || "all",
      ),
    ),
  );
  const workflowSelect = h("select", { "aria-label": "workflow filter", onchange: () => change({ workflow: workflowSelect.value, offset: 0 }) }, h("option", { value: "" }, "all workflows"));
  element.append(
    h("div.toolbar", chips, chooseWorkflow ? workflowSelect : null, h("span.spacer"), count),
    h(
      "table.list.instances",
      h("thead", h("tr", ["Instance", "Status", "Started", "Duration", "Revision", "Error"].map((t) => h("th", t)))),
      body,
    ),
    pager,
  );
  if (chooseWorkflow) {
    getJSON(`${nsPath(ns)}/workflows/?limit=10000`)
      .then(({ workflows }) => {
        for (const w of workflows) workflowSelect.append(h("option", { value: w.id, selected: w.id === filter.workflow }, w.id));
      })
      .catch(() => {});
  }

  let timer = null;
  let stopped = false;
  async function load() {
    clearTimeout(timer);
    for (const chip of chips.children) chip.classList.toggle("active", (chip.dataset.status === "all" ? "" : chip.dataset.status) === filter.status);
    const base = filter.workflow ? `${wfPath(ns, filter.workflow)}/instances/` : `/api/instances/${enc(ns)}`;
    const params = new URLSearchParams({ offset: filter.offset, limit: PAGE });
    if (filter.status) params.set("status", filter.status);
    try {
      const page = await getJSON(`${base}?${params}`);
      if (stopped) return;
      fill(count, `${page.total.toLocaleString()} instance${page.total === 1 ? "" : "s"}`);
      fill(
        body,
        page.workflowInstances.length
          ? page.workflowInstances.map(row)
          : h("tr", h("td.empty", { colspan: 6 }, filter.status ? `No ${filter.status} instances.` : "No instances yet.")),
      );
      pagerOf(pager, page, (offset) => change({ offset }));
    } catch (error) {
      if (stopped) return;
      fill(body, h("tr", h("td", { colspan: 6 }, problem(error))));
    }
    if (!stopped) timer = setTimeout(load, REFRESH_MS);
  }

  function change(update) {
    Object.assign(filter, update);
    const current = parseHash().query;
    setQuery({ ...current, status: filter.status, workflow: wf ? "" : filter.workflow, offset: filter.offset || "" });
    load();
  }

  await load();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

function row(instance) {
  const [, workflow, random] = instance.id.split("/");
  const begin = millis(instance.beginTime);
  const end = millis(instance.endTime);
  return h(
    "tr",
    { "data-instance": instance.id, "data-status": instance.status },
    h("td", h("a.mono", { href: instanceHash(instance.id) }, h("span.strong", workflow), "/", random)),
    h("td", badge(instance.status)),
    h("td", { title: when(instance.beginTime) }, ago(instance.beginTime)),
    h("td.num", end ? duration(end - begin) : h("span.muted", duration(Date.now() - begin))),
    h("td.num", instance.revision),
    h("td.error-cell", instance.errorCode ? h("span", { title: instance.errorMessage }, h("code", instance.errorCode), " ", instance.errorMessage) : ""),
  );
}

// Workflow metrics as small charts: outcomes, success rate and mean run time (from the store),
// mean time per state and unhandled errors (what this server process has seen since it started).

import { getJSON, nsPath, wfPath } from "../api.js";
import { bars, ring } from "../charts.js";
import { duration, fill, h, percent, problem, when } from "../dom.js";
import { workflowHash } from "../links.js";

export async function metricsPage({ ns }, query, view) {
  const grid = h("div.metrics-grid");
  view.append(h("div.page-head", h("h1", "Metrics"), h("p.muted", `Instances of each workflow of ${ns}.`)), grid);
  let workflows;
  try {
    ({ workflows } = await getJSON(`${nsPath(ns)}/workflows/?limit=200`));
  } catch (error) {
    grid.append(problem(error));
    return;
  }
  if (!workflows.length) grid.append(h("p.empty", "No workflows yet."));
  const cards = workflows.map((w) => {
    const slot = h("div.card.metrics-card", h("h2", h("a", { href: workflowHash(ns, w.id, "metrics") }, w.id)), h("p.muted", "…"));
    grid.append(slot);
    return [w.id, slot];
  });
  // A few at a time: each answer counts the workflow's instances.
  for (let i = 0; i < cards.length; i += 4) {
    await Promise.all(cards.slice(i, i + 4).map(async ([id, slot]) => slot.replaceWith(await metricsCard(ns, id))));
  }
}

/** A card of one workflow's metrics. */
export async function metricsCard(ns, wf, { wide = false } = {}) {
  const card = h(`div.card.metrics-card${wide ? ".wide" : ""}`, { "data-workflow": wf });
  let m;
  try {
    m = await getJSON(`${wfPath(ns, wf)}/metrics`);
  } catch (error) {
    return fill(card, h("h2", wf), problem(error));
  }
  const ended = m.successfulExecutions + m.failedExecutions;
  const states = m.states.filter((s) => s.totalExecutions > 0);
  fill(
    card,
    wide ? null : h("h2", h("a", { href: workflowHash(ns, wf, "metrics") }, wf)),
    h(
      "div.metrics-row",
      ring(
        [
          { label: "complete", value: m.successfulExecutions, cls: "complete" },
          { label: "failed", value: m.failedExecutions, cls: "failed" },
          { label: "pending", value: m.pendingInstances, cls: "pending" },
        ],
        ended ? percent(m.successRate) : "—",
      ),
      h(
        "dl.figures",
        h("dt", "instances"),
        h("dd", m.totalInstancesRun.toLocaleString()),
        h("dt", "success rate"),
        h("dd", ended ? percent(m.successRate) : "—"),
        h("dt", "mean run time"),
        h("dd", ended ? duration(m.meanInstanceMilliseconds) : "—"),
      ),
    ),
    states.length
      ? h(
          "div.chart",
          h("h3", "Mean time per state"),
          bars(states.map((s) => ({ label: s.name, value: s.meanMilliseconds, text: `${duration(s.meanMilliseconds)} × ${s.totalExecutions}`, cls: s.totalFailures ? "has-failures" : "" })), { sorted: false, width: wide ? 520 : 320 }),
        )
      : null,
    Object.keys(m.errorCodes).length
      ? h("div.chart", h("h3", "Errors"), bars(Object.entries(m.errorCodes).map(([code, count]) => ({ label: code, value: count, cls: "failed" })), { width: wide ? 520 : 320 }))
      : null,
    m.statesSince ? h("p.muted.small", `Per-state figures: this server since ${when(m.statesSince)}.`) : null,
  );
  return card;
}

// An instance: its workflow's graph with the path taken (current state marked while it runs), each
// state's visits on click (times, error, input and output where kept, its log lines), the log as
// it is written (SSE), the input, output and error; cancel.

import { ApiError, follow, getJSON, instancePath, request, wfPath } from "../api.js";
import { badge, code, confirmed, decodeJSON, duration, fill, h, millis, problem, toast, when } from "../dom.js";
import { createGraph } from "../graph.js";
import { workflowHash } from "../links.js";

/** Visits are read again at most this often while the instance moves. */
const VISITS_EVERY_MS = 250;

export async function instancePage({ ns, wf, id: random }, query, view) {
  const id = `${ns}/${wf}/${random}`;
  const path = instancePath(id);
  let detail;
  try {
    detail = await getJSON(path);
  } catch (error) {
    view.append(h("h1", `Instance ${wf}/${random}`), problem(error));
    return;
  }
  const log = []; // every line so far, by index
  let visits = { visits: [], actions: [], status: detail.status, state: null };
  let selected = query.state || null;
  let streams = [];

  const statusBadge = h("span", badge(detail.status));
  const liveLabel = h("span.live.muted", "live");
  const stateLabel = h("span.muted");
  const times = h("span.muted");
  const cancel = h("button.danger", { type: "button", hidden: detail.status !== "pending", onclick: () => cancelIt() }, "Cancel");
  const statePanel = h("section.pane.state-panel", h("p.muted", "Click a state in the graph."));
  const logBody = h("div.log-lines", { role: "log", "aria-live": "polite" });
  const onlySelected = h("input", { type: "checkbox", onchange: () => drawLog() });
  const dataPanel = h("div.data-panel");
  const graph = createGraph({ onSelect: (state) => choose(state), empty: "Loading the graph…" });

  view.append(
    h(
      "div.page-head",
      h(
        "div",
        h("h1", h("a", { href: workflowHash(ns, wf) }, wf), h("span.muted", ` / ${random} `), statusBadge),
        h("p.meta", h("span", `revision ${detail.revision}`), " · ", times, " · ", stateLabel, " · ", h("span.muted", `invoked by ${detail.invokedBy || "api"}`)),
      ),
      h("div.actions", cancel),
    ),
    h(
      "div.instance-grid",
      h("section.pane.graph-pane", h("div.pane-head", h("h2", "Path")), graph.element),
      statePanel,
    ),
    h(
      "section.pane.log-pane",
      h("div.pane-head", h("h2", "Log"), liveLabel, h("span.spacer"), h("label.check", onlySelected, " only the selected state")),
      logBody,
    ),
    dataPanel,
  );

  function drawHead() {
    fill(statusBadge, badge(detail.status));
    const begin = millis(detail.beginTime);
    const end = millis(detail.endTime);
    times.textContent = `started ${when(detail.beginTime)}${end ? `, took ${duration(end - begin)}` : ""}`;
    stateLabel.textContent = visits.state ? `${detail.status === "pending" ? "in" : "ended in"} state ${visits.state}` : "";
    cancel.hidden = detail.status !== "pending";
  }

  function drawData() {
    const blocks = [h("div.data-block", h("h3", "Input"), code(decodeJSON(detail.input)))];
    if (detail.status !== "pending") blocks.push(h("div.data-block", h("h3", "Output"), code(decodeJSON(detail.output))));
    if (detail.errorCode) blocks.push(h("div.data-block.error", h("h3", "Error"), h("p", h("code", detail.errorCode)), h("p", detail.errorMessage)));
    fill(dataPanel, blocks);
  }

  function drawLog() {
    const only = onlySelected.checked && selected;
    const nearBottom = logBody.scrollHeight - logBody.scrollTop - logBody.clientHeight < 40;
    fill(logBody, log.filter((line) => line && (!only || line.context.state === selected)).map(logLine));
    if (nearBottom) logBody.scrollTop = logBody.scrollHeight;
  }

  function appendLog(line, index) {
    log[index] = line;
    if (onlySelected.checked && selected && line.context.state !== selected) return;
    const nearBottom = logBody.scrollHeight - logBody.scrollTop - logBody.clientHeight < 40;
    logBody.append(logLine(line));
    if (nearBottom) logBody.scrollTop = logBody.scrollHeight;
  }

  function logLine(line) {
    const state = line.context.state;
    return h(
      "div.log-line",
      { "data-state": state || "" },
      h("span.time", new Date(millis(line.timestamp)).toLocaleTimeString(undefined, { hour12: false }) + `.${String(Math.floor(line.timestamp.nanos / 1e6)).padStart(3, "0")}`),
      state ? h("button.state-chip", { type: "button", onclick: () => choose(state) }, state) : h("span.state-chip.none", "—"),
      line.context.actionId ? h("span.fn", { title: `action ${line.context.actionId}` }, "fn") : null,
      h("span.message", line.message),
    );
  }

  function choose(state) {
    selected = state;
    graph.select(state);
    drawState();
    if (onlySelected.checked) drawLog();
  }

  function drawState() {
    if (!selected) return;
    const mine = visits.visits.map((v, i) => ({ ...v, order: i + 1 })).filter((v) => v.state === selected);
    const items = mine.map((visit) => visitView(visit, visits.visits.length));
    const isCurrent = detail.status === "pending" && visits.state === selected;
    fill(
      statePanel,
      h("div.pane-head", h("h2", selected), mine[0] ? h("span.muted", mine[0].type) : null, isCurrent ? h("span.badge.status-pending", "current") : null),
      mine.length ? null : h("p.muted", "The instance has not been in this state."),
      isCurrent && visits.actions.length ? actionsView(visits.actions) : null,
      items,
    );
  }

  function visitView(visit, total) {
    const entered = millis(visit.enteredAt);
    const spent = visit.milliseconds ?? Date.now() - entered;
    const lines = visit.lines.map((i) => log[i]).filter(Boolean);
    return h(
      "div.visit",
      h(
        "h3",
        `Visit ${visit.order} of ${total}`,
        " ",
        h("span.muted", `${when(visit.enteredAt)} · `, visit.leftAt ? duration(spent) : h("span.running", { "data-since": entered }, `running for ${duration(spent)}`)),
      ),
      visit.error ? h(`div.visit-error${visit.caught ? ".caught" : ""}`, visit.caught ? "caught " : "ended with ", h("code", visit.error.code), `: ${visit.error.message}`) : null,
      dataView("Input", visit.input, "Inputs over 64 KiB are not kept in the log; add `log: jq(.)` to the state to log it whole."),
      visit.output !== null ? dataView("Output", visit.output) : null,
      lines.length ? h("details.visit-log", { open: lines.length <= 8 }, h("summary", `${lines.length} log line${lines.length > 1 ? "s" : ""}`), lines.map(logLine)) : null,
    );
  }

  function dataView(title, value, missing) {
    if (value === null) return missing ? h("p.muted.small", `${title}: not kept. ${missing}`) : null;
    return h("details.data", { open: true }, h("summary", title), code(decodeJSON(value)));
  }

  function actionsView(actions) {
    return h(
      "table.list.compact",
      h("thead", h("tr", h("th", "Action"), h("th", "Status"), h("th", "Retries"), h("th", "Error"))),
      h("tbody", actions.map((a) => h("tr", h("td", a.index), h("td", a.status.replace("_", " ")), h("td", a.attempt), h("td", a.error ? `${a.error.code}: ${a.error.message}` : "")))),
    );
  }

  let shownCurrent = null;
  let visitsTimer = null;
  let visitsBusy = false;
  async function refreshVisits() {
    if (visitsBusy) return scheduleVisits();
    visitsBusy = true;
    try {
      showVisits(await getJSON(`${path}/visits`));
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) toast(error.message, "error");
    } finally {
      visitsBusy = false;
    }
  }
  function showVisits(answer) {
    visits = answer;
    const last = visits.visits[visits.visits.length - 1];
    const failed = detail.status !== "pending" && detail.status !== "complete" && last && last.error && !last.caught ? last.state : null;
    const current = detail.status === "pending" ? visits.state : null;
    graph.mark({ visits: visits.visits, current, failed });
    if (current && current !== shownCurrent) graph.reveal(current);
    shownCurrent = current;
    if (!selected && last) choose(last.state);
    else drawState();
    drawHead();
  }
  function scheduleVisits() {
    if (!visitsTimer) visitsTimer = setTimeout(() => ((visitsTimer = null), refreshVisits()), VISITS_EVERY_MS);
  }

  async function cancelIt() {
    if (!(await confirmed("Cancel this instance?", "It ends cancelled (direktiv.cancels.api).", "Cancel instance"))) return;
    try {
      await request(path, { method: "DELETE" });
      toast("Cancelling…");
    } catch (error) {
      toast(error.message, "error");
    }
  }

  async function ended() {
    try {
      detail = await getJSON(path);
    } catch (error) {
      toast(error.message, "error");
    }
    drawHead();
    drawData();
    refreshVisits();
  }

  drawHead();
  drawData();
  // The graph and the visits are fetched together, and the streams start at once.
  const drawing = getJSON(`${wfPath(ns, wf)}/graph?revision=${detail.revision}`).catch((error) => error);
  const firstVisits = getJSON(`${path}/visits`).catch((error) => error);
  streams.push(
    follow(`${path}/logs?follow=true`, (name, data, index) => {
      if (name === "end") {
        liveLabel.textContent = "complete log";
        liveLabel.classList.add("ended");
      } else if (name === "log") {
        appendLog(data, index);
        const moved = data.message.startsWith("entering state") || data.message.startsWith("caught");
        if (moved && detail.status === "pending") scheduleVisits();
      }
    }),
  );
  // An instance that has ended does not change any more: its status needs no stream.
  if (detail.status === "pending") {
    streams.push(
      follow(`${path}/status?follow=true`, (name, data) => {
        if (name !== "status" && name !== "end") return;
        const was = detail.status;
        const { status, endTime, errorCode, errorMessage } = data;
        Object.assign(detail, { status, endTime, errorCode, errorMessage });
        drawHead();
        if (name === "end" || (was === "pending" && status !== "pending")) ended();
        else scheduleVisits();
      }),
    );
  }
  const shown = await drawing;
  if (shown instanceof Error) {
    graph.show(null);
    toast(`No graph: ${shown.message}`, "error");
  } else graph.show(shown);
  const answer = await firstVisits;
  if (answer instanceof Error) toast(answer.message, "error");
  else showVisits(answer);
  const ticker = setInterval(() => {
    for (const running of statePanel.querySelectorAll(".running")) running.textContent = `running for ${duration(Date.now() - Number(running.dataset.since))}`;
  }, 1000);
  return () => {
    for (const stream of streams) stream.close();
    streams = [];
    clearInterval(ticker);
    clearTimeout(visitsTimer);
  };
}

// A workflow's revisions (0 … latest): pick two to see what changed, or take one back into the
// editor (saving it makes a new revision).

import { getJSON, wfPath } from "../api.js";
import { decodeText, fill, h, problem, when } from "../dom.js";
import { diffLines } from "../diff.js";
import { draftKey, workflowHash } from "../links.js";

export function revisionsTab(ns, detail, element) {
  const latest = detail.revision;
  const texts = new Map([[latest, { text: decodeText(detail.workflow), updatedAt: detail.updatedAt }]]);
  const numbers = Array.from({ length: latest + 1 }, (_, i) => latest - i);
  const select = (value) =>
    h("select", {}, numbers.map((n) => h("option", { value: n, selected: n === value }, n === latest ? `${n} (latest)` : String(n))));
  const from = select(Math.max(0, latest - 1));
  const to = select(latest);
  from.setAttribute("aria-label", "from revision");
  to.setAttribute("aria-label", "to revision");
  const output = h("div.diff-view");
  const info = h("p.muted");
  const restore = h("button", { type: "button", onclick: () => takeBack(Number(from.value)) }, "Edit the ‘from’ revision");
  element.append(
    h("div.toolbar", h("label", "From ", from), h("label", "to ", to), restore, info),
    output,
  );
  if (latest === 0) fill(info, "This workflow has one revision; every save adds one.");

  async function revision(n) {
    if (!texts.has(n)) {
      const found = await getJSON(`${wfPath(ns, detail.id)}/revisions/${n}`);
      texts.set(n, { text: decodeText(found.workflow), updatedAt: found.updatedAt });
    }
    return texts.get(n);
  }

  async function show() {
    try {
      const [a, b] = await Promise.all([revision(Number(from.value)), revision(Number(to.value))]);
      fill(info, `revision ${from.value} saved ${when(a.updatedAt)}; revision ${to.value} saved ${when(b.updatedAt)}`);
      fill(output, diffTable(diffLines(a.text, b.text)));
    } catch (error) {
      fill(output, problem(error));
    }
  }

  async function takeBack(n) {
    const { text } = await revision(n);
    sessionStorage.setItem(draftKey(ns, detail.id), text);
    location.hash = workflowHash(ns, detail.id);
  }

  from.addEventListener("change", show);
  to.addEventListener("change", show);
  show();
}

/** Unchanged stretches longer than this are folded, keeping `CONTEXT` lines around changes. */
const FOLD_OVER = 8;
const CONTEXT = 3;

function diffTable(rows) {
  const changed = rows.filter((r) => r[0] !== " ").length;
  const body = h("tbody");
  const line = ([kind, a, b, text]) =>
    h(`tr.${kind === "+" ? "add" : kind === "-" ? "del" : "same"}`, h("td.ln", a ?? ""), h("td.ln", b ?? ""), h("td.mark", kind), h("td.text", text));
  for (let i = 0; i < rows.length; ) {
    let end = i;
    while (end < rows.length && rows[end][0] === " ") end++;
    const keepStart = i === 0 ? 0 : CONTEXT;
    const keepEnd = end === rows.length ? 0 : CONTEXT;
    if (end - i > FOLD_OVER + keepStart + keepEnd) {
      for (const row of rows.slice(i, i + keepStart)) body.append(line(row));
      const hidden = rows.slice(i + keepStart, end - keepEnd);
      const fold = h("tr.fold", { title: "Show these lines" }, h("td", { colspan: 4 }, `⋯ ${hidden.length} unchanged lines`));
      fold.addEventListener("click", () => fold.replaceWith(...hidden.map(line)));
      body.append(fold);
      for (const row of rows.slice(end - keepEnd, end)) body.append(line(row));
    } else for (const row of rows.slice(i, end)) body.append(line(row));
    i = end;
    while (i < rows.length && rows[i][0] !== " ") body.append(line(rows[i++]));
  }
  return h("div", h("p.muted", changed ? `${changed} line${changed > 1 ? "s" : ""} changed` : "No difference."), h("table.diff", body));
}

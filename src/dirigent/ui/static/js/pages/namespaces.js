// Namespaces: list, create, delete.

import { getJSON, nsPath, request } from "../api.js";
import { confirmed, fill, h, problem, toast, when } from "../dom.js";
import { go } from "../router.js";

export async function namespacesPage(params, query, view) {
  const body = h("tbody");
  const name = h("input", { name: "namespace", required: true, placeholder: "name", pattern: "[a-z]([a-z0-9_-]*[a-z0-9])?", "aria-label": "namespace name" });
  view.append(
    h("div.page-head", h("h1", "Namespaces")),
    h("table.list", h("thead", h("tr", h("th", "Namespace"), h("th", "Created"), h("th", ""))), body),
    h(
      "form.card.inline-form",
      { onsubmit: (event) => (event.preventDefault(), create()) },
      h("h2", "Create a namespace"),
      h("div.form-row", h("label", "Name ", name), h("button.primary", { type: "submit" }, "Create")),
    ),
  );

  async function load() {
    try {
      const { namespaces } = await getJSON("/api/namespaces/?limit=10000");
      fill(
        body,
        namespaces.length
          ? namespaces.map((n) =>
              h(
                "tr",
                h("td", h("a.strong", { href: `#/ns/${encodeURIComponent(n.name)}/workflows` }, n.name)),
                h("td", when(n.createdAt)),
                h("td.right", h("button.small.danger", { type: "button", onclick: () => remove(n.name) }, "Delete")),
              ),
            )
          : h("tr", h("td.empty", { colspan: 3 }, "No namespaces yet.")),
      );
    } catch (error) {
      fill(body, h("tr", h("td", { colspan: 3 }, problem(error))));
    }
  }

  async function refreshHeader() {
    const { loadNamespaces } = await import("../app.js");
    await loadNamespaces();
  }

  async function create() {
    try {
      await request(nsPath(name.value.trim()), { method: "POST" });
      toast(`Namespace ${name.value.trim()} created`);
      await refreshHeader();
      go(`/ns/${encodeURIComponent(name.value.trim())}/workflows`);
    } catch (error) {
      toast(error.message, "error");
    }
  }

  async function remove(ns) {
    if (!(await confirmed(`Delete namespace ${ns}?`, "Everything in it goes: workflows, instances (running ones are cancelled), variables, secrets."))) return;
    try {
      await request(nsPath(ns), { method: "DELETE" });
      toast(`Namespace ${ns} deleted`);
      await refreshHeader();
      load();
    } catch (error) {
      toast(error.message, "error");
    }
  }

  await load();
}

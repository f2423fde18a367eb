// Secrets (names only: values go in and never come out) and registries (a URL with `user:token`).

import { nsPath, request, getJSON } from "../api.js";
import { confirmed, fill, h, problem, toast } from "../dom.js";

export function secretsPage({ ns }, query, view) {
  return sealedPage(view, ns, {
    title: "Secrets",
    about: "Actions that list a secret get it at .secrets.<name>. Values are encrypted at rest and never shown again.",
    path: "secrets",
    listOf: (answer) => answer.secrets.map((s) => s.name),
    fields: () => {
      const name = h("input", { name: "name", required: true, placeholder: "name", "aria-label": "secret name" });
      const value = h("input", { name: "value", type: "password", required: true, placeholder: "value", autocomplete: "new-password", "aria-label": "secret value" });
      return { inputs: [h("label", "Name ", name), h("label", "Value ", value)], read: () => ({ name: name.value.trim(), data: value.value }) };
    },
  });
}

export function registriesPage({ ns }, query, view) {
  return sealedPage(view, ns, {
    title: "Registries",
    about: "Credentials for container registries, used to pull function images.",
    path: "registries",
    listOf: (answer) => answer.registries.map((r) => r.name),
    fields: () => {
      const url = h("input", { name: "url", required: true, placeholder: "https://registry.example.com", "aria-label": "registry URL" });
      const user = h("input", { name: "user", required: true, placeholder: "user", "aria-label": "registry user" });
      const secret = h("input", { name: "token", type: "password", required: true, placeholder: "token", autocomplete: "new-password", "aria-label": "registry token" });
      return {
        inputs: [h("label", "URL ", url), h("label", "User ", user), h("label", "Token ", secret)],
        read: () => ({ name: url.value.trim(), data: `${user.value.trim()}:${secret.value}` }),
      };
    },
  });
}

async function sealedPage(view, ns, { title, about, path, listOf, fields }) {
  const base = `${nsPath(ns)}/${path}/`;
  const body = h("tbody");
  const { inputs, read } = fields();
  const form = h(
    "form.card.inline-form",
    { onsubmit: (event) => (event.preventDefault(), save()) },
    h("h2", `Add or replace`),
    h("div.form-row", inputs, h("button.primary", { type: "submit" }, "Save")),
  );
  view.append(
    h("div.page-head", h("h1", title), h("p.muted", about)),
    h("table.list", h("thead", h("tr", h("th", "Name"), h("th", ""))), body),
    form,
  );

  async function load() {
    try {
      const names = listOf(await getJSON(base));
      fill(body, names.length ? names.map(row) : h("tr", h("td.empty", { colspan: 2 }, `No ${title.toLowerCase()}.`)));
    } catch (error) {
      fill(body, h("tr", h("td", { colspan: 2 }, problem(error))));
    }
  }

  function row(name) {
    return h(
      "tr",
      { "data-name": name },
      h("td.mono", name),
      h(
        "td.right",
        h(
          "button.small.danger",
          {
            type: "button",
            onclick: async () => {
              if (!(await confirmed(`Delete ${name}?`, "Workflows that use it will fail until it is set again."))) return;
              try {
                await request(base, { method: "DELETE", body: JSON.stringify({ name }), type: "application/json" });
                toast(`${name} deleted`);
                load();
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

  async function save() {
    const value = read();
    try {
      await request(base, { method: "POST", body: JSON.stringify(value), type: "application/json" });
      toast(`${value.name} saved`);
      form.reset();
      load();
    } catch (error) {
      toast(error.message, "error");
    }
  }

  await load();
}

// Variables of a namespace or a workflow: list, view, download, delete, and set (typed text or an
// uploaded file; the MIME type is kept).

import { enc, getJSON, nsPath, request, wfPath } from "../api.js";
import { bytes, code, confirmed, dialog, fill, h, problem, saveFile, toast } from "../dom.js";

const TEXT_TYPES = /^(text\/|application\/(json|x-yaml|yaml|xml|javascript)|.*\+json|.*\+xml)/;
const VIEW_LIMIT = 1024 * 1024;

export async function variablesPage({ ns }, query, view) {
  view.append(h("div.page-head", h("h1", "Variables"), h("p.muted", `Namespace variables of ${ns}: every workflow of the namespace can read and write them.`)));
  const element = h("div");
  view.append(element);
  return variablesPanel({ ns, wf: null, element });
}

export async function variablesPanel({ ns, wf, element }) {
  const base = `${wf ? wfPath(ns, wf) : nsPath(ns)}/variables`;
  const body = h("tbody");
  const name = h("input", { name: "key", required: true, placeholder: "key", pattern: "[a-zA-Z]([a-zA-Z0-9_-]*[a-zA-Z0-9])?", "aria-label": "variable key" });
  const mime = h(
    "select",
    { name: "mime", "aria-label": "MIME type" },
    ["application/json", "text/plain", "application/x-yaml", "application/octet-stream"].map((m) => h("option", { value: m }, m)),
  );
  const value = h("textarea", { name: "value", rows: 5, placeholder: "value", "aria-label": "variable value" });
  const file = h("input", { type: "file", name: "file", "aria-label": "upload a file as the value" });
  const form = h(
    "form.set-variable.card",
    { onsubmit: (event) => (event.preventDefault(), submit()) },
    h("h2", "Set a variable"),
    h("div.form-row", h("label", "Key ", name), h("label", "Type ", mime)),
    value,
    h("div.form-row", h("label", "or upload a file ", file), h("span.spacer"), h("button.primary", { type: "submit" }, "Save")),
  );
  element.append(
    h("table.list.variables", h("thead", h("tr", ["Key", "Size", "Type", ""].map((t) => h("th", t)))), body),
    form,
  );

  async function load() {
    try {
      const { variables } = await getJSON(`${base}/`);
      fill(body, variables.length ? variables.map(row) : h("tr", h("td.empty", { colspan: 4 }, "No variables.")));
    } catch (error) {
      fill(body, h("tr", h("td", { colspan: 4 }, problem(error))));
    }
  }

  function row(variable) {
    const url = `${base}/${enc(variable.name)}`;
    return h(
      "tr",
      { "data-variable": variable.name },
      h("td.mono", variable.name),
      h("td.num", bytes(variable.size)),
      h("td", h("code", variable.mimeType)),
      h(
        "td.right",
        h("button.small", { type: "button", onclick: () => show(variable, url) }, "View"),
        h("button.small", { type: "button", onclick: () => download(variable, url) }, "Download"),
        h(
          "button.small.danger",
          {
            type: "button",
            onclick: async () => {
              if (!(await confirmed(`Delete ${variable.name}?`, "The value is gone for good."))) return;
              try {
                await request(url, { method: "DELETE" });
                toast(`${variable.name} deleted`);
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

  async function show(variable, url) {
    if (variable.size > VIEW_LIMIT) return dialog(variable.name, h("p", `${bytes(variable.size)}: too large to show here; download it.`));
    try {
      const data = await (await request(url)).arrayBuffer();
      let text;
      try {
        text = new TextDecoder("utf-8", { fatal: true }).decode(data);
      } catch {
        return dialog(variable.name, h("p", `${bytes(variable.size)} of binary data (${variable.mimeType}); download it to see it.`));
      }
      if (variable.mimeType.includes("json")) {
        try {
          text = JSON.stringify(JSON.parse(text), null, 2);
        } catch {
          // shown as stored
        }
      }
      dialog(variable.name, h("div.variable-view", h("p.muted", variable.mimeType), code(text)), [
        ["Edit", "edit"],
        ["Close", null],
      ]).then((choice) => {
        if (choice !== "edit") return;
        name.value = variable.name;
        value.value = text;
        if (TEXT_TYPES.test(variable.mimeType) && [...mime.options].some((o) => o.value === variable.mimeType)) mime.value = variable.mimeType;
        value.focus();
      });
    } catch (error) {
      toast(error.message, "error");
    }
  }

  async function download(variable, url) {
    try {
      saveFile(await (await request(url)).blob(), variable.name);
    } catch (error) {
      toast(error.message, "error");
    }
  }

  async function submit() {
    const key = name.value.trim();
    const upload = file.files[0];
    const payload = upload || value.value;
    const type = upload ? upload.type || "application/octet-stream" : mime.value;
    if (!upload && mime.value === "application/json" && value.value.trim()) {
      try {
        JSON.parse(value.value);
      } catch (error) {
        return toast(`The value is not valid JSON: ${error.message}`, "error");
      }
    }
    if (!upload && !value.value) return toast("Give a value or choose a file (an empty value would delete the variable)", "error");
    try {
      await request(`${base}/${enc(key)}`, { method: "POST", body: payload, type });
      toast(`${key} saved`);
      form.reset();
      load();
    } catch (error) {
      toast(error.message, "error");
    }
  }

  await load();
}

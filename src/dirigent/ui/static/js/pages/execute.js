// Execute a workflow: an input editor (JSON, checked as you type), then the new instance's page.

import { request, wfPath } from "../api.js";
import { dialog, h, toast } from "../dom.js";
import { createEditor } from "../editor.js";
import { instanceHash } from "../links.js";

const INPUT_KEY = (ns, wf) => `dirigent.input.${ns}/${wf}`;

/** Ask for the input and start an instance; goes to its page. */
export async function executeDialog(ns, wf) {
  const remembered = localStorage.getItem(INPUT_KEY(ns, wf)) || "{\n  \n}";
  const status = h("p.input-status.muted", " ");
  const check = (text) => {
    if (!text.trim()) {
      status.textContent = "An empty input starts with {\"input\": \"\"}.";
      status.className = "input-status muted";
      editor.setProblems([]);
      return true;
    }
    try {
      JSON.parse(text);
      status.textContent = "Valid JSON. An object becomes the data; any other value v becomes {\"input\": v}.";
      status.className = "input-status ok";
      editor.setProblems([]);
      return true;
    } catch (error) {
      const line = lineOf(text, error.message);
      status.textContent = `Not valid JSON: ${error.message}`;
      status.className = "input-status error";
      editor.setProblems(line ? [{ line, message: error.message, severity: "error" }] : []);
      return false;
    }
  };
  const editor = createEditor({ value: remembered, onChange: check, label: "Input" });
  editor.element.classList.add("input-editor");
  check(remembered);
  setTimeout(() => editor.focus());
  const answer = await dialog(`Run ${wf}`, h("div.execute", h("p", "Input (JSON):"), editor.element, status), [
    ["Cancel", false],
    ["Run ▶", true, "primary"],
  ]);
  if (!answer) return;
  const text = editor.value;
  if (!check(text)) {
    toast("The input is not valid JSON", "error");
    return executeDialog(ns, wf);
  }
  localStorage.setItem(INPUT_KEY(ns, wf), text);
  try {
    const started = await (await request(`${wfPath(ns, wf)}/execute`, { method: "POST", body: text, type: "application/json" })).json();
    location.hash = instanceHash(started.instanceId);
  } catch (error) {
    toast(error.message, "error");
  }
}

/** The line a JSON.parse message points at ("… at position 12" or "line 3 column 5"). */
function lineOf(text, message) {
  const line = message.match(/line (\d+)/);
  if (line) return Number(line[1]);
  const position = message.match(/position (\d+)/);
  if (position) return text.slice(0, Number(position[1])).split("\n").length;
  return null;
}

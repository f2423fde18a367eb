// YAML syntax highlighting, line by line, as HTML: keys, strings, numbers and constants, comments,
// list dashes, flow punctuation, block scalars, and `jq(...)` inside values. It only colours; the
// server checks the definition.

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" };

export function escape(text) {
  return text.replace(/[&<>"]/g, (c) => ESCAPES[c]);
}

const span = (cls, text) => (text ? `<span class="t-${cls}">${escape(text)}</span>` : "");

const KEY = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"{}[\],&*!|>%@`-][^#:]*?|-[^\s#:][^#:]*?)(\s*)(:)(?=\s|$)/;
const CONSTANT = /^(?:true|false|null|~|yes|no|on|off|[-+]?(?:\d[\d_]*(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+|0x[0-9a-fA-F]+|\.inf|\.nan))$/i;
const BLOCK = /^[|>][-+]?\d*$/;

/** HTML of each line of `text`. */
export function highlight(text) {
  const lines = text.split("\n");
  const out = new Array(lines.length);
  let block = null; // the indentation a block scalar's lines must exceed
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const indent = line.length - line.trimStart().length;
    if (block !== null) {
      if (!line.trim() || indent > block) {
        out[i] = span("str", line);
        continue;
      }
      block = null;
    }
    const result = highlightLine(line);
    out[i] = result.html;
    if (result.blockStarts) block = indent + result.dashes * 2;
  }
  return out;
}

function highlightLine(line) {
  let rest = line;
  let html = "";
  let dashes = 0;
  const lead = rest.match(/^\s*/)[0];
  html += lead;
  rest = rest.slice(lead.length);
  if (rest.startsWith("#")) return { html: html + span("comment", rest), blockStarts: false, dashes };
  if (/^---\s*$|^\.\.\.\s*$/.test(rest)) return { html: html + span("punct", rest), blockStarts: false, dashes };
  for (let dash; (dash = rest.match(/^-(\s+|$)/)); ) {
    html += span("dash", "-") + dash[1];
    rest = rest.slice(dash[0].length);
    dashes++;
  }
  const key = rest.match(KEY);
  if (key) {
    html += span("key", key[1]) + key[2] + span("punct", key[3]);
    rest = rest.slice(key[0].length);
  }
  const value = scanValue(rest);
  return { html: html + value.html, blockStarts: value.block, dashes };
}

/** The value part of a line: scalars, quoted strings, flow collections and a trailing comment. */
function scanValue(text) {
  let html = "";
  let i = 0;
  let block = false;
  let depth = 0; // inside flow collections, commas and brackets are punctuation
  while (i < text.length) {
    const c = text[i];
    if (c === " " || c === "\t") {
      html += c;
      i++;
    } else if (c === "#" && (i === 0 || /\s/.test(text[i - 1]))) {
      html += span("comment", text.slice(i));
      break;
    } else if (c === '"' || c === "'") {
      const end = closingQuote(text, i);
      html += strings(text.slice(i, end));
      i = end;
    } else if ("{[".includes(c) || (depth > 0 && "}],".includes(c))) {
      depth += c === "{" || c === "[" ? 1 : c === "," ? 0 : -1;
      html += span("punct", c);
      i++;
    } else {
      let end = i;
      const stops = depth > 0 ? /[,{}[\]]/ : /$^/;
      while (end < text.length && !stops.test(text[end]) && !(text[end] === "#" && /\s/.test(text[end - 1]))) {
        if (text.startsWith("jq(", end)) end = closingParen(text, end + 2);
        else end++;
      }
      const word = text.slice(i, end);
      const trimmed = word.trimEnd();
      const flowKey = depth > 0 && trimmed.match(/^([^:]+?)(\s*):(\s|$)/);
      if (flowKey && !trimmed.startsWith("jq(")) {
        html += span("key", flowKey[1]) + flowKey[2] + span("punct", ":");
        i += flowKey[0].length - flowKey[3].length;
        continue;
      }
      if (BLOCK.test(trimmed)) {
        html += span("punct", trimmed);
        block = true;
      } else if (CONSTANT.test(trimmed)) html += span("const", trimmed);
      else html += strings(trimmed, true);
      html += word.slice(trimmed.length);
      i = end;
    }
  }
  return { html, block };
}

function closingQuote(text, start) {
  const quote = text[start];
  for (let i = start + 1; i < text.length; i++) {
    if (quote === '"' && text[i] === "\\") i++;
    else if (text[i] === quote) {
      if (quote === "'" && text[i + 1] === "'") i++;
      else return i + 1;
    }
  }
  return text.length;
}

/** The index after the `)` that closes the `(` at `open` (or the end of the text). */
function closingParen(text, open) {
  let depth = 0;
  let quote = null;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = null;
    } else if (c === '"') quote = c;
    else if (c === "(") depth++;
    else if (c === ")" && --depth === 0) return i + 1;
  }
  return text.length;
}

/** A string with its `jq(...)` parts marked. */
function strings(text, plain = false) {
  let html = "";
  let at = 0;
  for (let found; (found = text.indexOf("jq(", at)) >= 0; ) {
    const end = closingParen(text, found + 2);
    html += span(plain ? "plain" : "str", text.slice(at, found)) + span("jq", text.slice(found, end));
    at = end;
  }
  return html + span(plain ? "plain" : "str", text.slice(at));
}

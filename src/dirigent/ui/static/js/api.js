// The only module that talks to the server: JSON requests, raw bytes, and Server-Sent Events read
// over fetch (EventSource cannot send an Authorization header). When the server answers 401, the
// UI asks for a token once, keeps it, and repeats the request with `Authorization: Bearer`.

const TOKEN_KEY = "dirigent.token";

/** An answer of the API that is not 2xx: its status and the server's message. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let askToken = async () => null; // replaced by the app: shows the token dialog
let pendingAsk = null;

export function onTokenNeeded(ask) {
  askToken = ask;
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || localStorage.getItem(TOKEN_KEY) || "";
}

export function setToken(value, remember) {
  forgetToken();
  if (value) (remember ? localStorage : sessionStorage).setItem(TOKEN_KEY, value);
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(TOKEN_KEY);
}

function headers(extra = {}) {
  const all = { ...extra };
  const current = token();
  if (current) all.Authorization = `Bearer ${current}`;
  return all;
}

async function messageOf(response) {
  const text = await response.text();
  try {
    const body = JSON.parse(text);
    if (body && typeof body.Message === "string") return body.Message;
  } catch {
    // not the API's JSON error body: show the text as it is
  }
  return text || `${response.status} ${response.statusText}`;
}

/** fetch with the token; on 401 asks for a token (one dialog for concurrent requests) and
 * repeats the request; throws ApiError for other failures. */
export async function request(path, { method = "GET", body, type, more = {}, signal } = {}) {
  for (let attempt = 0; ; attempt++) {
    const extra = { ...more };
    if (type) extra["Content-Type"] = type;
    let response;
    try {
      response = await fetch(path, { method, body, headers: headers(extra), signal });
    } catch (error) {
      if (error.name === "AbortError") throw error;
      throw new ApiError(0, `the server cannot be reached (${error.message})`);
    }
    if (response.status === 401 && attempt < 3) {
      const message = await messageOf(response);
      // One dialog for all the requests refused meanwhile (set before anything else awaits).
      pendingAsk ??= askToken(message).finally(() => (pendingAsk = null));
      if (await pendingAsk) continue;
      throw new ApiError(401, "a token is needed to use this server");
    }
    if (!response.ok) throw new ApiError(response.status, await messageOf(response));
    return response;
  }
}

export async function getJSON(path, options) {
  return (await request(path, options)).json();
}

/** Follow a Server-Sent Events stream: `onEvent(name, data, id)` for each event. Reconnects with
 * Last-Event-ID after a dropped connection, until an `end` or `error` event or `close()`. */
export function follow(path, onEvent, { onProblem = () => {} } = {}) {
  const control = new AbortController();
  let lastId = null;
  let closed = false;
  const close = () => {
    closed = true;
    control.abort();
  };
  (async () => {
    for (let failures = 0; !closed; ) {
      try {
        const extra = { Accept: "text/event-stream" };
        if (lastId !== null) extra["Last-Event-ID"] = String(lastId);
        const response = await request(path, { more: extra, signal: control.signal });
        failures = 0;
        const finished = await readEvents(response, (name, data, id) => {
          if (id !== null) lastId = id;
          onEvent(name, data, id);
          return name === "end" || name === "error";
        });
        if (finished) return close();
      } catch (error) {
        if (closed || error.name === "AbortError") return;
        if (error instanceof ApiError && error.status >= 400 && error.status < 500) {
          onProblem(error);
          return close();
        }
        failures++;
        onProblem(error);
      }
      if (!closed) await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 500 * 2 ** failures)));
    }
  })();
  return { close };
}

async function readEvents(response, handle) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return false;
    buffer += decoder.decode(value, { stream: true });
    let split;
    while ((split = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const block = buffer.slice(0, split);
      buffer = buffer.slice(split).replace(/^\r?\n\r?\n/, "");
      let name = "message";
      let id = null;
      const data = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") name = text;
        else if (field === "id") id = Number(text);
        else if (field === "data") data.push(text);
      }
      if (!data.length) continue;
      let parsed;
      try {
        parsed = JSON.parse(data.join("\n"));
      } catch {
        parsed = data.join("\n");
      }
      if (handle(name, parsed, id)) {
        reader.cancel().catch(() => {});
        return true;
      }
    }
  }
}

// Paths

export const enc = encodeURIComponent;
export const nsPath = (ns) => `/api/namespaces/${enc(ns)}`;
export const wfPath = (ns, wf) => `${nsPath(ns)}/workflows/${enc(wf)}`;
/** An instance's URL from its full id `<ns>/<wf>/<random>`. */
export const instancePath = (id) => `/api/instances/${id.split("/").map(enc).join("/")}`;

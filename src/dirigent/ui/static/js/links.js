// The UI's own addresses (hashes) of things.

const enc = encodeURIComponent;

export const workflowHash = (ns, wf, tab = "") => `#/ns/${enc(ns)}/workflows/${enc(wf)}${tab ? "/" + tab : ""}`;

/** The page of an instance, from its full id `<ns>/<wf>/<random>`. */
export function instanceHash(id) {
  const [ns, wf, random] = id.split("/");
  return `#/ns/${enc(ns)}/instances/${enc(wf)}/${enc(random)}`;
}

/** Where an unsaved definition waits while the user looks at another tab. */
export const draftKey = (ns, wf) => `dirigent.draft.${ns}/${wf}`;

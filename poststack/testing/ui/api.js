// The sandbox's inbox API (/_sandbox/...), as small async functions.
//
// Mutating calls send Content-Type: application/json: the sandbox requires it
// (with the page's own Origin) on every POST and DELETE, so another site
// open in the same browser cannot clear the inbox or fire webhooks.

export const PREFIX = "/_sandbox";

/** A failed inbox API call, carrying the sandbox's error message. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

async function call(method, path, body) {
  const init = { method, headers: { Accept: "application/json" }, cache: "no-store" };
  if (method !== "GET") {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body ?? {});
  }
  let response;
  try {
    response = await fetch(PREFIX + path, init);
  } catch {
    throw new ApiError(0, "The sandbox is not answering. Is it still running?");
  }
  const text = await response.text();
  let value = null;
  if (text) {
    try {
      value = JSON.parse(text);
    } catch {
      value = null;
    }
  }
  if (!response.ok) {
    const message =
      (value && typeof value === "object" && (value.error || value.message)) ||
      `${response.status} ${response.statusText}`.trim();
    throw new ApiError(response.status, String(message));
  }
  return value;
}

/** One id as a path segment. */
const seg = (id) => encodeURIComponent(id);

/** GET /messages with search filters ({q, from, to, subject, tag, status}) and a page. */
export function listMessages(filters, { limit, offset = 0 }) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filters)) {
    if (value) params.set(key, value);
  }
  params.set("limit", String(limit));
  params.set("offset", String(offset));
  return call("GET", `/messages?${params}`);
}

export const getMessage = (id) => call("GET", `/messages/${seg(id)}`);
export const bounce = (id, type) => call("POST", `/messages/${seg(id)}/bounce`, { type });
export const complain = (id) => call("POST", `/messages/${seg(id)}/complain`, {});
export const clearInbox = () => call("DELETE", "/messages");

export const getFaults = () => call("GET", "/faults");
export const addFaults = (plan) => call("POST", "/faults", plan);
export const clearFaults = () => call("DELETE", "/faults");

export const getClock = () => call("GET", "/clock");
export const advanceClock = (seconds) => call("POST", "/clock/advance", { seconds });

/** URLs the page links to directly (the iframe, downloads, raw parts). */
export const urls = {
  html: (id) => `${PREFIX}/messages/${seg(id)}/html`,
  text: (id) => `${PREFIX}/messages/${seg(id)}/text`,
  attachment: (id, index) => `${PREFIX}/messages/${seg(id)}/attachments/${seg(index)}`,
  stream: `${PREFIX}/stream`,
};

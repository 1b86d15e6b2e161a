// The only way the client talks to the server: /api/v1, with the session's tokens. Tokens live
// in sessionStorage (this tab only); an expired access token is refreshed once, and a session
// that cannot be refreshed raises SignedOut so the shell can ask for a sign-in and come back.
import { clearDrafts } from "./drafts.js";

const BASE = "/api/v1";
const KEY = "eoffice.session";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    this.type = (problem.type || "").replace("urn:eoffice:problem:", "");
  }
}

export class SignedOut extends ApiError {}

export function session() {
  try { return JSON.parse(sessionStorage.getItem(KEY)); } catch { return null; }
}

export function saveSession(tokens, me) {
  const old = session() || {};
  sessionStorage.setItem(KEY, JSON.stringify({ ...old, ...tokens, ...(me ? { me } : {}) }));
}

export function clearSession() { sessionStorage.removeItem(KEY); }

/** A fresh idempotency key: one per user action, reused when that action is retried. */
export function newKey() { return crypto.randomUUID(); }

async function problemOf(response) {
  try { return await response.json(); } catch { return { title: response.statusText }; }
}

async function refresh() {
  const s = session();
  if (!s?.refresh_token) return false;
  const response = await fetch(`${BASE}/auth/refresh`, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ refresh_token: s.refresh_token }),
  });
  if (!response.ok) return false;
  saveSession(await response.json());
  return true;
}

/**
 * Calls the API; returns the parsed JSON (or text, or Response with `raw`), throws ApiError
 * with the problem+json body, or SignedOut when the session is gone.
 * Changes carry `key` as Idempotency-Key (one is made when not given).
 */
export async function call(method, path, { body, key, raw, form, retried } = {}) {
  const headers = {};
  const s = session();
  if (s?.access_token) headers.authorization = `Bearer ${s.access_token}`;
  if (method !== "GET") headers["idempotency-key"] = key || newKey();
  let payload;
  if (form) payload = form;
  else if (body !== undefined) { headers["content-type"] = "application/json"; payload = JSON.stringify(body); }
  let response;
  try {
    response = await fetch(BASE + path, { method, headers, body: payload });
  } catch (e) {
    if (!retried && method === "GET") return call(method, path, { body, key, raw, form, retried: true });
    throw new ApiError(0, { type: "unavailable", title: String(e) });
  }
  if (response.status === 401 && s?.refresh_token && !retried && !path.startsWith("/auth/sign-in")) {
    if (await refresh()) return call(method, path, { body, key: headers["idempotency-key"], raw, form, retried: true });
    throw new SignedOut(401, await problemOf(response));
  }
  if (!response.ok) {
    const problem = await problemOf(response);
    if (response.status === 401 && s?.access_token) throw new SignedOut(401, problem);
    throw new ApiError(response.status, problem);
  }
  if (raw) return response;
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  return type.includes("json") ? response.json() : response.text();
}

export const get = (path) => call("GET", path);
export const post = (path, body, key) => call("POST", path, { body, key });
export const put = (path, body, key) => call("PUT", path, { body, key });
export const patch = (path, body, key) => call("PATCH", path, { body, key });

/**
 * The items of a paged list from `cursor` on (the start when null), pages of 200, until about
 * `max`: {items, next_cursor}, the cursor null when nothing is left.
 */
export async function pages(path, max = 1000, cursor = null) {
  const items = [];
  const sep = path.includes("?") ? "&" : "?";
  do {
    const page = await get(`${path}${sep}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return { items, next_cursor: cursor };
}

/** Every item of a paged list, following next_cursor up to `max` items. */
export async function all(path, max = 1000) { return (await pages(path, max)).items; }

/** A document fetched with the token, as an object URL for <img> or <iframe> (revoke it later). */
export async function blobUrl(path) {
  const response = await call("GET", path, { raw: true });
  return URL.createObjectURL(await response.blob());
}

/** A multipart upload with progress (fetch cannot report upload progress; XHR can). */
export function upload(path, form, { key, onProgress } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", BASE + path);
    const s = session();
    if (s?.access_token) xhr.setRequestHeader("authorization", `Bearer ${s.access_token}`);
    xhr.setRequestHeader("idempotency-key", key || newKey());
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress?.(e.loaded / e.total);
    xhr.onload = () => {
      let body;
      try { body = JSON.parse(xhr.responseText); } catch { body = { title: xhr.statusText }; }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else if (xhr.status === 401) reject(new SignedOut(401, body));
      else reject(new ApiError(xhr.status, body));
    };
    xhr.onerror = () => reject(new ApiError(0, { type: "unavailable", title: "network" }));
    xhr.send(form);
  });
}

export async function signIn(email, password, postCode) {
  const tokens = await call("POST", "/auth/sign-in", { body: { email, password, ...(postCode ? { post_code: postCode } : {}) } });
  saveSession(tokens);
  saveSession({}, await get("/auth/me"));
  return session();
}

/** Acts as `postCode` from now on; the session (null answered) is left as it is when `fresh()`
 * says another post was chosen meanwhile: that choice, the later one, is the one kept. */
export async function actAs(postCode, fresh = () => true) {
  const tokens = await post("/auth/act-as", { post_code: postCode });
  if (!fresh()) return null;
  saveSession(tokens);
  const me = await get("/auth/me");
  if (!fresh()) return null;
  saveSession({}, me);
  return session();
}

/** Ends the session here and at the server, and forgets the unsaved notes kept in this browser. */
export async function signOut() {
  try { await call("POST", "/auth/sign-out"); } catch { /* the session may be gone already */ }
  clearSession();
  clearDrafts();
}

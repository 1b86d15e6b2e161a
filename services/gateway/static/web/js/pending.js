// Work that must not be lost when the session ends mid-way (a note being written): the request
// is kept in localStorage with its idempotency key, and sent again, once, after the next sign-in
// as the same person. The key makes a second arrival harmless.
import { call, SignedOut, session } from "./api.js";

const KEY = "eoffice.pending";

function load() { try { return JSON.parse(localStorage.getItem(KEY)) || []; } catch { return []; } }

/** Sends a change; if the session is gone, keeps it for after the sign-in (and then removes the
 * localStorage item `clear`) and rethrows. */
export async function sendKept(method, path, body, key, clear) {
  try {
    return await call(method, path, { body, key });
  } catch (e) {
    if (e instanceof SignedOut) {
      const who = session()?.me?.email || sessionStorage.getItem("eoffice.lastEmail");
      localStorage.setItem(KEY, JSON.stringify([...load(), { method, path, body, key, who, clear }]));
    }
    throw e;
  }
}

/** Sends what was kept for this user; returns how many went through. */
export async function resend() {
  const me = session()?.me?.email;
  const kept = load();
  const left = [];
  let sent = 0;
  for (const item of kept) {
    if (item.who && item.who !== me) { left.push(item); continue; }
    try {
      await call(item.method, item.path, { body: item.body, key: item.key });
      if (item.clear) localStorage.removeItem(item.clear); // the text kept while typing is sent now
      sent++;
    }
    catch (e) { if (e instanceof SignedOut) left.push(item); }
  }
  localStorage.setItem(KEY, JSON.stringify(left));
  return sent;
}

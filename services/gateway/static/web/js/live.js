// Live notifications: GET /notifications/stream (server-sent events) read with fetch, because
// EventSource cannot send the Authorization header. Each new notification bumps the badge in
// the menu and is announced politely; the inbox redraws when it is on screen. The texts come in
// the language the screen is in (`lang`): switching it reconnects (`relisten`). Reconnects with
// Last-Event-ID (the greatest id heard: one committed late, below it, may come after a greater
// one) after a drop, and stops when the session ends.
import { session } from "./api.js";
import { lang } from "./i18n.js";

let running = null; // the whole loop
let connection = null; // the stream being read now

/** Reads the stream from the notification id `from` on (none: from now), handing each to `onNotification`. */
export function startLive(onNotification, from = null) {
  if (running) return;
  running = new AbortController();
  const loop = running;
  let last = from;
  const wait = (ms) => new Promise((r) => setTimeout(r, ms));
  (async () => {
    while (!loop.signal.aborted && session()?.access_token) {
      connection = new AbortController();
      const stop = () => connection.abort();
      loop.signal.addEventListener("abort", stop);
      try {
        const headers = { authorization: `Bearer ${session().access_token}` };
        if (last !== null) headers["last-event-id"] = String(last);
        const response = await fetch(`/api/v1/notifications/stream?lang=${lang()}`, { headers, signal: connection.signal });
        if (!response.ok) { await wait(response.status === 401 ? 5000 : 10000); continue; }
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, end); buffer = buffer.slice(end + 2);
            const id = Number(block.match(/^id: (.*)$/m)?.[1]);
            const data = block.match(/^data: (.*)$/m)?.[1];
            if (id && (last === null || id > last)) last = id;
            if (data && /^event: notification$/m.test(block)) onNotification(JSON.parse(data));
          }
        }
      } catch (e) {
        if (loop.signal.aborted) return;
        if (e.name !== "AbortError") await wait(5000); // aborted by relisten(): at once, in the new language
      } finally {
        loop.signal.removeEventListener("abort", stop);
      }
    }
  })();
}

/** The language changed: the stream is read again in it, from where it was (nothing missed). */
export function relisten() { connection?.abort(); }

export function stopLive() { running?.abort(); running = null; }

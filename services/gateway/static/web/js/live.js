// Live notifications: GET /notifications/stream (server-sent events) read with fetch, because
// EventSource cannot send the Authorization header. Each new notification bumps the badge in
// the menu and is announced politely; the inbox redraws when it is on screen. Reconnects with
// Last-Event-ID after a drop, and stops when the session ends.
import { session } from "./api.js";

let running = null;

export function startLive(onNotification) {
  if (running) return;
  running = new AbortController();
  let last = null;
  const loop = async () => {
    while (running && session()?.access_token) {
      try {
        const headers = { authorization: `Bearer ${session().access_token}` };
        if (last) headers["last-event-id"] = last;
        const response = await fetch("/api/v1/notifications/stream", { headers, signal: running.signal });
        if (!response.ok) { await new Promise((r) => setTimeout(r, response.status === 401 ? 5000 : 10000)); continue; }
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, end); buffer = buffer.slice(end + 2);
            const id = block.match(/^id: (.*)$/m)?.[1];
            const data = block.match(/^data: (.*)$/m)?.[1];
            if (id) last = id;
            if (data && /^event: notification$/m.test(block)) onNotification(JSON.parse(data));
          }
        }
      } catch (e) {
        if (e.name === "AbortError") return;
        await new Promise((r) => setTimeout(r, 5000));
      }
    }
  };
  loop();
}

export function stopLive() { running?.abort(); running = null; }

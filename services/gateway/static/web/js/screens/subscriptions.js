// Portal subscriptions (system admin; API /subscriptions, docs/subscribers.md): the list and a
// form to register one (problems shown at their fields; the secret shown once), and for one
// subscription its state, the delivery log, the dead letters with a replay, rotating the
// secret and stopping it.
import { get, call, newKey } from "../api.js";
import { show, h, field, values, showProblem, clearProblems, notice, userText, loadMoreInto, wide } from "../dom.js";
import { t, word, fmtNum, fmtDateTime } from "../i18n.js";
import { route } from "../app.js";

const list = (text) => text.split(/[\s,]+/).filter(Boolean);
const when = (v) => (v ? h("time", { datetime: v }, fmtDateTime(v)) : "");
const yes = (v) => (v ? t("yes") : t("no"));

/** The secret, once: the admin must copy it now. */
function secretShown(made) {
  return h("div", { class: "notice ok", role: "status" }, h("p", {}, t("secretOnce")),
    h("p", {}, h("code", { class: "code secret", lang: "en" }, made.secret)));
}

function registerForm(onMade) {
  let key = newKey();
  const form = h("form", { class: "card", novalidate: true, "aria-labelledby": "reg-h" },
    h("div", { class: "grid" },
      field({ name: "name", label: t("subName"), required: true }),
      field({ name: "delivery", label: t("subDelivery"), type: "select", value: "webhook",
        options: [["webhook", t("delivery_webhook")], ["amqp", t("delivery_amqp")]] }),
      field({ name: "url", label: t("subUrl"), type: "url", hint: t("subUrlHint") }),
      field({ name: "event_types", label: t("subEventTypes"), required: true, hint: t("subEventTypesHint"), attrs: { lang: "en" } }),
      field({ name: "offices", label: t("subOffices"), hint: t("subOfficesHint") }),
      field({ name: "contact_email", label: t("subContact"), type: "email" })),
    field({ name: "note_text", label: t("subNoteText"), type: "checkbox" }),
    h("button", { type: "submit", class: "primary" }, t("subRegister")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearProblems(form);
    const v = values(form);
    const body = { name: v.name, delivery: v.delivery, url: v.url || null, event_types: list(v.event_types),
      offices: list(v.offices), note_text: v.note_text, contact_email: v.contact_email || null };
    try {
      const made = await call("POST", "/subscriptions", { key, body });
      key = newKey();
      form.reset();
      onMade(made);
    } catch (err) { showProblem(form, err); }
  });
  return form;
}

async function renderList(main) {
  const subs = await get("/subscriptions");
  const made = h("div", { "aria-live": "polite" });
  const form = registerForm((s) => {
    sessionStorage.setItem("eoffice.secret", JSON.stringify({ id: s.id, secret: s.secret }));
    location.hash = `#/subscriptions/${s.id}`;
  });
  const rows = subs.map((s) => h("tr", {},
    h("td", {}, h("a", { href: `#/subscriptions/${s.id}` }, userText(s.name))),
    h("td", {}, t(`delivery_${s.delivery}`)), h("td", { lang: "en" }, s.event_types.join(" ")),
    h("td", {}, s.active ? t("subActive") : t("subStopped")), h("td", {}, s.failing ? h("strong", {}, t("subFailing")) : t("subHealthy"))));
  show(main, h("h1", {}, t("subscriptions")), h("p", {}, h("a", { href: "#/admin" }, t("admin"))), made,
    subs.length ? wide(t("subscriptions"), h("table", { class: "list" }, h("caption", {}, t("subscriptions")),
      h("thead", {}, h("tr", {}, [t("subName"), t("subDelivery"), t("subEventTypes"), t("state"), t("subHealth")].map((x) => h("th", { scope: "col" }, x)))),
      h("tbody", {}, rows))) : h("p", {}, t("nothing")),
    h("section", { "aria-labelledby": "reg-h" }, h("h2", { id: "reg-h" }, t("subRegister")), form));
}

const LOG_PAGE = 100;

/** One attempt of the delivery log, as a table row. */
function attemptRow(a) {
  return h("tr", {}, h("td", {}, when(a.at)), h("td", { lang: "en" }, a.event_type),
    h("td", {}, a.status ? String(a.status) : t("subNoAnswer"), " ", a.ok ? t("subOk") : t("subFailed")),
    h("td", { lang: "en" }, a.error || ""), h("td", {}, word("dstate", a.state)));
}

async function renderOne(main, id) {
  const [s, log, dead] = await Promise.all([get(`/subscriptions/${id}`), get(`/subscriptions/${id}/deliveries?limit=${LOG_PAGE}`),
    get(`/subscriptions/${id}/dead-letters`)]);
  const kept = JSON.parse(sessionStorage.getItem("eoffice.secret") || "null");
  sessionStorage.removeItem("eoffice.secret");
  const fresh = h("div", { "aria-live": "polite" }, kept?.id === id ? secretShown(kept) : null);
  const facts = h("dl", { class: "facts" },
    [["subDelivery", t(`delivery_${s.delivery}`)], ["subUrl", s.url], ["subEventTypes", s.event_types.join(" ")],
      ["subOffices", s.offices.join(" ") || t("subAllOffices")], ["subNoteText", yes(s.note_text)], ["subContact", s.contact_email],
      ["state", s.active ? t("subActive") : t("subStopped")], ["subHealth", s.failing ? t("subFailing") : t("subHealthy")],
      ["subFailures", s.failures_in_a_row ? fmtNum(s.failures_in_a_row) : null], ["subLastError", s.last_error],
      ["subOldSecretUntil", s.previous_secret_valid_until ? fmtDateTime(s.previous_secret_valid_until) : null],
      ["subQueue", s.amqp?.queue]]
      .filter(([, v]) => v).map(([k, v]) => [h("dt", {}, t(k)), h("dd", { lang: /^[\x00-\x7f]*$/.test(v) ? "en" : null }, v)]));
  const counts = h("p", {}, Object.entries(log.deliveries).map(([state, n]) => `${word("dstate", state)}: ${fmtNum(n)}`).join(" · "));
  const logRows = h("tbody", {}, log.items.map(attemptRow));
  const attempts = log.items.length ? [wide(t("subLog"), h("table", { class: "list" }, h("caption", {}, t("subLog")),
    h("thead", {}, h("tr", {}, [t("subAt"), t("subEvent"), t("subAnswer"), t("subError"), t("state")].map((x) => h("th", { scope: "col" }, x)))),
    logRows)), loadMoreInto(logRows, log.next_cursor,
    (cursor) => get(`/subscriptions/${id}/deliveries?limit=${LOG_PAGE}&cursor=${encodeURIComponent(cursor)}`), attemptRow)]
    : h("p", {}, t("nothing"));
  const replayKey = newKey();
  const replay = h("form", { class: "inline-form", novalidate: true, "aria-label": t("subReplay") },
    h("button", { type: "submit", class: "primary" }, t("subReplay")));
  replay.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const r = await call("POST", `/subscriptions/${id}/dead-letters/replay`, { key: replayKey, body: {} });
      sessionStorage.setItem("eoffice.flash", t("subReplayed", { n: fmtNum(r.replayed) }));
      route();
    } catch (err) { showProblem(replay, err); }
  });
  const deadList = dead.length ? [wide(t("subDead"), h("table", { class: "list" }, h("caption", {}, t("subDead")),
    h("thead", {}, h("tr", {}, [t("subAt"), t("subEvent"), t("subAttempts"), t("subError")].map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", {}, dead.map((d) => h("tr", {}, h("td", {}, when(d.event_time)), h("td", { lang: "en" }, d.event_type),
      h("td", {}, fmtNum(d.attempts)), h("td", { lang: "en" }, d.last_error || "")))))), replay] : h("p", {}, t("subNoDead"));
  const rotateKey = newKey();
  const rotate = h("form", { class: "card", novalidate: true, "aria-labelledby": "rot-h" },
    field({ name: "overlap_hours", label: t("subOverlap"), type: "number", value: "24", hint: t("subOverlapHint"), attrs: { min: "0", max: "720" } }),
    h("button", { type: "submit" }, t("subRotate")));
  rotate.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const r = await call("POST", `/subscriptions/${id}/rotate-secret`, { key: rotateKey, body: { overlap_hours: Number(values(rotate).overlap_hours) } });
      fresh.replaceChildren(secretShown(r));
      fresh.querySelector("p").setAttribute("tabindex", "-1");
      fresh.querySelector("p").focus();
    } catch (err) { showProblem(rotate, err); }
  });
  show(main, h("h1", {}, `${t("subscription")}: `, userText(s.name)),
    h("p", {}, h("a", { href: "#/subscriptions" }, t("subscriptions"))), fresh, facts,
    h("section", { "aria-labelledby": "dead-h" }, h("h2", { id: "dead-h" }, t("subDead")), deadList),
    h("section", { "aria-labelledby": "log-h" }, h("h2", { id: "log-h" }, t("subLog")), counts, attempts),
    s.active && s.delivery === "webhook" ? h("section", { "aria-labelledby": "rot-h" }, h("h2", { id: "rot-h" }, t("subRotate")), rotate) : null);
}

export async function render(main, id) {
  return id ? renderOne(main, id) : renderList(main);
}

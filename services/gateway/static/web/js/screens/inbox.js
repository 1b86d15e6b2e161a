// The inbox of the post acted as: receipts (GET /inbox) and files (GET /files), with filters.
// Every pending item is loaded (pages of 200) and drawn as one table; rows off screen are not
// laid out (content-visibility), so 500 items scroll smoothly. Live updates plug in here when
// notifications exist: call `refresh()` on an event.
import { all, session } from "../api.js";
import { show, h, userText } from "../dom.js";
import { t, word, fmtDate, fmtNum, todayIST } from "../i18n.js";

const DEFAULTS = { tab: "receipts", unread: false, overdue: false, kind: "", parked: false };
// Kept while moving between screens; a new sign-in (or another post) starts from the defaults.
const state = { ...DEFAULTS, who: null };

function query() {
  const q = new URLSearchParams();
  if (state.tab === "sent") return null;
  if (state.tab === "receipts") {
    if (state.unread) q.set("unread", "true");
    if (state.overdue) q.set("overdue", "true");
    if (state.kind) q.set("kind", state.kind);
    return `/inbox?${q}`;
  }
  if (state.overdue) q.set("overdue", "true");
  if (state.parked) q.set("parked", "true");
  return `/files?${q}`;
}

function receiptRow(r, today) {
  const late = r.due_date && r.due_date < today;
  return h("tr", { class: [r.opened ? "" : "unread", late ? "late" : ""].join(" ") },
    h("td", {}, h("a", { href: `#/receipts/${r.id}` }, r.diary_number), r.opened ? null : h("span", { class: "tag new" }, t("new"))),
    h("td", {}, userText(r.subject)),
    h("td", {}, userText(r.sender_name)),
    h("td", {}, fmtDate(r.received_date)),
    h("td", {}, fmtDate(r.due_date), late ? h("span", { class: "tag late" }, t("overdueTag")) : null),
    h("td", {}, t(`priority_${r.priority}`)));
}

function fileRow(f, today) {
  const late = f.due_date && f.due_date < today;
  return h("tr", { class: [f.opened ? "" : "unread", late ? "late" : ""].join(" ") },
    h("td", {}, h("a", { href: `#/files/${f.id}` }, f.file_number), f.opened ? null : h("span", { class: "tag new" }, t("new"))),
    h("td", {}, userText(f.subject)),
    h("td", {}, word("st", f.status)),
    h("td", {}, fmtDate(f.held_since)),
    h("td", {}, fmtDate(f.due_date), late ? h("span", { class: "tag late" }, t("overdueTag")) : null),
    h("td", {}, t(`priority_${f.priority}`)));
}

function sentReceiptRow(r) {
  return h("tr", {}, h("td", {}, h("a", { href: `#/receipts/${r.id}` }, r.diary_number)), h("td", {}, userText(r.subject)),
    h("td", {}, r.holder_post, r.opened ? null : h("span", { class: "tag new" }, t("notOpened"))), h("td", {}, fmtDate(r.due_date)));
}

function sentFileRow(f) {
  return h("tr", {}, h("td", {}, h("a", { href: `#/files/${f.id}` }, f.file_number)), h("td", {}, userText(f.subject)),
    h("td", {}, f.holder_post, f.opened ? null : h("span", { class: "tag new" }, t("notOpened"))), h("td", {}, fmtDate(f.due_date)));
}

export async function render(main) {
  const who = `${session()?.me?.email}/${session()?.acting_as}`;
  if (state.who !== who) Object.assign(state, DEFAULTS, { who });
  const body = h("div", { class: "inbox-body" });
  const filters = h("form", { class: "filters", "aria-label": t("inbox") });
  async function refresh() {
    body.replaceChildren(h("p", { class: "loading" }, t("loading")));
    const today = todayIST();
    if (state.tab === "sent") return drawSent(today);
    const items = await all(query(), 1000);
    const receipts = state.tab === "receipts";
    const heads = receipts ? ["diaryNumber", "subject", "from", "received", "due", "priority"]
      : ["file", "subject", "state", "since", "due", "priority"];
    body.replaceChildren(
      h("p", { role: "status", class: "count" }, t("count", { n: items.length })),
      items.length ? h("div", { class: "table-wrap", tabindex: "0", "aria-label": t(state.tab) }, h("table", { class: "list" },
        h("caption", { class: "visually-hidden" }, t(state.tab)),
        h("thead", {}, h("tr", {}, heads.map((k) => h("th", { scope: "col" }, t(k))))),
        h("tbody", {}, items.map((i) => (receipts ? receiptRow(i, today) : fileRow(i, today))))))
        : h("p", {}, t("nothing")));
  }
  // What this post sent that others hold now (GET /receipts/sent, /files/sent): open one to pull it back.
  async function drawSent(today) {
    const [receipts, files] = await Promise.all([all("/receipts/sent", 1000), all("/files/sent", 1000)]);
    const section = (key, items, row, heads) => h("section", { "aria-label": t(key) }, h("h2", {}, t(key), ` (${fmtNum(items.length)})`),
      items.length ? h("div", { class: "table-wrap", tabindex: "0", "aria-label": t(key) }, h("table", { class: "list" },
        h("thead", {}, h("tr", {}, heads.map((k) => h("th", { scope: "col" }, t(k))))),
        h("tbody", {}, items.map((i) => row(i, today))))) : h("p", {}, t("nothing")));
    body.replaceChildren(h("p", { role: "status", class: "count" }, t("count", { n: receipts.length + files.length })),
      section("receipts", receipts, sentReceiptRow, ["diaryNumber", "subject", "holder", "due"]),
      section("files", files, sentFileRow, ["file", "subject", "holder", "due"]));
  }

  function drawFilters() {
    const tab = (name) => h("button", { type: "button", role: "tab", "aria-selected": String(state.tab === name),
      onclick: () => { state.tab = name; drawFilters(); refresh(); } }, t(name));
    const check = (name, label) => h("label", { class: "inline" },
      h("input", { type: "checkbox", checked: state[name], onchange: (e) => { state[name] = e.target.checked; refresh(); } }), " ", t(label));
    const kindId = "inbox-kind";
    filters.replaceChildren(
      h("div", { role: "tablist", class: "tabs" }, tab("receipts"), tab("files"), tab("sent")),
      state.tab === "sent" ? null : state.tab === "receipts" ? check("unread", "unread") : check("parked", "parked"),
      state.tab === "sent" ? null : check("overdue", "overdue"),
      state.tab === "receipts" ? h("span", { class: "inline" }, h("label", { for: kindId }, t("kind")), " ",
        h("select", { id: kindId, onchange: (e) => { state.kind = e.target.value; refresh(); } },
          [["", "any"], ["physical", "physical"], ["electronic", "electronic"]].map(([v, k]) =>
            h("option", { value: v, selected: state.kind === v }, t(k))))) : null);
  }
  drawFilters();
  show(main, h("h1", {}, t("inbox")), filters, body);
  await refresh();
}

// The inbox of the post acted as: receipts (GET /inbox) and files (GET /files), with filters,
// and what it sent (the Sent tab). The first 1,000 items are loaded (pages of 200) and drawn
// as one table; rows off screen are not laid out (content-visibility), so 500 items scroll
// smoothly; "Load more" under the table adds the next 1,000. The tab is kept in the address
// (#/inbox?tab=files). A live notification draws the lists again (renew, from app.js), under the
// filters as the user has them at that moment.
import { pages, session, SignedOut } from "../api.js";
import { show, h, userText, failed, loadMore, lastAsked, wide } from "../dom.js";
import { t, word, fmtDate, fmtUnread, todayIST } from "../i18n.js";

const TABS = ["receipts", "files", "sent"];
const MANY = 1000; // items loaded at a time: the first draw, then each "Load more"
const DEFAULTS = { tab: "receipts", unread: false, overdue: false, kind: "", parked: false };
// Kept while moving between screens; a new sign-in (or another post) starts from the defaults.
const state = { ...DEFAULTS, who: null };
let shown = null; // the inbox on screen: {body, refresh}

/** A live notification: the inbox on screen draws its lists again, its old ones kept until then.
 * Its filters stay as they are (one changed while the lists are asked for is asked for in turn). */
export function renew() {
  if (shown?.body.isConnected) shown.refresh({ keep: true });
}

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

/** The tab in the address, so that a reload, or coming back, shows it again (no redraw: replaceState). */
function keepTab() {
  const hash = state.tab === "receipts" ? "#/inbox" : `#/inbox?tab=${state.tab}`;
  if (location.hash !== hash) history.replaceState(null, "", hash);
}

/**
 * A paged list drawn as a table, with "Load more" under it while the list goes on. `page` is
 * the first page ({items, next_cursor}); `counted(n, more)` hears how many are shown and
 * whether there are more.
 */
function table(label, heads, page, drawRow, path, counted) {
  let shown = page.items.length;
  counted(shown, !!page.next_cursor);
  if (!shown) return [h("p", {}, t("nothing"))];
  // Each cell names its column (data-label): on a phone the rows are stacked, a cell a line (app.css).
  const names = heads.map((k) => t(k));
  const row = (item) => {
    const tr = drawRow(item);
    [...tr.cells].forEach((td, i) => { td.dataset.label = names[i]; });
    return tr;
  };
  const tbody = h("tbody", {}, page.items.map(row));
  return [wide(label, h("table", { class: "list stack" },
    h("caption", { class: "visually-hidden" }, label),
    h("thead", {}, h("tr", {}, heads.map((k) => h("th", { scope: "col" }, t(k))))), tbody)),
  loadMore(page.next_cursor, (cursor) => pages(path, MANY, cursor), (items, more) => {
    const rows = items.map(row);
    tbody.append(...rows);
    shown += items.length;
    counted(shown, more);
    return rows[0];
  })];
}

export async function render(main) {
  const who = `${session()?.me?.email}/${session()?.acting_as}`;
  if (state.who !== who) Object.assign(state, DEFAULTS, { who });
  const asked = new URLSearchParams(location.hash.split("?")[1] || "").get("tab");
  if (TABS.includes(asked)) state.tab = asked;
  keepTab();
  const body = h("div", { class: "inbox-body" });
  const filters = h("form", { class: "filters", "aria-label": t("inbox") });
  const ask = lastAsked(); // the latest draw: an earlier one answered late (a filter changed meanwhile) is not shown
  // Called at first, from the tabs, the filters and live notifications (`keep`: the lists shown
  // stay until the new ones come): a failure is shown in place, with a retry.
  async function refresh({ keep = false } = {}) {
    const fresh = ask();
    if (!keep) body.replaceChildren(h("p", { class: "loading" }, t("loading")));
    try {
      const drawn = await (state.tab === "sent" ? sent(todayIST()) : held(todayIST()));
      if (fresh()) body.replaceChildren(...drawn.filter(Boolean));
    } catch (e) {
      if (e instanceof SignedOut) throw e; // the shell asks for a sign-in
      if (fresh()) body.replaceChildren(failed(e, () => refresh()));
    }
  }
  shown = { body, refresh };
  async function held(today) {
    const receipts = state.tab === "receipts";
    const heads = receipts ? ["diaryNumber", "subject", "from", "received", "due", "priority"]
      : ["file", "subject", "state", "since", "due", "priority"];
    const count = h("p", { role: "status", class: "count" });
    const path = query();
    const row = (i) => (receipts ? receiptRow(i, today) : fileRow(i, today));
    return [count, ...table(t(state.tab), heads, await pages(path, MANY), row, path,
      (n, more) => { count.textContent = t(more ? "countMore" : "count", { n }); })];
  }
  // What this post sent that others hold now (GET /receipts/sent, /files/sent): open one to pull it back.
  async function sent(today) {
    const lists = [["receipts", "/receipts/sent", sentReceiptRow, ["diaryNumber", "subject", "holder", "due"]],
      ["files", "/files/sent", sentFileRow, ["file", "subject", "holder", "due"]]];
    const firsts = await Promise.all(lists.map(([, path]) => pages(path, MANY)));
    const count = h("p", { role: "status", class: "count" });
    const shown = {};
    const counted = (key, heading) => (n, more) => {
      shown[key] = [n, more];
      heading.textContent = ` (${fmtUnread(n, more)})`;
      const all = Object.values(shown);
      const total = all.reduce((sum, [m]) => sum + m, 0);
      count.textContent = t(all.some(([, m]) => m) ? "countMore" : "count", { n: total });
    };
    return [count, ...lists.map(([key, path, row, heads], i) => {
      const number = h("span");
      return h("section", { "aria-label": t(key) }, h("h2", {}, t(key), number),
        table(t(key), heads, firsts[i], (item) => row(item, today), path, counted(key, number)));
    })];
  }

  function drawFilters() {
    const tab = (name) => h("button", { type: "button", role: "tab", "aria-selected": String(state.tab === name),
      onclick: () => { state.tab = name; keepTab(); drawFilters(); refresh(); } }, t(name));
    const check = (name, label) => h("label", { class: "inline" },
      h("input", { type: "checkbox", checked: state[name], onchange: (e) => { state[name] = e.target.checked; refresh(); } }), " ", t(label));
    const kindId = "inbox-kind";
    show(filters,
      h("div", { role: "tablist", class: "tabs" }, TABS.map(tab)),
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

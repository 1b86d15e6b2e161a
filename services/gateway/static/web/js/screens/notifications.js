// Notifications of the post acted as (GET /notifications), newest first, a page at a time; mark read.
import { get, call } from "../api.js";
import { show, h, userText, loadMoreInto } from "../dom.js";
import { t, lang, fmtDateTime, fmtUnread } from "../i18n.js";
import { route, setUnread } from "../app.js";

// The texts in the language the screen is in, whatever the reader's preference for e-mail and SMS.
const page = () => `/notifications?limit=100&lang=${lang()}`;

function item(n) {
  return h("li", { class: n.read_at ? "" : "unread" },
    h("a", { href: n.item_type === "receipt" ? `#/receipts/${n.item_id}` : `#/files/${n.item_id}` }, n.number), " ",
    userText(n.text), " ", h("time", { class: "muted", datetime: n.created_at }, fmtDateTime(n.created_at)));
}

export async function render(main) {
  const first = await get(page());
  setUnread(first.unread, first.unread_more); // the menu's badge says what this screen says
  const readAll = h("button", { type: "button",
    onclick: async () => { await call("POST", "/notifications/read", { body: {} }); route(); } }, t("markAllRead"));
  const list = first.items.length ? h("ol", { class: "plain notifications" }, first.items.map(item)) : null;
  show(main, h("h1", {}, t("notifications")),
    h("p", {}, h("a", { href: "#/notifications/preferences" }, t("preferences"))),
    h("p", { role: "status" }, t("unreadN", { n: fmtUnread(first.unread, first.unread_more) }), " ", first.unread ? readAll : null),
    list ? [list, loadMoreInto(list, first.next_cursor, (cursor) => get(`${page()}&cursor=${encodeURIComponent(cursor)}`), item)]
      : h("p", {}, t("nothing")));
}

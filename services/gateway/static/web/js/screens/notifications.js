// Notifications of the post acted as (GET /notifications), newest first, a page at a time; mark read.
import { get, call } from "../api.js";
import { show, h, userText, loadMoreInto } from "../dom.js";
import { t, fmtDateTime, fmtUnread } from "../i18n.js";
import { route, setUnread } from "../app.js";

const PAGE = "/notifications?limit=100";

function item(n) {
  return h("li", { class: n.read_at ? "" : "unread" },
    h("a", { href: n.item_type === "receipt" ? `#/receipts/${n.item_id}` : `#/files/${n.item_id}` }, n.number), " ",
    userText(n.text), " ", h("time", { class: "muted", datetime: n.created_at }, fmtDateTime(n.created_at)));
}

export async function render(main) {
  const page = await get(PAGE);
  setUnread(page.unread, page.unread_more); // the menu's badge says what this screen says
  const readAll = h("button", { type: "button",
    onclick: async () => { await call("POST", "/notifications/read", { body: {} }); route(); } }, t("markAllRead"));
  const list = page.items.length ? h("ol", { class: "plain notifications" }, page.items.map(item)) : null;
  show(main, h("h1", {}, t("notifications")),
    h("p", {}, h("a", { href: "#/notifications/preferences" }, t("preferences"))),
    h("p", { role: "status" }, t("unreadN", { n: fmtUnread(page.unread, page.unread_more) }), " ", page.unread ? readAll : null),
    list ? [list, loadMoreInto(list, page.next_cursor, (cursor) => get(`${PAGE}&cursor=${encodeURIComponent(cursor)}`), item)]
      : h("p", {}, t("nothing")));
}

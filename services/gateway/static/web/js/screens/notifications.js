// Notifications of the post acted as (GET /notifications), newest first; mark read.
import { get, call } from "../api.js";
import { show, h, userText } from "../dom.js";
import { t, fmtDateTime, fmtUnread } from "../i18n.js";
import { route, setUnread } from "../app.js";

export async function render(main) {
  const page = await get("/notifications?limit=100");
  setUnread(page.unread, page.unread_more); // the menu's badge says what this screen says
  const readAll = h("button", { type: "button",
    onclick: async () => { await call("POST", "/notifications/read", { body: {} }); route(); } }, t("markAllRead"));
  show(main, h("h1", {}, t("notifications")),
    h("p", {}, h("a", { href: "#/notifications/preferences" }, t("preferences"))),
    h("p", { role: "status" }, t("unreadN", { n: fmtUnread(page.unread, page.unread_more) }), " ", page.unread ? readAll : null),
    page.items.length ? h("ol", { class: "plain notifications" }, page.items.map((n) => h("li", { class: n.read_at ? "" : "unread" },
      h("a", { href: n.item_type === "receipt" ? `#/receipts/${n.item_id}` : `#/files/${n.item_id}` }, n.number), " ",
      userText(n.text), " ", h("time", { class: "muted", datetime: n.created_at }, fmtDateTime(n.created_at))))) : h("p", {}, t("nothing")));
}

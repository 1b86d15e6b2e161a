// The shell: header (language, post switch, sign out), navigation, and the router. Screens are
// modules in ./screens/ that export `render(main, params)`; a route names the module and who
// may see it. To add a screen (search, notifications, signing ...), add a module and one line
// to ROUTES (and NAV if it belongs in the menu).
import { session, signOut, actAs, SignedOut, call } from "./api.js";
import { h, notice, explain, lastAsked, releaseDocuments } from "./dom.js";
import { t, lang, setLang, fmtUnread } from "./i18n.js";
import { startLive, stopLive, relisten } from "./live.js";
import { clearDrafts } from "./drafts.js";

let unread = 0; let unreadMore = false; // more than counted: the count stopped at its cap
// The notifications the badge has counted since the first count (by id: one committed late comes
// after greater ids, and must count all the same); the stream is read from that count's newest id.
let counted = new Set();
let liveTried = false;
const counting = lastAsked(); // the first count of a sign-in or a post: one answered for an earlier post is not shown
const choosing = lastAsked(); // posts chosen one after the other (arrow keys in the list): the last one is acted as
const announcer = () => document.getElementById("live-news");

const ROUTES = [
  // [pattern, module, roles allowed (null: anyone signed in)]
  [/^#\/inbox(?:\?.*)?$/, "inbox", null],
  [/^#\/diarise$/, "diarise", ["dak_clerk"]],
  [/^#\/receipts\/([0-9a-f-]{36})$/, "receipt", null],
  [/^#\/files\/([0-9a-f-]{36})$/, "file", null],
  [/^#\/files\/([0-9a-f-]{36})\/track$/, "track", null],
  [/^#\/files\/([0-9a-f-]{36})\/notes\/(\d+)\/sign$/, "sign", null],
  [/^#\/files\/([0-9a-f-]{36})\/notes\/(\d+)\/signature$/, "verify", null],
  [/^#\/files\/([0-9a-f-]{36})\/drafts\/(\d+)\/sign$/, "sign-letter", null],
  [/^#\/letters\/([0-9a-f-]{36})\/verify$/, "verify", null],
  [/^#\/reports(?:\?.*)?$/, "reports", ["supervisor", "system_admin"]],
  [/^#\/admin$/, "admin", ["office_admin", "system_admin"]],
  [/^#\/subscriptions(?:\/([0-9a-f-]{36}))?$/, "subscriptions", ["system_admin"]],
  [/^#\/search(?:\?.*)?$/, "search", null],
  [/^#\/notifications$/, "notifications", null],
  [/^#\/notifications\/preferences$/, "preferences", null],
];
const NAV = [["#/inbox", "inbox", null], ["#/diarise", "diarise", ["dak_clerk"]], ["#/search", "search", null],
  ["#/notifications", "notifications", null],
  ["#/reports", "reports", ["supervisor", "system_admin"]], ["#/admin", "admin", ["office_admin", "system_admin"]]];

// The screen shown. Each route draws into a new, detached <main> and puts it in this one's place
// when drawn, unless a later route started meanwhile: a screen still waiting for the server when
// the user went elsewhere (or switched the language) is dropped, never drawn over the newer one.
let main = document.getElementById("main");
const routing = lastAsked(); // a route that is not the last one started is stale
const top = document.getElementById("top");

export function roles() { return session()?.roles || []; }
const allowed = (need) => !need || need.some((r) => roles().includes(r));

function header() {
  const s = session();
  const langButton = h("button", { type: "button", class: "lang", lang: lang() === "en" ? "hi" : "en",
    "aria-label": t("languageName"), onclick: () => { setLang(lang() === "en" ? "hi" : "en"); relisten(); route(); } }, t("language"));
  const parts = [h("a", { href: s ? "#/inbox" : "/", class: "brand" }, t("app"))];
  if (s?.me) {
    parts.push(h("nav", { "aria-label": t("nav") }, h("ul", {}, NAV.filter(([, , need]) => allowed(need)).map(([href, key]) =>
      h("li", {}, h("a", { href, "aria-current": location.hash.startsWith(href) ? "page" : null }, t(key),
        key === "notifications" && unread ? h("span", { class: "badge", id: "unread-badge" }, ` ${fmtUnread(unread, unreadMore)}`) : null))))));
    const select = h("select", { id: "act-as", onchange: async (e) => {
      if (!(await actAs(e.target.value, choosing()))) return;
      forgetLive(); // notifications are a post's: the new post's count and stream, not the last one's
      go("#/inbox");
    } },
      s.me.posts.map((p) => h("option", { value: p.code, selected: p.code === s.acting_as },
        `${p.code} — ${lang() === "hi" ? p.designation_hi : p.designation_en}`)));
    parts.push(h("div", { class: "who" },
      h("span", { lang: lang() }, lang() === "hi" ? s.me.name_hi : s.me.name_en),
      h("label", { for: "act-as" }, t("actAs")), select,
      h("button", { type: "button", onclick: async () => { await signOut(); go(""); } }, t("signOut"))));
  }
  parts.push(langButton);
  // The bar is drawn again; the live region stays (a region made anew, as the inbox redraws on a
  // notification, would lose the announcement just put in it).
  const bar = h("div", { class: "bar" }, parts);
  const before = top.querySelector(".bar");
  if (before) before.replaceWith(bar); else top.prepend(bar);
  if (!announcer()) top.append(h("p", { id: "live-news", class: "visually-hidden", "aria-live": "polite" }));
  if (s?.me && !liveTried) {
    liveTried = true; // once per sign-in and post: without a notifications service there is no badge, no live updates
    const fresh = counting();
    call("GET", "/notifications?limit=1").then((page) => {
      if (!fresh()) return;
      unread = page.unread; unreadMore = page.unread_more; header(); startLive(onNotification, page.items[0]?.id ?? 0);
    }).catch(() => {});
  } else if (!s?.me) { forgetLive(); announcer().textContent = ""; }
  document.querySelector(".skip").textContent = t("skip");
}

/** The badge and the live stream let go (signed out, or another post acted as): the next header
 * counts again and reads the stream as the session is then. */
function forgetLive() {
  stopLive(); liveTried = false; counted = new Set(); unread = 0; unreadMore = false;
  counting(); // a count still on its way is for the post before
}

/** The unread count as the notifications screen last read it (after "Mark all read": none). */
export function setUnread(count, more) {
  unread = count; unreadMore = more;
  header();
}

/** A live notification: the badge counts it, screen readers hear it, the inbox draws its lists
 * again (not the whole screen: a filter being changed, the focus, stay as they are). */
function onNotification(n) {
  if (n.read_at || counted.has(n.id)) return;
  counted.add(n.id);
  if (!unreadMore) unread += 1; // a count stopped at its cap ("1,000+") stays there
  header();
  announcer().textContent = t("newNotification", { text: n.text });
  if (document.body.dataset.ready === "inbox") import("./screens/inbox.js").then((inbox) => inbox.renew());
}

/** Shows the screen for the current address; the sign-in screen when there is no session. */
export async function route() {
  const current = routing();
  document.documentElement.lang = lang();
  document.body.removeAttribute("data-ready");
  const started = performance.now();
  header();
  let module = null, params = [];
  if (location.pathname === "/track") module = "public";
  else if (!session()?.me) module = "signin";
  else {
    const hash = location.hash || "#/inbox";
    for (const [pattern, name, need] of ROUTES) {
      const m = hash.match(pattern);
      if (m && allowed(need)) { module = name; params = m.slice(1); break; }
    }
    module ||= "inbox";
  }
  const view = main.cloneNode(false);
  try {
    const screen = await import(`./screens/${module}.js`);
    await screen.render(view, ...params);
  } catch (e) {
    if (!current()) return;
    if (e instanceof SignedOut) return expired();
    // In the user's language, with the server's own words after it, and a way to ask again.
    view.replaceChildren(h("h1", { tabindex: "-1" }, t("error")), h("p", { role: "alert" }, explain(e)),
      h("button", { type: "button", onclick: () => route() }, t("retry")));
  }
  if (!current()) return releaseDocuments(view);
  main.replaceWith(view);
  releaseDocuments(main);
  main = view;
  const flash = sessionStorage.getItem("eoffice.flash"), kind = sessionStorage.getItem("eoffice.flash.kind") || "ok";
  sessionStorage.removeItem("eoffice.flash.kind");
  if (flash) { sessionStorage.removeItem("eoffice.flash"); main.querySelector("h1")?.after(notice(flash, kind)); }
  const heading = main.querySelector("h1");
  heading?.setAttribute("tabindex", "-1");
  // A screen drawn with a problem at a field (a search refused) leaves the focus on that field.
  const invalid = main.querySelector("[aria-invalid=true]");
  (invalid || heading)?.focus({ preventScroll: true });
  // Tests and the speed measure read this: the screen is drawn and can be used.
  document.body.dataset.ready = module;
  document.body.dataset.readyMs = String(Math.round(performance.now() - started));
}

/** Shows the screen at `hash`, drawn once (a new address is drawn by the hashchange it fires). */
export function go(hash) {
  if (location.hash === hash) route(); else location.hash = hash;
}

/** The session ended mid-work: keep the address, ask for a sign-in, and come back. The note
 * being written is forgotten (one sent meanwhile is kept for its author: pending.js). */
export function expired() {
  sessionStorage.setItem("eoffice.return", location.hash);
  sessionStorage.setItem("eoffice.expired", "1");
  const me = session()?.me?.email;
  sessionStorage.removeItem("eoffice.session");
  clearDrafts();
  if (me) sessionStorage.setItem("eoffice.lastEmail", me);
  route();
}

/** Where the eSign provider's answer waits for the letter's screen, and the screen each eSign request returns to. */
export const ESIGN_ANSWER = "eoffice.esignAnswer";
export const esignReturn = (requestId) => `eoffice.esign.${requestId}`;

// Back from the eSign provider: it posted its answer to /esign/return, which put it in this page
// (services/gateway/web.py). The letter's screen hands it in with the session (sign-letter.js).
if (location.pathname === "/esign/return") {
  const answer = document.querySelector('meta[name="esign-response"]');
  let back = location.hash || "#/inbox";
  if (answer) {
    sessionStorage.setItem(ESIGN_ANSWER, answer.content);
    answer.remove();
    const txn = new DOMParser().parseFromString(answer.content, "application/xml").documentElement.getAttribute("txn");
    back = sessionStorage.getItem(esignReturn(txn)) || back;
  }
  history.replaceState(null, "", `/${back}`);
}

// In-page anchors (#main, #note-3) are not screens.
window.addEventListener("hashchange", () => { if (!location.hash || location.hash.startsWith("#/")) route(); });
document.querySelector(".skip").addEventListener("click", (e) => { e.preventDefault(); main.focus(); });
window.addEventListener("unhandledrejection", (e) => { if (e.reason instanceof SignedOut) { e.preventDefault(); expired(); } });
setLang(lang());
route();
export { call };

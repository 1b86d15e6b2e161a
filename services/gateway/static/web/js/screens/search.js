// Search (GET /search, /search/suggestions): words in Hindi or English, filters by kind, by dates
// (DD/MM/YYYY) and by the facets the answer brings, highlights, and suggestions as you type;
// 20 hits at a time ("Load more" follows the answer's cursor). Highlights come from the server
// HTML-escaped with <mark>; they are rebuilt here from text and <mark> only. A search the server
// refuses (dates the wrong way round, too many words) is said at its field, the form kept.
import { get, SignedOut } from "../api.js";
import { show, h, field, userText, dateField, values, showProblem, loadMoreInto, lastAsked } from "../dom.js";
import { t, fmtDate, fmtNum, word } from "../i18n.js";

const KINDS = ["receipt", "file", "note", "document"];

/** Server fragment "a <mark>b</mark> &amp; c" -> nodes, keeping only text and <mark>. */
function fragment(html) {
  const doc = new DOMParser().parseFromString(`<p>${html}</p>`, "text/html");
  return [...doc.body.firstChild.childNodes].map((n) => (n.nodeName === "MARK" ? h("mark", {}, n.textContent) : n.textContent));
}

function hitLink(hit) {
  if (hit.kind === "receipt") return `#/receipts/${hit.item_id}`;
  return `#/files/${hit.file_id || hit.item_id}`;
}

const lang = (text) => (/[\u0900-\u097F]/.test(text) ? "hi" : "en");

function hitItem(hit) {
  return h("li", { class: "hit" },
    h("p", {}, h("a", { href: hitLink(hit) }, hit.number), " · ", t(`kind_${hit.kind}`), " · ", word("st", hit.status),
      " · ", hit.holder, hit.date ? ` · ${fmtDate(hit.date)}` : ""),
    h("p", { lang: lang(hit.title) }, ...(hit.highlights.title ? fragment(hit.highlights.title[0]) : [hit.title])),
    ...Object.entries(hit.highlights).filter(([f]) => f !== "title").slice(0, 2).map(([, frags]) =>
      h("p", { class: "muted", lang: lang(frags[0]) }, ...fragment(frags[0]))));
}

/** The facets that count something (a search that finds nothing has only empty ones). */
function facets(found) {
  const counted = Object.entries(found).filter(([, buckets]) => buckets.length);
  return counted.length ? h("aside", { "aria-label": t("facets") }, counted.map(([name, buckets]) =>
    h("p", {}, h("strong", {}, word("facet", name)), ": ",
      buckets.map((b) => `${word(name === "kind" ? "kind" : "st", b.value)} (${fmtNum(b.count)})`).join(", ")))) : null;
}

export async function render(main) {
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  const q = params.get("q") || "";
  const kinds = params.getAll("kind");
  const dates = { date_from: params.get("date_from") || "", date_to: params.get("date_to") || "" };
  const suggestions = h("ul", { class: "plain suggestions", "aria-live": "polite", "aria-label": t("suggestions") });
  const words = field({ name: "q", label: t("searchWords"), type: "search", value: q, attrs: { autocomplete: "off" } });
  const input = words.querySelector("input");
  let timer;
  const asking = lastAsked();
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const typed = input.value.trim();
      const fresh = asking();
      const found = typed ? await get(`/search/suggestions?q=${encodeURIComponent(typed)}`).catch(() => []) : [];
      if (!fresh()) return; // the words were changed meanwhile: their suggestions are asked for already
      suggestions.replaceChildren(...found.map((s) => h("li", {}, h("a", { href: s.kind === "receipt" ? `#/receipts/${s.item_id}` : `#/files/${s.item_id}` },
        s.number, " — ", userText(s.title)))));
    }, 200);
  });
  const form = h("form", { class: "card", role: "search", novalidate: true }, words, suggestions,
    h("fieldset", { class: "kinds" }, h("legend", {}, t("kind")),
      KINDS.map((k) => h("label", { class: "inline" }, h("input", { type: "checkbox", name: "kind", value: k, checked: kinds.includes(k) }), " ", t(`kind_${k}`)))),
    h("div", { class: "grid" }, dateField({ name: "date_from", label: t("dateFrom"), value: dates.date_from }),
      dateField({ name: "date_to", label: t("dateTo"), value: dates.date_to })),
    h("button", { type: "submit", class: "primary" }, t("search")));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    let v;
    try { v = values(form); } catch (err) { showProblem(form, err); return; }
    const next = new URLSearchParams({ q: input.value.trim() });
    form.querySelectorAll("input[name=kind]:checked").forEach((c) => next.append("kind", c.value));
    for (const name of ["date_from", "date_to"]) if (v[name]) next.set(name, v[name]);
    location.hash = `#/search?${next}`;
  });
  const results = h("section", { "aria-labelledby": "res-h" });
  const query = new URLSearchParams({ q });
  kinds.forEach((k) => query.append("kind", k));
  for (const [name, value] of Object.entries(dates)) if (value) query.set(name, value);
  let page = null, refused = null;
  if (q || kinds.length || dates.date_from || dates.date_to) {
    try {
      page = await get(`/search?${query}&facets=true`); // the facets count the whole result: asked once
    } catch (err) {
      if (err instanceof SignedOut) throw err;
      refused = err;
    }
  }
  show(main, h("h1", {}, t("search")), form, results);
  if (refused) {
    // The dates' order is checked on the whole query: it is the "To date" that is wrong.
    refused.problem?.errors?.forEach((x) => {
      if (x.field === "request" && /date_to/.test(x.message)) x.field = "date_to";
    });
    showProblem(form, refused);
  } else if (page) {
    const hits = h("ol", { class: "hits" }, page.items.map(hitItem));
    show(results, h("h2", { id: "res-h" }, t("results", { n: page.total })), hits,
      loadMoreInto(hits, page.next_cursor, (cursor) => get(`/search?${query}&cursor=${encodeURIComponent(cursor)}`), hitItem),
      facets(page.facets));
  }
}

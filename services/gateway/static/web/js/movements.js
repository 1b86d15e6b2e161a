// The movements of a receipt or a file, oldest first, as a timeline: what was done, from which
// post to which, when, the remarks, and for a file sent up past levels the posts it went past.
import { h, userText } from "./dom.js";
import { t, word, fmtDateTime } from "./i18n.js";

/** A section headed "Movements" listing `movements` (the API's movement lines). */
export function movementList(movements) {
  const moves = h("ol", { class: "timeline movements" }, movements.map((m) => h("li", {},
    h("strong", {}, word("act", m.action)), ` ${m.from_post || ""} → ${m.to_post} `, h("time", { datetime: m.at }, fmtDateTime(m.at)),
    m.skipped?.length ? h("p", { class: "muted" }, t("wentPast", { posts: m.skipped.join(", ") })) : null,
    m.remarks ? h("p", {}, userText(m.remarks)) : null)));
  return h("section", { "aria-labelledby": "mov-h" }, h("h2", { id: "mov-h" }, t("movements")), moves);
}

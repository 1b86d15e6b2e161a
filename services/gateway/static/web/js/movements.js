// The movements of a receipt or a file, oldest first, as a timeline: what was done, from which
// post to which, when, the remarks, and for a file sent up past levels the posts it went past, and
// a send that took the file past the four levels to a decision the rule allows.
import { h, userText } from "./dom.js";
import { t, word, fmtDateTime } from "./i18n.js";

export const MOST_LEVELS = 4; // DOMAIN.md: a file should pass through at most four levels to a decision

/** The words for a send's warnings (the API's `warnings`), in the user's language where known. */
export function warningText(warnings) {
  return (warnings || []).map((w) => w.type === "over_four_levels" ? t("overFourLevels", { levels: w.levels_to_decision }) : w.message).join(" ");
}

/** A section headed "Movements" listing `movements` (the API's movement lines). */
export function movementList(movements) {
  const moves = h("ol", { class: "timeline movements" }, movements.map((m) => h("li", {},
    h("strong", {}, word("act", m.action)), ` ${m.from_post || ""} → ${m.to_post} `, h("time", { datetime: m.at }, fmtDateTime(m.at)),
    m.skipped?.length ? h("p", { class: "muted" }, t("wentPast", { posts: m.skipped.join(", ") })) : null,
    m.levels_to_decision > MOST_LEVELS ? h("p", { class: "notice warn" }, t("pastFourLevels", { levels: m.levels_to_decision })) : null,
    m.remarks ? h("p", {}, userText(m.remarks)) : null)));
  return h("section", { "aria-labelledby": "mov-h" }, h("h2", { id: "mov-h" }, t("movements")), moves);
}

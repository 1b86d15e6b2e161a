// Where a file has been: each stay as a step of a timeline, with its holding time; below, every
// movement with its remarks (and, for a send up past levels, the posts it went past).
import { get } from "../api.js";
import { show, h, notice } from "../dom.js";
import { t, word, fmtDateTime, fmtNum } from "../i18n.js";
import { movementList } from "../movements.js";

export async function render(main, id) {
  const tr = await get(`/files/${id}/track`);
  const longest = Math.max(1, ...tr.stays.map((s) => s.hours));
  show(main, 
    h("h1", {}, `${t("tracking")}: ${tr.file_number}`),
    h("p", {}, h("a", { href: `#/files/${id}` }, t("openFile")), " · ", t("holder"), ": ", tr.holder_post, " · ",
      t("limit", { n: tr.limit_working_days })),
    tr.overdue ? notice(t("isOverdue"), "error") : null,
    h("ol", { class: "timeline stays" }, tr.stays.map((s) => h("li", { class: s.until ? "" : "current" },
      h("h2", { class: "stay-post" }, s.post, h("span", { class: "muted" }, ` · ${s.office_code} · ${word("act", s.how)}`)),
      h("p", {}, h("time", { datetime: s.since }, fmtDateTime(s.since)), " – ",
        s.until ? h("time", { datetime: s.until }, fmtDateTime(s.until)) : t("now")),
      h("p", {}, `${t("workingDays")}: ${fmtNum(s.working_days)} · ${t("hours")}: ${fmtNum(s.hours, 1)}`),
      h("div", { class: "meter", "aria-hidden": "true" }, h("span", { class: "meter-bar", dataset: { w: String(Math.round((100 * s.hours) / longest)) } }))))),
    movementList(tr.movements));
  // Widths through the CSSOM: the CSP forbids style attributes in markup, not this.
  main.querySelectorAll(".meter-bar").forEach((el) => { el.style.width = `${el.dataset.w}%`; });
}

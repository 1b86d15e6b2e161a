// For supervisors: pendency and overdue by post, holding times, levels (and the files past four
// levels to a decision), files per month and the ranking of offices, as charts (inline SVG, chart.js) with the numbers in tables beside them;
// an overdue file links to the file (drill-down), a post's bar to its overdue files.
import { get } from "../api.js";
import { show, h, userText, wide } from "../dom.js";
import { t, fmtDate, fmtNum, monthName } from "../i18n.js";
import { barChart } from "../chart.js";

function table(caption, heads, rows) {
  return wide(caption, h("table", { class: "list" },
    h("caption", {}, caption), h("thead", {}, h("tr", {}, heads.map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c)))))));
}

export async function render(main) {
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  const office = params.get("office") || "";
  const q = office ? `?office_code=${encodeURIComponent(office)}` : "";
  // Pendency and overdue first (the screen is usable with them); the year's figures fill in after.
  const [monthlyAsked, rankingAsked] = ["monthly", "ranking"].map((n) => get(`/reports/files/${n}${q}`));
  const yearly = h("div", { "aria-busy": "true" }, h("p", { class: "loading" }, t("loading")));
  Promise.all([monthlyAsked, rankingAsked]).then(([monthly, ranking]) => {
    yearly.removeAttribute("aria-busy");
    show(yearly,
    h("section", { "aria-labelledby": "m-h" }, h("h2", { id: "m-h" }, t("monthly"), ` ${monthly.year}`),
      table(t("monthly"), [t("office"), t("month"), t("created"), t("moved"), t("closed")],
        monthly.rows.map((r) => [r.office_code, monthName(Number(String(r.month).slice(5, 7)) || Number(r.month)), fmtNum(r.created ?? 0),
          fmtNum(r.moved ?? 0), fmtNum(r.closed ?? 0)]))),
    h("section", { "aria-labelledby": "r-h" }, h("h2", { id: "r-h" }, t("ranking"), ` ${ranking.year}`),
      barChart({ title: t("ranking"), series: [{ name: t("handled"), cls: "s1" }],
        rows: ranking.rows.slice(0, 15).map((r) => ({ label: `${r.rank}. ${r.office_code}`, values: [r.handled],
          href: `#/reports?office=${encodeURIComponent(r.office_code)}` })) }),
      table(t("ranking"), [t("rank"), t("office"), t("handled"), t("created"), t("closed")],
        ranking.rows.map((r) => [fmtNum(r.rank), r.office_code, fmtNum(r.handled), fmtNum(r.created), fmtNum(r.closed)]))));
  }).catch((e) => show(yearly, h("p", { role: "alert" }, e.message)));
  const [pendency, overdue, levels, overFour] = await Promise.all(["pendency", "overdue", "levels", "over_four_levels"]
    .map((n) => get(`/reports/files/${n}${q}`)));
  const focus = params.get("post");
  const overdueItems = overdue.items.filter((i) => !focus || i.holder_post === focus);
  const byPost = pendency.by_post.slice().sort((a, b) => b.pending - a.pending).slice(0, 15);
  show(main, 
    h("h1", {}, t("reports")),
    h("section", { "aria-labelledby": "p-h" }, h("h2", { id: "p-h" }, t("pendency")),
      barChart({ title: t("pendency"), series: [{ name: t("pending"), cls: "s1" }, { name: t("overdueCount"), cls: "s2" }],
        rows: byPost.map((p) => ({ label: p.post, values: [p.pending, p.overdue], href: `#/reports?post=${encodeURIComponent(p.post)}` })) }),
      table(t("pendency"), [t("post"), t("office"), t("pending"), t("overdueCount")],
        pendency.by_post.map((p) => [h("a", { href: `#/reports?post=${encodeURIComponent(p.post)}` }, p.post), p.office_code, fmtNum(p.pending), fmtNum(p.overdue)]))),
    h("section", { "aria-labelledby": "o-h", id: "overdue" }, h("h2", { id: "o-h" }, t("overdueItems"), focus ? ` · ${focus}` : ""),
      overdueItems.length ? table(t("overdueItems"), [t("file"), t("subject"), t("holder"), t("since"), t("age")],
        overdueItems.map((i) => [h("a", { href: `#/files/${i.file_id}` }, i.file_number), userText(i.subject), i.holder_post,
          fmtDate(i.held_since), `${fmtNum(i.working_days)} / ${fmtNum(i.limit)}`])) : h("p", {}, t("nothing"))),
    h("section", { "aria-labelledby": "l-h" }, h("h2", { id: "l-h" }, t("levels")),
      h("p", {}, `${t("decided")}: ${fmtNum(levels.decided)} · ${t("averageLevels")}: ${fmtNum(levels.average_levels, 1)}`),
      h("h3", {}, t("overFourLevelsReport")),
      overFour.items.length ? table(t("overFourLevelsReport"), [t("file"), t("subject"), t("holder"), t("countedFrom"), t("levelsToDecision")],
        overFour.items.map((i) => [h("a", { href: `#/files/${i.file_id}` }, i.file_number), userText(i.subject), i.holder_post,
          i.counted_from, fmtNum(i.levels_to_decision)])) : h("p", {}, t("nothing"))),
    yearly);
}

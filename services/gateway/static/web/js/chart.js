// Bar charts as inline SVG, drawn here (no library): horizontal bars, one per row, with the
// numbers written beside them so the chart reads without colour, and a <title> for screen readers.
import { h } from "./dom.js";
import { fmtNum } from "./i18n.js";

/**
 * rows: [{label, values: [n, ...], href?}], series: [{name, cls}] -> <figure> with an SVG.
 * A row with href is a link (drill-down).
 */
export function barChart({ title, rows, series }) {
  const barH = 18, gap = 10, labelW = 170, width = 640;
  const max = Math.max(1, ...rows.flatMap((r) => r.values));
  const rowH = series.length * barH + gap;
  const height = rows.length * rowH + 24;
  // role=img would hide the drill-down links inside; a labelled group keeps them reachable.
  const svg = h("svg:svg", { viewBox: `0 0 ${width} ${height}`, role: "group", "aria-label": title, class: "chart",
    preserveAspectRatio: "xMinYMin meet" });
  const titleEl = h("svg:title", {}, title);
  svg.append(titleEl);
  rows.forEach((row, i) => {
    const y = i * rowH;
    const group = h("svg:g", {});
    const label = h("svg:text", { x: labelW - 6, y: y + barH - 4, "text-anchor": "end", class: "chart-label" }, row.label);
    group.append(label);
    row.values.forEach((v, j) => {
      const w = Math.max(1, ((width - labelW - 60) * v) / max);
      group.append(h("svg:rect", { x: labelW, y: y + j * barH, width: w, height: barH - 3, class: series[j].cls }),
        h("svg:text", { x: labelW + w + 4, y: y + j * barH + barH - 6, class: "chart-value" }, fmtNum(v)));
    });
    if (row.href) {
      const link = h("svg:a", { href: row.href });
      link.append(h("svg:title", {}, `${row.label}: ${row.values.map(fmtNum).join(", ")}`), group);
      svg.append(link);
    } else svg.append(group);
  });
  const legend = h("p", { class: "legend" }, series.map((s) => h("span", {}, h("span", { class: `swatch ${s.cls}`, "aria-hidden": "true" }), s.name)));
  return h("figure", { class: "chart-box" }, svg, h("figcaption", {}, title, " ", legend));
}

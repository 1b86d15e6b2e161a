// Administration: import the organisation from CSV (the server answers with a row-by-row
// report), subject heads and the file numbering scheme of an office, and time limits by category.
import { get, call, all, newKey } from "../api.js";
import { show, h, field, values, showProblem, clearProblems, notice, userText } from "../dom.js";
import { t, fmtNum } from "../i18n.js";
import { acting } from "../actor.js";
import { roles } from "../app.js";

const CSV = ["offices", "holidays", "posts", "users", "postings"];

function importForm() {
  const report = h("div", { "aria-live": "polite" });
  const busy = h("progress", { hidden: true, "aria-label": t("importing") });
  const form = h("form", { class: "card", novalidate: true, "aria-labelledby": "imp-h" },
    h("p", { class: "hint" }, t("importHint")),
    CSV.map((name) => field({ name, label: `${name}.csv`, type: "file", attrs: { accept: ".csv,text/csv" } })),
    field({ name: "initial_password", label: t("initialPassword"), type: "password", attrs: { autocomplete: "new-password" } }),
    h("button", { type: "submit", class: "primary" }, t("importRun")), busy);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearProblems(form);
    const files = {};
    for (const name of CSV) { const f = form.elements[name].files[0]; if (f) files[name] = await f.text(); }
    const pw = form.elements.initial_password.value;
    busy.hidden = false;
    try {
      const r = await call("POST", "/directory/import", { body: { files, ...(pw ? { initial_password: pw } : {}) } });
      const kinds = Object.keys({ ...r.created, ...r.changed, ...r.unchanged });
      report.replaceChildren(h("h3", { tabindex: "-1" }, t("importResult")),
        h("table", { class: "list" }, h("thead", {}, h("tr", {}, [t("fileName"), t("createdN"), t("changedN"), t("unchangedN")].map((x) => h("th", { scope: "col" }, x)))),
          h("tbody", {}, kinds.map((k) => h("tr", {}, h("td", {}, k), h("td", {}, fmtNum(r.created[k] || 0)), h("td", {}, fmtNum(r.changed[k] || 0)), h("td", {}, fmtNum(r.unchanged[k] || 0)))))),
        h("h3", {}, t("rejected")),
        r.rejected.length ? h("table", { class: "list" }, h("thead", {}, h("tr", {}, [t("fileName"), t("row"), t("reason")].map((x) => h("th", { scope: "col" }, x)))),
          h("tbody", {}, r.rejected.map((x) => h("tr", {}, h("td", {}, x.file), h("td", {}, fmtNum(x.row)), h("td", { lang: "en" }, x.reason))))) : h("p", {}, t("noRejects")));
      report.querySelector("h3").focus();
    } catch (err) { showProblem(form, err); }
    busy.hidden = true;
  });
  return h("section", { "aria-labelledby": "imp-h" }, h("h2", { id: "imp-h" }, t("importOrg")), form, report);
}

async function officeForms() {
  const offices = await all("/offices", 500);
  const mine = acting().office_code;
  const pick = field({ name: "office", label: t("office"), type: "select", value: mine,
    options: offices.map((o) => [o.code, `${o.code} — ${document.documentElement.lang === "hi" ? o.name_hi : o.name_en}`]) });
  const headsList = h("ul", { class: "plain" });
  const office = () => pick.querySelector("select").value;
  const drawHeads = async () => {
    const heads = await get(`/offices/${encodeURIComponent(office())}/subject-heads`).catch(() => []);
    headsList.replaceChildren(...heads.map((s) => h("li", {}, h("span", { class: "code" }, s.code), " ", userText(s.title))));
  };
  pick.querySelector("select").addEventListener("change", drawHeads);
  const addHead = h("form", { class: "card", novalidate: true, "aria-label": t("subjectHeads") },
    field({ name: "code", label: t("code"), required: true }), field({ name: "title", label: t("title"), required: true }),
    h("button", { type: "submit" }, t("add")));
  addHead.addEventListener("submit", async (e) => {
    e.preventDefault();
    try { await call("POST", `/offices/${encodeURIComponent(office())}/subject-heads`, { body: values(addHead) }); addHead.reset(); drawHeads(); }
    catch (err) { showProblem(addHead, err); }
  });
  const scheme = h("form", { class: "card", novalidate: true, "aria-labelledby": "sch-h" },
    field({ name: "prefix", label: t("prefix"), value: "N" }),
    field({ name: "pattern", label: t("pattern"), value: "{prefix}-{head}/{serial}/{year}-{office}" }),
    field({ name: "office_suffix", label: t("officeSuffix") }),
    h("button", { type: "submit" }, t("save")));
  scheme.addEventListener("submit", async (e) => {
    e.preventDefault();
    try { await call("PUT", `/offices/${encodeURIComponent(office())}/file-scheme`, { body: values(scheme) }); scheme.append(notice(t("saved"))); }
    catch (err) { showProblem(scheme, err); }
  });
  const limit = h("form", { class: "card", novalidate: true, "aria-labelledby": "lim-h" },
    field({ name: "category", label: t("category"), required: true, value: "general" }),
    field({ name: "working_days", label: t("days"), type: "number", required: true, value: "7", attrs: { min: "1", max: "365" } }),
    h("button", { type: "submit" }, t("set")));
  limit.addEventListener("submit", async (e) => {
    e.preventDefault();
    const v = values(limit);
    try { await call("PUT", `/file-categories/${encodeURIComponent(v.category)}/limit`, { body: { working_days: Number(v.working_days) }, key: newKey() }); limit.append(notice(t("saved"))); }
    catch (err) { showProblem(limit, err); }
  });
  await drawHeads();
  return [h("section", { "aria-labelledby": "sh-h" }, h("h2", { id: "sh-h" }, t("subjectHeads")), pick, headsList, addHead),
    h("section", { "aria-labelledby": "sch-h" }, h("h2", { id: "sch-h" }, t("fileScheme")), scheme),
    // Time limits hold everywhere: the system admin's to set.
    roles().includes("system_admin") ? h("section", { "aria-labelledby": "lim-h" }, h("h2", { id: "lim-h" }, t("categoryLimits")), limit) : null];
}

export async function render(main) {
  const system = roles().includes("system_admin");
  show(main, h("h1", {}, t("admin")), system ? h("p", {}, h("a", { href: "#/subscriptions" }, t("subscriptions"))) : null,
    system ? importForm() : null, ...(await officeForms()));
}

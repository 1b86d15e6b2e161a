// Administration: import the organisation from CSV (a job on the server: its progress is shown
// as it goes, then its row-by-row report), subject heads and the file numbering scheme of an
// office, and time limits by category.
import { get, call, all, newKey } from "../api.js";
import { show, h, field, values, showProblem, clearProblems, notice, userText, lastAsked, wide } from "../dom.js";
import { t, fmtNum } from "../i18n.js";
import { acting } from "../actor.js";
import { roles } from "../app.js";

const CSV = ["offices", "holidays", "posts", "users", "postings"];

const POLL_MS = 500;

/** The import's report: what each file created, changed and left unchanged, and each rejected row. */
function reportOf(r) {
  const kinds = Object.keys({ ...r.created, ...r.changed, ...r.unchanged });
  return [h("h3", { tabindex: "-1" }, t("importResult")),
    wide(t("importResult"), h("table", { class: "list" }, h("thead", {}, h("tr", {}, [t("fileName"), t("createdN"), t("changedN"), t("unchangedN")].map((x) => h("th", { scope: "col" }, x)))),
      h("tbody", {}, kinds.map((k) => h("tr", {}, h("td", {}, k), h("td", {}, fmtNum(r.created[k] || 0)), h("td", {}, fmtNum(r.changed[k] || 0)), h("td", {}, fmtNum(r.unchanged[k] || 0))))))),
    h("h3", {}, t("rejected")),
    r.rejected.length ? wide(t("rejected"), h("table", { class: "list" }, h("thead", {}, h("tr", {}, [t("fileName"), t("row"), t("reason")].map((x) => h("th", { scope: "col" }, x)))),
      h("tbody", {}, r.rejected.map((x) => h("tr", {}, h("td", {}, x.file), h("td", {}, fmtNum(x.row)), h("td", { lang: "en" }, x.reason)))))) : h("p", {}, t("noRejects"))];
}

/** How far an import job is: a progress bar over all rows, a line per file, and a status line
 * that screen readers announce when the state or the file changes (not at every row). */
function progressOf() {
  const status = h("p", { role: "status" });
  const bar = h("progress", { max: "1", value: "0", "aria-label": t("importProgress") });
  const files = h("ul", { class: "plain" });
  const box = h("div", { hidden: true }, status, bar, files);
  const draw = (job) => {
    const total = job.stages.reduce((n, s) => n + s.rows_total, 0);
    const done = job.stages.reduce((n, s) => n + s.rows_done, 0);
    const current = job.stages.find((s) => s.rows_done < s.rows_total);
    const said = job.state === "queued" ? t("importQueued") : job.state === "running" && current ? t("importStage", { file: current.file })
      : job.state === "failed" ? t("importFailed") : t("importDone");
    if (status.textContent !== said) status.textContent = said;
    bar.max = Math.max(total, 1);
    bar.value = job.state === "done" ? bar.max : done;
    bar.setAttribute("aria-valuetext", t("rowsOf", { done, total }));
    files.replaceChildren(...job.stages.map((s) => h("li", {}, `${s.file}.csv: `, t("rowsOf", { done: s.rows_done, total: s.rows_total }))));
    box.hidden = false;
  };
  return { box, draw };
}

function importForm() {
  const report = h("div", { "aria-live": "polite" });
  const progress = progressOf();
  const form = h("form", { class: "card", novalidate: true, "aria-labelledby": "imp-h" },
    h("p", { class: "hint" }, t("importHint")),
    CSV.map((name) => field({ name, label: `${name}.csv`, type: "file", attrs: { accept: ".csv,text/csv" } })),
    field({ name: "initial_password", label: t("initialPassword"), type: "password", attrs: { autocomplete: "new-password" } }),
    h("button", { type: "submit", class: "primary" }, t("importRun")));
  let running = false; // one import at a time from this screen; the button stays focusable
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (running) return;
    running = true; // at once: a second press while the files are read starts no second import
    clearProblems(form);
    report.replaceChildren();
    try {
      const files = {};
      for (const name of CSV) { const f = form.elements[name].files[0]; if (f) files[name] = await f.text(); }
      const pw = form.elements.initial_password.value;
      let job = await call("POST", "/directory/import-jobs", { body: { files, ...(pw ? { initial_password: pw } : {}) }, key: newKey() });
      progress.draw(job);
      while (job.state === "queued" || job.state === "running") {
        await new Promise((r) => setTimeout(r, POLL_MS));
        if (!form.isConnected) return; // the screen was left (or drawn again in the other language): asked no more
        const last = job; // a moment without an answer does not end the job: ask again
        job = await get(`/directory/import-jobs/${encodeURIComponent(job.id)}`)
          .catch((err) => { if (err.status === 503 || err.status === 0) return last; throw err; });
        progress.draw(job);
      }
      if (job.state === "done") {
        report.replaceChildren(...reportOf(job.report));
        report.querySelector("h3").focus();
      } else report.replaceChildren(h("p", { class: "notice error", lang: "en" }, job.error || ""));
    } catch (err) {
      // A file refused as a whole is named files.<name>: show it at that file's field (no file
      // at all, "files", at the first).
      if (err.problem?.errors) err.problem.errors = err.problem.errors.map((x) => ({ ...x, field: String(x.field).replace(/^files\.?/, "") || CSV[0] }));
      showProblem(form, err);
    }
    running = false;
  });
  return h("section", { "aria-labelledby": "imp-h" }, h("h2", { id: "imp-h" }, t("importOrg")), form, progress.box, report);
}

async function officeForms() {
  const offices = await all("/offices", 500);
  const mine = acting().office_code;
  const pick = field({ name: "office", label: t("office"), type: "select", value: mine,
    options: offices.map((o) => [o.code, `${o.code} — ${document.documentElement.lang === "hi" ? o.name_hi : o.name_en}`]) });
  const headsList = h("ul", { class: "plain" });
  const office = () => pick.querySelector("select").value;
  const ask = lastAsked(); // offices chosen one after the other: the heads of the one chosen last are shown
  const drawHeads = async () => {
    const fresh = ask();
    const heads = await get(`/offices/${encodeURIComponent(office())}/subject-heads`).catch(() => []);
    if (!fresh()) return;
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

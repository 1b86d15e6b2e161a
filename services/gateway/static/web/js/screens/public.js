// The citizen's page (/track, no sign-in): the status of a letter by its tracking code.
import { call } from "../api.js";
import { show, h, field, showProblem, clearProblems, notice, lastAsked } from "../dom.js";
import { t } from "../i18n.js";

export async function render(main) {
  const result = h("div", { "aria-live": "polite" });
  const code = new URLSearchParams(location.search).get("code") || "";
  const form = h("form", { class: "card narrow", novalidate: true },
    field({ name: "tracking_code", label: t("trackingCode"), required: true, value: code,
      attrs: { autocomplete: "off", spellcheck: "false", inputmode: "text", pattern: "[0-9A-Za-z-]{12,14}" } }),
    h("button", { type: "submit", class: "primary" }, t("check")));
  const ask = lastAsked(); // a code checked again meanwhile (a typo put right): only its answer is shown
  async function check() {
    clearProblems(form);
    result.replaceChildren();
    const value = form.elements.tracking_code.value.trim();
    const fresh = ask();
    try {
      const found = await call("GET", `/public/receipts/${encodeURIComponent(value)}`);
      if (!fresh()) return;
      result.replaceChildren(h("p", { class: `status status-${found.status}`, dataset: { status: found.status } },
        t(`status_${found.status}`)));
      history.replaceState(null, "", `/track?code=${encodeURIComponent(value)}`);
    } catch (err) {
      if (!fresh()) return;
      if (err.status === 422) err.problem.errors = [{ field: "tracking_code", message: err.problem.errors?.[0]?.message || "" }];
      showProblem(form, err);
    }
  }
  form.addEventListener("submit", (e) => { e.preventDefault(); check(); });
  show(main, h("h1", {}, t("publicTitle")), form, result);
  if (code) await check();
}

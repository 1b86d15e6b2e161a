// Notification preferences of the person signed in (GET/PUT /notifications/preferences): the
// kinds that reach them, by which channels, a daily digest, quiet hours (Indian time) and the
// language of e-mail and SMS. Reached from the notifications screen. Below them, the officer's
// registered DSC certificates: one is unregistered there, a new one registered.
import { get, call, newKey } from "../api.js";
import { show, h, field, showProblem, notice, clearProblems } from "../dom.js";
import { t } from "../i18n.js";
import { certificateList, registerForm } from "../signer.js";

const KINDS = ["arrived", "returned", "pulled_back", "due", "overdue", "escalated", "signed", "issued", "skipped"];
const CHANNELS = ["in_app", "email", "sms"];

/** A group of checkboxes named `name`, one per value, ticked when in `chosen`. */
function checks(name, legend, list, chosen, prefix) {
  return h("fieldset", { class: "kinds" }, h("legend", {}, legend),
    list.map((v) => h("label", { class: "inline" },
      h("input", { type: "checkbox", name, value: v, checked: chosen.includes(v) }), t(`${prefix}_${v}`))));
}

const hhmm = (v) => (v ? String(v).slice(0, 5) : "");

export async function render(main) {
  const [p, certs] = await Promise.all([get("/notifications/preferences"), get("/signing/certificates")]);
  let key = newKey(); // one per save: reused if the same save is sent again
  const form = h("form", { class: "card", novalidate: true, "aria-labelledby": "prefs-h" },
    checks("kinds", t("prefKinds"), KINDS, p.kinds, "nkind"),
    checks("channels", t("prefChannels"), CHANNELS, p.channels, "channel"),
    field({ name: "digest", label: t("prefDigest"), type: "checkbox", value: p.digest }),
    h("p", { class: "hint" }, t("quietHint")),
    h("div", { class: "grid" },
      field({ name: "quiet_from", label: t("quietFrom"), type: "time", value: hhmm(p.quiet_from) }),
      field({ name: "quiet_to", label: t("quietTo"), type: "time", value: hhmm(p.quiet_to) }),
      field({ name: "language", label: t("prefLanguage"), type: "select", value: p.language,
        options: [["hi", t("lang_hi")], ["en", t("lang_en")]] })),
    h("button", { type: "submit", class: "primary" }, t("save")));
  const status = h("div");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearProblems(form);
    const picked = (name) => [...form.querySelectorAll(`input[name=${name}]:checked`)].map((i) => i.value);
    const el = form.elements;
    const body = { kinds: picked("kinds"), channels: picked("channels"), digest: el.namedItem("digest").checked,
      quiet_from: el.namedItem("quiet_from").value || null, quiet_to: el.namedItem("quiet_to").value || null,
      language: el.namedItem("language").value };
    try {
      await call("PUT", "/notifications/preferences", { key, body });
      key = newKey();
      status.replaceChildren(notice(t("saved")));
    } catch (err) { status.replaceChildren(); showProblem(form, err); }
  });
  show(main, h("h1", { id: "prefs-h" }, t("preferences")),
    h("p", {}, h("a", { href: "#/notifications" }, t("notifications"))), status, form,
    certificateList(certs), registerForm());
}

import { signIn } from "../api.js";
import { show, h, field, values, showProblem, notice } from "../dom.js";
import { t } from "../i18n.js";
import { resend } from "../pending.js";
import { go } from "../app.js";

export async function render(main) {
  const expired = sessionStorage.getItem("eoffice.expired");
  const form = h("form", { class: "card narrow", novalidate: true },
    field({ name: "email", label: t("email"), type: "email", required: true, value: sessionStorage.getItem("eoffice.lastEmail") || "",
      attrs: { autocomplete: "username" } }),
    field({ name: "password", label: t("password"), type: "password", required: true, attrs: { autocomplete: "current-password" } }),
    field({ name: "post_code", label: t("postCode") }),
    h("button", { type: "submit", class: "primary" }, t("signIn")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const v = values(form);
    try {
      const s = await signIn(v.email, v.password, v.post_code);
      const sent = await resend();
      sessionStorage.removeItem("eoffice.expired");
      if (sent) sessionStorage.setItem("eoffice.flash", t("resent"));
      const back = sessionStorage.getItem("eoffice.return");
      sessionStorage.removeItem("eoffice.return");
      const home = s.roles.includes("dak_clerk") ? "#/diarise" : "#/inbox";
      go(back || home);
    } catch (err) {
      showProblem(form, err);
    }
  });
  show(main, h("h1", {}, t("signIn")), expired ? notice(t("signedOutMidway"), "warn") : null, form,
    h("p", {}, h("a", { href: "/track" }, t("publicTitle"))));
  if (!form.elements.email.value) form.elements.email.focus(); else form.elements.password.focus();
}

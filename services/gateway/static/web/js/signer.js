// Signing on the officer's own USB token, the same for a note, a letter and a certificate's
// registration (docs/signing.md): registering the DSC's certificate (its key signs a registration
// request: proof that the officer holds it), and, for a prepared request, the exact command of the
// signer program (eoffice/signer.py) to run on the officer's PC with a token that can only sign
// that request (POST /signing/requests/{id}/signer-token: the sign-in token never leaves the
// browser), what each of its exit statuses means, and a poll of the request until it is signed.
import { get, post, call, newKey } from "./api.js";
import { h, field, values, showProblem, notice } from "./dom.js";
import { t, fmtDate, fmtDateTime } from "./i18n.js";
import { route } from "./app.js";

const LABEL_KEY = "eoffice.tokenLabel";
const POLL_MS = 2000;
// The signer program's exit statuses (eoffice/signer.py) and what the officer does about each.
const EXITS = [0, 2, 3, 4, 5, 6];

/**
 * The form that registers the officer's DSC certificate. A certificate is public, so the server
 * answers a new one with a registration request (202, kind "certificate") that its key must sign:
 * the form then shows the signer program's command for it, as for a note, and the screen is
 * drawn again once the certificate is registered (at once when it was the officer's already).
 */
export function registerForm() {
  const key = newKey();
  const out = h("div");
  const form = h("form", { class: "card", novalidate: true, "aria-labelledby": "reg-cert-h" },
    h("p", { class: "hint" }, t("certHint")),
    field({ name: "certificate", label: t("certPem"), type: "textarea", required: true, attrs: { rows: "6", lang: "en" } }),
    h("button", { type: "submit" }, t("certRegister")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const req = await call("POST", "/signing/certificates", { key, body: { certificate: values(form).certificate.trim() } });
      if (req.kind !== "certificate") return route();
      const steps = await signerInstructions(req, {
        // The screen is drawn again a moment later, unless the officer has gone to another meanwhile.
        onSigned: () => { setTimeout(() => out.isConnected && route(), POLL_MS); return [notice(t("certRegistered"))]; },
        onEnded: () => [notice(t("certProveAgain"), "warn")],
      });
      form.hidden = true;
      out.replaceChildren(notice(t("certProve")), steps);
      out.querySelector("#how-h")?.setAttribute("tabindex", "-1");
      out.querySelector("#how-h")?.focus();
    } catch (err) { showProblem(form, err); }
  });
  return h("section", { "aria-labelledby": "reg-cert-h" }, h("h2", { id: "reg-cert-h" }, t("certRegister")), form, out);
}

/**
 * The officer's registered certificates, each with a button that unregisters it (a token lost,
 * replaced or surrendered: DELETE /signing/certificates/{sha256}) once the officer confirms; what
 * it signed stays valid. The screen is drawn again after.
 */
export function certificateList(certs) {
  const rows = certs.map((c) => {
    const remove = h("button", { type: "button" }, t("certUnregister"));
    const item = h("li", { "data-sha256": c.sha256 },
      h("strong", {}, c.holder || c.subject), ` — ${c.issuer} (${t("validUntil")} ${fmtDate(c.not_after)}) `, remove);
    const key = newKey(); // one per certificate shown: a retry of the same removal is answered as the first
    remove.addEventListener("click", async () => {
      if (!window.confirm(t("certUnregisterConfirm"))) return;
      try {
        await call("DELETE", `/signing/certificates/${c.sha256}`, { key });
        route();
      } catch (err) { item.append(notice(err.problem?.detail || err.message, "error")); }
    });
    return item;
  });
  return h("section", { "aria-labelledby": "my-certs-h" }, h("h2", { id: "my-certs-h" }, t("myCertificates")),
    certs.length ? h("ul", { class: "certificates" }, rows) : h("p", {}, t("noCertificate")),
    h("p", { class: "hint" }, t("certUnregisterHint")));
}

/** The officer's registered certificates that are still in their dates. */
export const usableCertificates = (certs) => certs.filter((c) => new Date(c.not_after) > new Date());

/** A choice of the certificate to sign with (field certificate_sha256). */
export function certificateField(usable) {
  return field({ name: "certificate_sha256", label: t("certificate"), type: "select",
    options: usable.map((c) => [c.sha256, `${c.holder || c.subject} — ${c.issuer} (${t("validUntil")} ${fmtDate(c.not_after)})`]) });
}

/**
 * The instructions for one prepared request `req` (its id, content_sha256, expires_at) and the
 * poll that notices the end: `onSigned(request)` gives what to show once it is signed (a
 * certificate's registration: registered),
 * `onEnded(request)` once it is cancelled or expired. Throws the API's problem when no signer
 * token can be had (the request is signed, cancelled or expired already).
 */
export async function signerInstructions(req, { onSigned, onEnded }) {
  const signer = await post(`/signing/requests/${req.id}/signer-token`);
  const api = `${location.origin}/api/v1`;
  const label = h("input", { id: "token-label", name: "token_label", value: localStorage.getItem(LABEL_KEY) || "ProxKey", lang: "en" });
  const command = h("code", { class: "command", lang: "en" });
  const draw = () => { command.textContent = `python -m eoffice.signer --api ${api} --token-label "${label.value}" ${req.id}`; };
  label.addEventListener("input", () => { localStorage.setItem(LABEL_KEY, label.value); draw(); });
  draw();
  const state = h("div", { "aria-live": "polite" }, h("p", { class: "notice warn", role: "status" }, h("progress", { "aria-label": t("waitingSignature") }), " ", t("waitingSignature")));
  const poll = async () => {
    if (!document.body.contains(state)) return; // the officer went elsewhere: stop asking
    try {
      const now = await get(`/signing/requests/${req.id}`);
      if (now.signature_id || now.state === "registered") return state.replaceChildren(...onSigned(now));
      if (now.state && now.state !== "pending") return state.replaceChildren(...onEnded(now));
    } catch (err) {
      return state.replaceChildren(notice(err.problem?.detail || err.message, "error"));
    }
    setTimeout(poll, POLL_MS);
  };
  setTimeout(poll, POLL_MS);
  return h("section", { "aria-labelledby": "how-h", class: "card" }, h("h2", { id: "how-h" }, t("signSteps")),
    h("ol", {},
      h("li", {}, t("signStep1")),
      h("li", {}, h("label", { for: "token-label" }, t("tokenLabel")), " ", label),
      h("li", {}, t("signStep2", { until: fmtDateTime(signer.expires_at) }), h("pre", { class: "command-lines" },
        h("code", { lang: "en" }, "export EOFFICE_ACCESS_TOKEN=", h("span", { class: "secret" }, signer.token)), "\n", command)),
      h("li", {}, t("signStep3", { sha: req.content_sha256.slice(0, 16) })),
      h("li", {}, t("signStep4", { until: fmtDateTime(req.expires_at) }))),
    h("table", { class: "list exits" }, h("caption", {}, t("exitCodes")),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("exitCode")), h("th", { scope: "col" }, t("exitMeaning")))),
      h("tbody", {}, EXITS.map((c) => h("tr", { id: `exit-${c}` }, h("td", {}, String(c)), h("td", {}, t(`exit_${c}`)))))),
    state);
}

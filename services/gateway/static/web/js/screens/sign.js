// Signing a green note with the officer's own certificate on a USB token, in two phases
// (docs/signing.md): this screen asks the server to prepare the signature
// (POST /files/{id}/notes/{seq}/signature-requests), shows the exact command of the signer
// program to run on the officer's PC (the PIN is typed there, never here), and polls the
// request until the program has handed the signature in. A certificate is registered here first
// when the officer has none.
import { get, call, newKey, session } from "../api.js";
import { show, h, field, values, showProblem, notice, userText } from "../dom.js";
import { t, fmtDate, fmtDateTime } from "../i18n.js";
import { route } from "../app.js";

const LABEL_KEY = "eoffice.tokenLabel";
const POLL_MS = 2000;
// The signer program's exit statuses (eoffice/signer.py) and what the officer does about each.
const EXITS = [0, 2, 3, 4, 5, 6];
// The prepared request is kept for the tab, so that a reload or a change of language shows the
// same instructions (and keeps polling) instead of preparing another.
const keptKey = (fileId, seq) => `eoffice.sigreq.${fileId}.${seq}`;
function kept(fileId, seq) {
  const req = JSON.parse(sessionStorage.getItem(keptKey(fileId, seq)) || "null");
  return req && new Date(req.expires_at) > new Date() ? req : null;
}

function registerForm() {
  const key = newKey();
  const form = h("form", { class: "card", novalidate: true, "aria-labelledby": "reg-cert-h" },
    h("p", { class: "hint" }, t("certHint")),
    field({ name: "certificate", label: t("certPem"), type: "textarea", required: true, attrs: { rows: "6", lang: "en" } }),
    h("button", { type: "submit" }, t("certRegister")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try { await call("POST", "/signing/certificates", { key, body: { certificate: values(form).certificate.trim() } }); route(); }
    catch (err) { showProblem(form, err); }
  });
  return h("section", { "aria-labelledby": "reg-cert-h" }, h("h2", { id: "reg-cert-h" }, t("certRegister")), form);
}

/** The instructions for one prepared request, and the poll that notices when it is signed. */
function instructions(fileId, seq, req) {
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
      if (now.signature_id) {
        sessionStorage.removeItem(keptKey(fileId, seq));
        state.replaceChildren(notice(t("noteSigned", { n: seq })),
          h("p", {}, h("a", { href: `#/files/${fileId}/notes/${seq}/signature` }, t("verifySignature"))));
        return;
      }
    } catch (err) {
      state.replaceChildren(notice(err.problem?.detail || err.message, "error"));
      return;
    }
    setTimeout(poll, POLL_MS);
  };
  setTimeout(poll, POLL_MS);
  return h("section", { "aria-labelledby": "how-h", class: "card" }, h("h2", { id: "how-h" }, t("signSteps")),
    h("ol", {},
      h("li", {}, t("signStep1")),
      h("li", {}, h("label", { for: "token-label" }, t("tokenLabel")), " ", label),
      h("li", {}, t("signStep2"), h("pre", { class: "command-lines" }, h("code", { lang: "en" }, "export EOFFICE_ACCESS_TOKEN=", h("span", { class: "secret" }, session()?.access_token || "")), "\n", command)),
      h("li", {}, t("signStep3", { sha: req.content_sha256.slice(0, 16) })),
      h("li", {}, t("signStep4", { until: fmtDateTime(req.expires_at) }))),
    h("table", { class: "list exits" }, h("caption", {}, t("exitCodes")),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("exitCode")), h("th", { scope: "col" }, t("exitMeaning")))),
      h("tbody", {}, EXITS.map((c) => h("tr", { id: `exit-${c}` }, h("td", {}, String(c)), h("td", {}, t(`exit_${c}`)))))),
    state);
}

export async function render(main, fileId, seq) {
  const [f, certs] = await Promise.all([get(`/files/${fileId}`), get("/signing/certificates")]);
  const note = f.notes.find((n) => String(n.seq) === String(seq));
  const head = [h("h1", {}, t("signNoteTitle", { n: seq })),
    h("p", {}, h("a", { href: `#/files/${fileId}` }, `${t("file")} ${f.file_number}`)),
    note ? userText(note.body, "blockquote", { class: "note green" }) : null];
  const already = kept(fileId, seq);
  if (already) return show(main, ...head, instructions(fileId, seq, already));
  const usable = certs.filter((c) => new Date(c.not_after) > new Date());
  if (!usable.length) return show(main, ...head, notice(t("noCertificate"), "warn"), registerForm());
  const key = newKey();
  const out = h("div");
  const form = h("form", { class: "card", novalidate: true, "aria-label": t("prepareSignature") },
    field({ name: "certificate_sha256", label: t("certificate"), type: "select",
      options: usable.map((c) => [c.sha256, `${c.holder || c.subject} — ${c.issuer} (${t("validUntil")} ${fmtDate(c.not_after)})`]) }),
    h("button", { type: "submit", class: "primary" }, t("prepareSignature")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const req = await call("POST", `/files/${fileId}/notes/${seq}/signature-requests`, { key,
        body: { certificate_sha256: values(form).certificate_sha256, key: "officer_token" } });
      sessionStorage.setItem(keptKey(fileId, seq), JSON.stringify({ id: req.id, content_sha256: req.content_sha256, expires_at: req.expires_at }));
      form.hidden = true;
      out.replaceChildren(instructions(fileId, seq, req));
      out.querySelector("h2").setAttribute("tabindex", "-1");
      out.querySelector("h2").focus();
    } catch (err) { showProblem(form, err); }
  });
  show(main, ...head, h("p", {}, t("signIntro")), form, out);
}

// Signing a green note with the officer's own certificate on a USB token, in two phases
// (docs/signing.md): this screen asks the server to prepare the signature
// (POST /files/{id}/notes/{seq}/signature-requests), shows the exact command of the signer
// program to run on the officer's PC (the PIN is typed there, never here), and polls the
// request until the program has handed the signature in. A certificate is registered here first
// when the officer has none.
import { get, call, newKey } from "../api.js";
import { show, h, values, showProblem, notice, userText } from "../dom.js";
import { t } from "../i18n.js";
import { registerForm, signerInstructions, usableCertificates, certificateField } from "../signer.js";

// The prepared request is kept for the tab, so that a reload or a change of language shows the
// same instructions (and keeps polling) instead of preparing another.
const keptKey = (fileId, seq) => `eoffice.sigreq.${fileId}.${seq}`;
function kept(fileId, seq) {
  const req = JSON.parse(sessionStorage.getItem(keptKey(fileId, seq)) || "null");
  return req && new Date(req.expires_at) > new Date() ? req : null;
}

/** The signer program's instructions for the note's request, until the note is signed. */
function instructions(fileId, seq, req) {
  const ended = (now) => { sessionStorage.removeItem(keptKey(fileId, seq)); return [notice(now.state || "", "error")]; };
  return signerInstructions(req, {
    onSigned: () => {
      sessionStorage.removeItem(keptKey(fileId, seq));
      return [notice(t("noteSigned", { n: seq })), h("p", {}, h("a", { href: `#/files/${fileId}/notes/${seq}/signature` }, t("verifySignature")))];
    },
    onEnded: ended,
  }).catch((err) => { sessionStorage.removeItem(keptKey(fileId, seq)); return notice(err.problem?.detail || err.message, "error"); });
}

export async function render(main, fileId, seq) {
  const [f, certs] = await Promise.all([get(`/files/${fileId}`), get("/signing/certificates")]);
  const note = f.notes.find((n) => String(n.seq) === String(seq));
  const head = [h("h1", {}, t("signNoteTitle", { n: seq })),
    h("p", {}, h("a", { href: `#/files/${fileId}` }, `${t("file")} ${f.file_number}`)),
    note ? userText(note.body, "blockquote", { class: "note green" }) : null];
  const already = kept(fileId, seq);
  if (already) return show(main, ...head, await instructions(fileId, seq, already));
  const usable = usableCertificates(certs);
  if (!usable.length) return show(main, ...head, notice(t("noCertificate"), "warn"), registerForm());
  const key = newKey();
  const out = h("div");
  const form = h("form", { class: "card", novalidate: true, "aria-label": t("prepareSignature") },
    certificateField(usable),
    h("button", { type: "submit", class: "primary" }, t("prepareSignature")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const req = await call("POST", `/files/${fileId}/notes/${seq}/signature-requests`, { key,
        body: { certificate_sha256: values(form).certificate_sha256, key: "officer_token" } });
      sessionStorage.setItem(keptKey(fileId, seq), JSON.stringify({ id: req.id, content_sha256: req.content_sha256, expires_at: req.expires_at }));
      form.hidden = true;
      out.replaceChildren(await instructions(fileId, seq, req));
      out.querySelector("h2")?.setAttribute("tabindex", "-1");
      out.querySelector("h2")?.focus();
    } catch (err) { showProblem(form, err); }
  });
  show(main, ...head, h("p", {}, t("signIntro")), form, out);
}

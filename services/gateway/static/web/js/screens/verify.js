// A signature checked by the server: a signed green note
// (GET /files/{id}/notes/{seq}/signature) or an issued letter (GET /letters/{id}/verify).
// Shows whether it holds, who signed and when, the certificate chain up to the root, and
// whether what was signed has changed since.
import { get } from "../api.js";
import { show, h, notice } from "../dom.js";
import { t, fmtDateTime } from "../i18n.js";

const yesNo = (v) => (v ? t("yes") : t("no"));

function report({ title, back, valid, signer, post, when, chain, unchanged, trusted, revoked, extra = [], problems = [] }) {
  const facts = [["sigSigner", signer], ["sigPost", post], ["sigWhen", when ? fmtDateTime(when) : t("sigNoTime")],
    ["sigUnchanged", unchanged ? t("sigNotChanged") : t("sigChanged")], ["sigTrusted", yesNo(trusted)],
    ["sigRevoked", yesNo(revoked)], ...extra].filter(([, v]) => v !== null && v !== undefined && v !== "");
  return [h("h1", {}, title), back,
    notice(valid ? t("sigValid") : t("sigInvalid"), valid ? "ok" : "error"),
    h("dl", { class: "facts", dataset: { valid: String(!!valid) } }, facts.map(([k, v]) => [h("dt", {}, t(k)), h("dd", { lang: /^[\x00-\x7f]*$/.test(v) ? "en" : null }, v)])),
    h("section", { "aria-labelledby": "chain-h" }, h("h2", { id: "chain-h" }, t("sigChain")),
      h("ol", { class: "chain" }, chain.map((c) => h("li", { lang: "en" }, c)))),
    problems.length ? h("section", { "aria-labelledby": "prob-h" }, h("h2", { id: "prob-h" }, t("sigProblems")),
      h("ul", {}, problems.map((p) => h("li", { lang: "en" }, p)))) : null];
}

export async function render(main, a, b) {
  if (b) { // a note: a = file id, b = its number
    const s = await get(`/files/${a}/notes/${b}/signature`);
    const v = s.verification;
    return show(main, ...report({ title: t("sigNoteTitle", { n: b }), back: h("p", {}, h("a", { href: `#/files/${a}` }, t("openFile"))),
      valid: v.valid, signer: v.signer.holder || v.signer.subject, post: s.signer_post, when: v.timestamped_at, chain: v.chain,
      unchanged: v.intact, trusted: v.trusted, revoked: v.revoked,
      extra: [["sigIssuer", v.signer.issuer], ["sigFingerprint", v.signer.sha256], ["sigContent", v.content_sha256]], problems: v.problems }));
  }
  const v = await get(`/letters/${a}/verify`);
  const l = v.letter || {};
  return show(main, ...report({ title: t("sigLetterTitle", { number: l.letter_number || "" }),
    back: l.file_id ? h("p", {}, h("a", { href: `#/files/${l.file_id}` }, t("openFile"))) : null,
    valid: v.valid, signer: v.signer?.holder, when: v.signed_at, chain: v.chain || [],
    unchanged: v.intact && !v.changed_since, trusted: v.trusted, revoked: v.revoked,
    extra: [["sigIssuer", v.signer?.issuer], ["sigLevel", v.level]], problems: v.valid || !v.summary ? [] : [v.summary] }));
}

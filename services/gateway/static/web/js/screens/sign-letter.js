// Signing an approved draft and issuing it as a letter (docs/signing.md, "Letters"), with one of
// three keys: the office's key on the server (one step: POST .../drafts/{d}/issue), the
// officer's own DSC on a USB token (two phases, the signer program on the officer's PC, exactly
// as for notes: ../signer.js), or Aadhaar eSign (the browser takes the request to the eSign
// provider, which sends the officer back to /esign/return; app.js brings its answer here and it
// is handed in). A prepared request reserves the dispatch number: it is kept for the tab (a
// reload, a change of language, the trip to the eSign provider) and can be given up, which
// marks its number cancelled in the dispatch register.
import { get, call, newKey, SignedOut } from "../api.js";
import { show, h, field, values, showProblem, notice, userText, busy } from "../dom.js";
import { t, fmtDateTime } from "../i18n.js";
import { holds } from "../actor.js";
import { registerForm, signerInstructions, usableCertificates, certificateField } from "../signer.js";
import { route, ESIGN_ANSWER, esignReturn } from "../app.js";

const KEYS = ["office_token", "officer_token", "esign"];
const CHOSEN = "eoffice.letterKey"; // the key last chosen, kept across registering a certificate
const keptKey = (fileId, draftId) => `eoffice.sigreq.letter.${fileId}.${draftId}`;

function kept(fileId, draftId) {
  const req = JSON.parse(sessionStorage.getItem(keptKey(fileId, draftId)) || "null");
  return req && new Date(req.expires_at) > new Date() ? req : null;
}

function keep(fileId, draftId, req) {
  const { id, key_path, letter_number, content_sha256, expires_at, esign_request, esp_url } = req;
  sessionStorage.setItem(keptKey(fileId, draftId), JSON.stringify({ id, key_path, letter_number, content_sha256, expires_at, esign_request, esp_url }));
  if (key_path === "esign") sessionStorage.setItem(esignReturn(id), `#/files/${fileId}/drafts/${draftId}/sign`);
}

function drop(fileId, draftId, req) {
  sessionStorage.removeItem(keptKey(fileId, draftId));
  sessionStorage.removeItem(esignReturn(req.id));
}

function issuedView(fileId, letterId, number) {
  return [notice(t("letterIssued", { number })),
    h("p", {}, h("a", { href: `#/letters/${letterId}/verify` }, t("verifyIssued"))),
    h("p", {}, h("a", { href: `#/files/${fileId}` }, t("backToFile")))];
}

/** The form that posts the eSign request to the provider (a plain form: the browser goes there). */
function esignPanel(req) {
  if (!/^https?:\/\//.test(req.esp_url || "")) return notice(t("esignNotSetUp"), "warn");
  return h("form", { method: "post", action: req.esp_url, class: "card", "aria-labelledby": "esign-h" },
    h("h2", { id: "esign-h" }, t("esignSteps")),
    h("ol", {}, h("li", {}, t("esignStep1")), h("li", {}, t("esignStep2"))),
    h("input", { type: "hidden", name: "eSignRequest", value: req.esign_request }),
    h("button", { type: "submit", class: "primary" }, t("esignGo")));
}

function giveUpForm(fileId, draftId, req) {
  const key = newKey();
  const form = h("form", { class: "card", novalidate: true, "aria-label": t("giveUp") },
    field({ name: "reason", label: t("giveUpReason"), required: true }),
    h("button", { type: "submit" }, t("giveUp")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await call("POST", `/signing/requests/${req.id}/cancel`, { key, body: { reason: values(form).reason } });
      drop(fileId, draftId, req);
      sessionStorage.setItem("eoffice.flash", t("givenUp", { number: req.letter_number }));
      route();
    } catch (err) { showProblem(form, err); }
  });
  return h("details", {}, h("summary", {}, t("giveUp")), form);
}

/** A prepared request: the eSign provider's answer handed in if it has come, else how to sign. */
async function pending(fileId, draftId, req) {
  let refused = null;
  const answer = sessionStorage.getItem(ESIGN_ANSWER);
  if (req.key_path === "esign" && answer) {
    const txn = new DOMParser().parseFromString(answer, "application/xml").documentElement.getAttribute("txn");
    if (txn === req.id) {
      sessionStorage.removeItem(ESIGN_ANSWER);
      try {
        const letter = await call("POST", `/signing/requests/${req.id}/esign-response`, { body: { response: answer } });
        drop(fileId, draftId, req);
        return issuedView(fileId, letter.id, letter.letter_number);
      } catch (err) {
        if (err instanceof SignedOut) throw err;
        refused = h("p", { class: "notice error", role: "alert" }, t("esignRefused"), " ",
          h("span", { lang: "en", class: "detail" }, `(${err.problem?.detail || err.message})`));
      }
    }
  }
  const how = req.key_path === "esign" ? esignPanel(req) : await signerInstructions(req, {
    onSigned: (now) => { drop(fileId, draftId, req); return issuedView(fileId, now.signature_id, now.letter_number); },
    onEnded: (now) => { drop(fileId, draftId, req); return [notice(`${now.letter_number}: ${now.state}`, "error")]; },
  }).catch((err) => { drop(fileId, draftId, req); return notice(err.problem?.detail || err.message, "error"); });
  return [notice(t("letterReserved", { number: req.letter_number, until: fmtDateTime(req.expires_at) }), "warn"),
    refused, how, giveUpForm(fileId, draftId, req)];
}

export async function render(main, fileId, draftId) {
  const [f, certs, letters] = await Promise.all([get(`/files/${fileId}`), get("/signing/certificates").catch(() => []),
    get(`/files/${fileId}/letters`).catch(() => [])]);
  const draft = f.drafts.find((d) => String(d.id) === String(draftId));
  const versions = draft ? await get(`/files/${fileId}/drafts/${draft.id}/versions`) : [];
  const text = versions.find((v) => v.version === draft?.current_version)?.body || "";
  const head = [h("h1", {}, t("signLetterTitle", { title: draft?.title || "" })),
    h("p", {}, h("a", { href: `#/files/${fileId}` }, `${t("file")} ${f.file_number}`)),
    userText(text, "blockquote", { class: "draft-body" })];
  const already = kept(fileId, draftId);
  if (already) return show(main, ...head, ...await pending(fileId, draftId, already));
  const letter = letters.find((l) => String(l.draft_id) === String(draftId));
  if (letter) return show(main, ...head, ...issuedView(fileId, letter.id, letter.letter_number));
  if (!draft || draft.status !== "approved" || !holds(f.holder_post)) return show(main, ...head, notice(t("problem_forbidden"), "warn"));

  const usable = usableCertificates(certs);
  const chosen = KEYS.includes(sessionStorage.getItem(CHOSEN)) ? sessionStorage.getItem(CHOSEN) : "office_token";
  const certBox = h("div", { hidden: true }, usable.length ? certificateField(usable) : notice(t("noCertificate"), "warn"));
  const register = usable.length ? null : h("div", { hidden: true }, registerForm());
  const button = h("button", { type: "submit", class: "primary" }, t("issue"));
  const choose = (key) => {
    sessionStorage.setItem(CHOSEN, key);
    certBox.hidden = key !== "officer_token";
    if (register) register.hidden = key !== "officer_token";
    button.disabled = key === "officer_token" && !usable.length;
    button.textContent = key === "office_token" ? t("issue") : t("prepareSignature");
  };
  const keyBox = h("fieldset", { class: "kinds" }, h("legend", {}, t("signHow")),
    KEYS.map((k) => h("label", { class: "inline" },
      h("input", { type: "radio", name: "key", value: k, checked: k === chosen, onchange: () => choose(k) }), " ", t(`key_${k}`))));
  const form = h("form", { class: "card", novalidate: true, "aria-label": t("issue") },
    keyBox, certBox,
    field({ name: "name", label: t("addresseeName"), required: true }),
    field({ name: "address", label: t("addresseeAddress"), type: "textarea", attrs: { rows: "2" } }),
    field({ name: "email", label: t("addresseeEmail"), type: "email" }),
    h("p", { class: "hint" }, t("issueHint")),
    button);
  choose(chosen);
  const keys = Object.fromEntries(KEYS.map((k) => [k, newKey()])); // one action per way of signing
  // Signing with the office's key takes a second or two (the HSM, the timestamp): the button says
  // so and stays disabled until the answer comes.
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const v = values(form);
    busy(button, () => submit(v), { label: v.key === "office_token" ? t("signing") : t("working") });
  });
  async function submit(v) {
    sessionStorage.removeItem(CHOSEN);
    const body = { version: draft.current_version, addressees: [{ name: v.name, address: v.address, ...(v.email ? { email: v.email } : {}) }] };
    try {
      if (v.key === "office_token") {
        const letter = await call("POST", `/files/${fileId}/drafts/${draft.id}/issue`, { key: keys.office_token, body });
        sessionStorage.setItem("eoffice.flash", t("letterIssued", { number: letter.letter_number }));
        location.hash = `#/files/${fileId}`;
        return;
      }
      const req = await call("POST", `/files/${fileId}/drafts/${draft.id}/signature-requests`, { key: keys[v.key],
        body: { ...body, key: v.key, ...(v.key === "officer_token" ? { certificate_sha256: v.certificate_sha256 } : {}) } });
      keep(fileId, draftId, req);
      route();
    } catch (err) {
      err.problem?.errors?.forEach((x) => { x.field = String(x.field).replace(/addressees\.\d+\./, ""); });
      showProblem(form, err);
    }
  }
  show(main, ...head, form, register);
}

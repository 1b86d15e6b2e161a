// The dak clerk's desk, keyboard first: the kind of letter (Alt+1/2/3), the fields in the order
// the letter is read, Ctrl+Enter to diarise; then the acknowledgement (print) and marking to one
// or several posts with the post picker; then straight on to the next letter.
import { call, upload, newKey, get } from "../api.js";
import { show, h, field, dateField, values, showProblem, clearProblems, notice, FieldProblems, atFileFields, releaseDocuments,
  userText } from "../dom.js";
import { t, todayIST, fmtDate, fmtDateTime } from "../i18n.js";
import { markForm as mark } from "../mark.js";

const KINDS = ["paper", "scanned", "emailLetter"];
const opts = (prefix, list) => list.map((v) => [v, t(`${prefix}_${v}`)]);

function previewOf(files, box) {
  releaseDocuments(box);
  box.replaceChildren(...[...files].map((f) => {
    const url = URL.createObjectURL(f);
    return h("figure", { class: "thumb" },
      f.type.startsWith("image/") && f.type !== "image/tiff" ? h("img", { src: url, alt: f.name })
        : f.type === "application/pdf" ? h("iframe", { src: url, title: f.name }) : h("span", {}, f.name),
      h("figcaption", {}, f.name));
  }));
}

export async function render(main) {
  let kind = "paper";
  // One per letter: a retried submit, or one pressed again before the acknowledgement is shown,
  // diarises it once (the next letter is a new screen: "Diarise the next letter" draws it anew).
  const key = newKey();
  const kindBox = h("fieldset", { class: "kinds" }, h("legend", {}, t("kindOfLetter")),
    KINDS.map((k, i) => h("label", { class: "inline" },
      h("input", { type: "radio", name: "kind", value: k, checked: k === kind, accesskey: String(i + 1),
        onchange: () => { kind = k; draw(); } }), " ", t(k))));
  const files = h("div", { class: "upload" });
  const preview = h("div", { class: "preview", role: "group", "aria-label": t("preview") });
  const progress = h("progress", { max: "1", value: "0", hidden: true, "aria-label": t("uploading") });
  const letter = h("div", { class: "grid" },
    field({ name: "sender_name", label: t("senderName"), required: true, attrs: { autocomplete: "off" } }),
    field({ name: "subject", label: t("subject"), required: true, type: "textarea", attrs: { rows: "2" } }),
    field({ name: "letter_number", label: t("letterNumber") }),
    dateField({ name: "letter_date", label: t("letterDate") }),
    dateField({ name: "received_date", label: t("receivedDate"), required: true, value: todayIST() }),
    field({ name: "mode", label: t("mode"), type: "select", options: opts("mode", ["post", "hand", "email", "portal", "fax"]), value: "post" }),
    field({ name: "language", label: t("letterLanguage"), type: "select", options: opts("lang", ["hi", "en", "other"]), value: "hi" }),
    field({ name: "category", label: t("category") }),
    field({ name: "sender_organisation", label: t("senderOrganisation") }),
    field({ name: "sender_address", label: t("senderAddress"), type: "textarea", attrs: { rows: "2" } }),
    field({ name: "sender_email", label: t("senderEmail"), type: "email" }),
    field({ name: "sender_mobile", label: t("senderMobile"), type: "tel", attrs: { inputmode: "tel" } }),
    field({ name: "security_grading", label: t("grading"), type: "select",
      options: opts("grading", ["normal", "confidential", "secret", "top_secret"]), value: "normal" }),
    field({ name: "vip", label: t("vip"), type: "checkbox" }),
    field({ name: "remarks", label: t("remarks") }));
  const form = h("form", { class: "card", novalidate: true }, kindBox, files, preview, progress, letter,
    h("p", { class: "hint" }, t("shortcutHint")),
    h("button", { type: "submit", class: "primary" }, t("saveDiarise")));
  const after = h("section", { "aria-live": "polite" });

  let modeBefore = null; // the mode chosen before the kind became e-mail, given back when it changes again
  function draw() {
    files.replaceChildren();
    preview.replaceChildren();
    const receivedRow = form.querySelector("[name=mode]");
    if (kind !== "emailLetter" && modeBefore !== null) { receivedRow.value = modeBefore; modeBefore = null; }
    if (kind === "scanned") {
      files.append(field({ name: "scans", label: t("scans"), type: "file", required: true,
        attrs: { multiple: true, accept: "application/pdf,image/jpeg,image/png,image/tiff" } }));
      files.querySelector("input").addEventListener("change", (e) => previewOf(e.target.files, preview));
    } else if (kind === "emailLetter") {
      files.append(field({ name: "email", label: t("emlFile"), type: "file", required: true, attrs: { accept: ".eml,message/rfc822" } }));
      modeBefore ??= receivedRow.value;
      receivedRow.value = "email";
    }
    letter.hidden = kind === "emailLetter"; // the e-mail itself says who sent it and when
  }

  async function submit() {
    clearProblems(form);
    let receipt;
    try {
      const v = values(form);
      delete v.kind;
      for (const k of ["letter_date"]) if (!v[k]) delete v[k];
      if (kind === "paper") receipt = await call("POST", "/receipts", { body: { ...v, physical: true }, key });
      else {
        const input = form.elements[kind === "scanned" ? "scans" : "email"];
        if (!input.files.length) throw new FieldProblems([{ field: input.name, text: t("fieldRequired") }]);
        const data = new FormData();
        progress.hidden = false; progress.value = 0;
        if (kind === "scanned") {
          data.append("letter", JSON.stringify({ ...v, physical: false }));
          for (const f of form.elements.scans.files) data.append("scans", f);
          receipt = await upload("/receipts/electronic", data, { key, onProgress: (p) => { progress.value = p; } });
        } else {
          data.append("email", form.elements.email.files[0]);
          receipt = await upload("/receipts/email", data, { key, onProgress: (p) => { progress.value = p; } });
        }
      }
    } catch (err) {
      progress.hidden = true;
      return showProblem(form, atFileFields(form, err)); // a file refused: said at the field it was chosen in
    }
    progress.hidden = true;
    await acknowledge(receipt);
  }

  async function acknowledge(receipt) {
    const ack = await get(`/receipts/${receipt.id}/acknowledgement`);
    const markForm = mark({ receiptId: receipt.id, label: t("markTo"), button: t("mark"), onDone: (posts, form) => {
      form.replaceWith(notice(`${t("marked")}: ${posts.join(", ")}`));
      after.querySelector(".next")?.focus();
    } });
    const slip = h("article", { class: "card ack", "aria-labelledby": "ack-h" },
      h("h2", { id: "ack-h" }, t("acknowledgement")),
      h("dl", {},
        h("dt", {}, t("diaryNumber")), h("dd", { class: "diary" }, ack.diary_number),
        h("dt", {}, t("trackingCode")), h("dd", { class: "tracking" }, ack.tracking_code),
        h("dt", {}, t("receivedDate")), h("dd", {}, fmtDate(ack.received_date)),
        h("dt", {}, t("diarised")), h("dd", {}, fmtDateTime(ack.diarised_at)),
        h("dt", {}, t("subject")), userText(ack.subject, "dd"),
        h("dt", {}, t("trackAt")), h("dd", {}, `${location.origin}/track?code=${ack.tracking_code}`)),
      h("button", { type: "button", onclick: () => window.print() }, t("printAck")));
    after.replaceChildren(h("h2", { tabindex: "-1", class: "done" }, `${t("diarised")}: ${ack.diary_number}`), slip, markForm,
      h("button", { type: "button", class: "next", onclick: () => render(main) }, t("diariseNext")));
    form.hidden = true;
    after.querySelector("h2").focus();
    markForm.picker.input.focus();
  }

  const firstShown = () => [...form.elements].find((el) => el.name && el.name !== "kind" && !el.closest("[hidden]"));
  form.addEventListener("submit", (e) => { e.preventDefault(); submit(); });
  form.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); submit(); }
    if (e.altKey && ["1", "2", "3"].includes(e.key)) {
      e.preventDefault();
      kind = KINDS[Number(e.key) - 1];
      form.querySelector(`input[value=${kind}]`).checked = true;
      draw();
      // The field being typed in may be gone (hidden with the letter's fields, or redrawn): the first one shown.
      const at = document.activeElement;
      if (!form.contains(at) || at.closest("[hidden]")) firstShown()?.focus();
    }
  });
  show(main, h("h1", {}, t("diarise")), form, after);
  draw();
  form.elements.sender_name.focus();
}

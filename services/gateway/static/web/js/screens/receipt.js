// A receipt: the scan on the left and the text read from it on the right (a receipt with several
// documents lists them above, and shows the one chosen with its own text), its details and
// movements below; the holder sends (marks) it, opens a file with it, puts it in a file their
// post holds, or closes it.
import { get, all, call, blobUrl, newKey, ApiError } from "../api.js";
import { show, h, field, values, showProblem, notice, userText, busy, failed, downloadAs, lastAsked, releaseDocuments } from "../dom.js";
import { t, word, fmtDate } from "../i18n.js";
import { markForm } from "../mark.js";
import { receiveForm } from "../receive.js";
import { movementList } from "../movements.js";
import { acting, holds } from "../actor.js";
import { route } from "../app.js";

const opts = (prefix, list) => list.map((v) => [v, t(`${prefix}_${v}`)]);
const READING_POLL_MS = 2000;
const UNPLACED_POLLS = 10; // a pane never put on screen (its screen dropped) stops asking after these

/** Where the reading of a document's text stands: waiting in the queue, being read (with the
 * pages read so far, for a document of several), or given up. */
function readingSays(scan) {
  if (scan.ocr_status === "failed") return t("ocrFailed");
  if (!scan.ocr_started_at) return t("ocrQueued");
  return scan.pages > 1 ? t("ocrReadingPages", { read: scan.pages_read, pages: scan.pages }) : t("ocrReading");
}

/** The notice of a document whose text is not read yet, asked again every READING_POLL_MS while
 * it is shown: updated as pages are read; `whenRead(receipt)` once it is read or given up. */
function readingNotice(r, scan, whenRead) {
  const out = notice(readingSays(scan), "warn");
  if (scan.ocr_status !== "pending") return out;
  let placed = false, waits = 0;
  const poll = async () => {
    if (out.isConnected) placed = true;
    else if (placed || ++waits > UNPLACED_POLLS) return; // the screen or document was left: asked no more
    let fresh;
    try { fresh = await get(`/receipts/${r.id}`); } catch { return setTimeout(poll, READING_POLL_MS); } // asked again
    const now = fresh.scans.find((s) => s.position === scan.position);
    if (!now || !out.isConnected && placed) return;
    if (now.ocr_status !== "pending") return whenRead(fresh);
    out.textContent = readingSays(now);
    setTimeout(poll, READING_POLL_MS);
  };
  setTimeout(poll, READING_POLL_MS);
  return out;
}

/** Document `position` of the receipt beside its text, with the list of all its documents. The
 * documents chosen one after the other are asked for through `ask`: the one chosen last is shown. */
async function scanPane(r, position = 1, ask = lastAsked()) {
  if (!r.scans.length) return null;
  const scan = r.scans.find((s) => s.position === position) || r.scans[0];
  const path = `/receipts/${r.id}/scans/${scan.position}`;
  // An e-mail (the message itself, message/rfc822) is no page a browser can show: its headers as
  // the receipt read them and the message to download; its text (the body) beside them.
  const email = scan.content_type === "message/rfc822";
  // The scan and its text at once: the screen waits for the slower of the two, not both in turn.
  const [url, read] = await Promise.all([email ? null : blobUrl(path), get(`${path}/text`).catch((e) => e)]);
  const viewer = email ? emailMessage(r, scan, path)
    : scan.content_type.startsWith("image/") && scan.content_type !== "image/tiff"
      ? h("img", { src: url, alt: `${t("scan")}: ${scan.filename}` })
      : h("iframe", { src: url, title: `${t("scan")}: ${scan.filename}` });
  let text;
  if (typeof read === "string") text = userText(read, "pre", { class: "ocr", tabindex: "0" });
  else if (read instanceof ApiError && read.status === 409) {
    text = readingNotice(r, scan, async (fresh) => { // read now: the document drawn again with its text
      const next = await scanPane(fresh, scan.position, ask);
      if (!pane.isConnected) return releaseDocuments(next);
      pane.replaceWith(next);
      releaseDocuments(pane);
    });
  } else throw read;
  const of = r.scans.length > 1 ? ` · ${t("scanOf", { n: scan.position, total: r.scans.length })}` : "";
  const pane = h("div", { class: "scans" },
    r.scans.length > 1 ? h("nav", { "aria-label": t("scanList") }, h("ol", { class: "scan-list" }, r.scans.map((s) =>
      h("li", {}, h("button", { type: "button", class: "link", "aria-current": s.position === scan.position ? "true" : null,
        onclick: async () => {
          const fresh = ask();
          const next = await scanPane(r, s.position, ask);
          if (!fresh()) return releaseDocuments(next); // another document was chosen meanwhile
          pane.replaceWith(next);
          releaseDocuments(pane);
          next.querySelector("#scan-h").setAttribute("tabindex", "-1");
          next.querySelector("#scan-h").focus();
        } }, `${s.position}. `, userText(s.filename)))))) : null,
    h("div", { class: "side-by-side" },
      h("section", { "aria-labelledby": "scan-h" }, h("h2", { id: "scan-h" }, t(email ? "emailMessage" : "scan"), of),
        h("div", { class: email ? "email-message" : "scan" }, viewer)),
      h("section", { "aria-labelledby": "ocr-h" }, h("h2", { id: "ocr-h" }, t(email ? "emailText" : "ocrText"), of), text)));
  return pane;
}

/** The e-mail a receipt came as: who sent it, the subject and date, its attachments, and the .eml to download. */
function emailMessage(r, scan, path) {
  const from = r.sender_email && r.sender_email !== r.sender_name ? `${r.sender_name} <${r.sender_email}>` : r.sender_name;
  const attached = r.scans.length - 1;
  return h("div", {},
    h("dl", { class: "facts" }, [["emailFrom", userText(from)], ["subject", userText(r.subject)], ["letterDate", fmtDate(r.letter_date)],
      ["attachments", attached ? t("attachmentsListed", { n: attached }) : t("none")]]
      .filter(([, v]) => v).map(([k, v]) => [h("dt", {}, t(k)), h("dd", {}, v)])),
    h("p", {}, h("button", { type: "button", onclick: () => downloadAs(path, scan.filename) },
      t("downloadMessage", { name: scan.filename }))));
}

function pullBack(r) {
  const form = h("form", { class: "inline-form", novalidate: true, "aria-label": t("pullBack") }, h("button", { type: "submit" }, t("pullBack")));
  const key = newKey();
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try { await call("POST", `/receipts/${r.id}/pull-back`, { key }); route(); } catch (err) { showProblem(form, err); }
  });
  return form;
}

/** Putting the receipt in a file already open: one of the open files the post holds (GET /files). */
function putInOpenFile(r) {
  const key = newKey();
  const choice = h("div");
  const button = h("button", { type: "submit", class: "primary" }, t("putInThisFile"));
  const form = h("form", { class: "card put-in-file", novalidate: true, "aria-label": t("putInOpenFile") }, choice,
    field({ name: "remarks", label: t("remarks") }), button);
  const load = () => {
    choice.setAttribute("aria-busy", "true");
    choice.replaceChildren(h("p", { class: "loading" }, t("loading")));
    button.disabled = true;
    all("/files", 1000).then((held) => {
      const open = held.filter((f) => f.status === "open");
      choice.replaceChildren(open.length ? field({ name: "file_id", label: t("fileToPutIn"), type: "select", required: true,
        options: open.map((f) => [f.id, `${f.file_number} — ${f.subject}`]) }) : notice(t("noFilesHeld"), "warn"));
      button.disabled = !open.length;
    }).catch((e) => choice.replaceChildren(failed(e, load))).finally(() => choice.removeAttribute("aria-busy"));
  };
  load();
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(button, async () => {
      try { await call("POST", `/receipts/${r.id}/put-in-file`, { key, body: values(form) }); route(); }
      catch (err) { showProblem(form, err); }
    });
  });
  return form;
}

function actions(r, main) {
  if (r.status === "open" && !holds(r.holder_post) && !r.opened) return pullBack(r); // the sender, until it is opened
  if (!holds(r.holder_post) || r.status !== "open") return null;
  if (r.physical && !r.received) return receiveForm(`/receipts/${r.id}`, route);
  const send = markForm({ receiptId: r.id, label: t("sendTo"), button: t("send"), priority: r.priority, onDone: () => route() });
  const fileKey = newKey();
  const heads = h("div");
  const makeFile = h("form", { class: "card", novalidate: true, "aria-label": t("putInFile") }, heads,
    field({ name: "subject", label: t("subject"), required: true, value: r.subject, type: "textarea", attrs: { rows: "2" } }),
    field({ name: "priority", label: t("priority"), type: "select", options: opts("priority", ["normal", "urgent", "immediate"]), value: r.priority }),
    h("button", { type: "submit", class: "primary" }, t("putInFile")));
  get(`/offices/${encodeURIComponent(acting().office_code)}/subject-heads`).then((list) => heads.replaceChildren(
    field({ name: "subject_head", label: t("subjectHead"), type: "select", options: list.map((s) => [s.code, `${s.code} — ${s.title}`]) })))
    .catch(() => heads.replaceChildren(field({ name: "subject_head", label: t("subjectHead"), required: true })));
  makeFile.addEventListener("submit", async (e) => {
    e.preventDefault();
    const v = values(makeFile);
    try {
      const made = await call("POST", "/files", { key: fileKey, body: { subject_head: v.subject_head, subject: v.subject,
        priority: v.priority, receipt_id: r.id } });
      location.hash = `#/files/${made.id}`;
    } catch (err) { showProblem(makeFile, err); }
  });
  const closeKey = newKey();
  const close = h("form", { class: "card", novalidate: true, "aria-label": t("close") },
    field({ name: "remarks", label: t("remarks"), required: true }), h("button", { type: "submit" }, t("close")));
  close.addEventListener("submit", async (e) => {
    e.preventDefault();
    try { await call("POST", `/receipts/${r.id}/close`, { key: closeKey, body: values(close) }); route(); }
    catch (err) { showProblem(close, err); }
  });
  return h("div", { class: "actions-grid" },
    h("details", { open: true }, h("summary", {}, t("send")), send),
    h("details", {}, h("summary", {}, t("putInFile")), makeFile),
    h("details", {}, h("summary", {}, t("putInOpenFile")), putInOpenFile(r)),
    h("details", {}, h("summary", {}, t("close")), close));
}

export async function render(main, id) {
  const r = await get(`/receipts/${id}`);
  // The file it is in, named by its number (its tracking, which does not open the file).
  const [pane, inFile] = await Promise.all([scanPane(r), r.file_id ? get(`/files/${r.file_id}/track`).catch(() => null) : null]);
  const dl = h("dl", { class: "facts" },
    [["diaryNumber", r.diary_number], ["subject", userText(r.subject)], ["from", userText(r.sender_name)],
      ["letterNumber", r.letter_number], ["letterDate", fmtDate(r.letter_date)], ["receivedDate", fmtDate(r.received_date)],
      ["holder", r.holder_post], ["state", word("st", r.status)], ["due", fmtDate(r.due_date)]]
      .filter(([, v]) => v).map(([k, v]) => [h("dt", {}, t(k)), h("dd", {}, v)]));
  show(main, h("h1", {}, `${t("receipt")} ${r.diary_number}`),
    r.file_id ? h("p", { class: "in-file" }, t("inFile"), " ",
      h("a", { href: `#/files/${r.file_id}` }, inFile ? inFile.file_number : t("openFile"))) : null,
    pane, h("section", { "aria-labelledby": "det-h" }, h("h2", { id: "det-h" }, t("details")), dl),
    actions(r, main),
    movementList(r.movements));
}

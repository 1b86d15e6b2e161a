// Small helpers for building the page: elements from data (never from HTML strings, so text
// from the server cannot become markup), labelled form fields, and problems shown at the field.
import { t, has, lang, parseDate, dateInput } from "./i18n.js";
import { ApiError, SignedOut, blobUrl } from "./api.js";

/** h("p", {class: "x", onclick: f}, "text", child) -> element. */
export function h(tag, attrs = {}, ...children) {
  const el = tag.startsWith("svg:")
    ? document.createElementNS("http://www.w3.org/2000/svg", tag.slice(4))
    : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

let uid = 0;
export const nextId = (prefix = "f") => `${prefix}${++uid}`;

/**
 * A labelled field: {name, label, type, required, options: [[value, label]], value, hint}.
 * The error slot is named by aria-describedby so screen readers read the problem with the field.
 */
export function field({ name, label, type = "text", required, options, value, hint, attrs = {}, lang: fieldLang }) {
  const id = nextId(name);
  const err = h("p", { class: "field-error", id: `${id}-err`, hidden: true, "aria-live": "polite" });
  const hintEl = hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null;
  const described = [hintEl ? `${id}-hint` : null, `${id}-err`].filter(Boolean).join(" ");
  let input;
  const common = { id, name, required, "aria-describedby": described, lang: fieldLang, ...attrs };
  if (type === "select") {
    input = h("select", common, options.map(([v, l]) => h("option", { value: v, selected: v === value }, l)));
  } else if (type === "textarea") {
    input = h("textarea", common, value ?? "");
  } else if (type === "checkbox") {
    input = h("input", { ...common, type, checked: !!value });
    return h("div", { class: "field check" }, input, h("label", { for: id }, label), hintEl, err);
  } else {
    input = h("input", { ...common, type, value: value ?? "" });
  }
  return h("div", { class: "field" }, h("label", { for: id }, label, required ? h("span", { "aria-hidden": "true" }, " *") : null),
    hintEl, input, err);
}

/**
 * A date field, the one way the client asks for a date: typed as DD/MM/YYYY (Indian order, in
 * either language; a native date input shows the browser's locale, mm/dd/yyyy in many), with
 * the format as its placeholder and in its hint (read with the field), checked by values(),
 * which hands the API YYYY-MM-DD. `value` is YYYY-MM-DD.
 */
export function dateField({ name, label, required, value, hint }) {
  const box = field({ name, label, required, value: dateInput(value), hint: hint ? `${hint} ${t("dateHint")}` : t("dateHint"),
    attrs: { inputmode: "numeric", autocomplete: "off", maxlength: "10", placeholder: t("datePlaceholder"),
      pattern: "[0-9\u0966-\u096F]{1,2}/[0-9\u0966-\u096F]{1,2}/[0-9\u0966-\u096F]{4}", "data-date": "" } });
  const input = box.querySelector("input");
  // A date read is written back in full (5/3/2026 -> 05/03/2026). A problem is shown when the
  // form is sent, not when the field is left: a message appearing then would move the button
  // being clicked from under the pointer.
  input.addEventListener("change", () => {
    const read = parseDate(input.value);
    if (read.iso) input.value = dateInput(read.iso);
  });
  return box;
}

/** A form's problems found here, before any request, shown like the API's by showProblem. */
export class FieldProblems extends ApiError {
  constructor(errors) {
    super(422, { type: "urn:eoffice:problem:invalid-input", title: "invalid input", errors });
  }
}

/**
 * The values of a form's named fields, as the API wants them (empty text as "", dates as
 * YYYY-MM-DD); throws FieldProblems naming each date that cannot be read.
 */
export function values(form) {
  const out = {};
  const bad = [];
  for (const el of form.elements) {
    if (!el.name || el.type === "file" || (el.type === "radio" && !el.checked)) continue;
    out[el.name] = el.type === "checkbox" ? el.checked : el.value;
    if (el.hasAttribute("data-date")) {
      const read = parseDate(el.value);
      if (read.error) bad.push({ field: el.name, text: t(read.error, { date: el.value.trim() }) });
      else out[el.name] = read.iso;
    }
  }
  if (bad.length) throw new FieldProblems(bad);
  return out;
}

// What the server says about a field (pydantic's wording, or ours) -> the message people read,
// with {n} from the wording's first group. The first that matches wins; a field name (as the
// form names it) narrows a row to that field. Anything else: the server's own words.
const MESSAGES = [
  [/field required|missing|at least 1 (character|item)/i, "fieldRequired"],
  [/after today|future/i, "futureDate"],
  [/is after received_date/i, "afterReceived"],
  [/is in the past/i, "pastDate"],
  [/is not a working day/i, "notWorkingDay"],
  [/more than a year away/i, "tooFarAhead"],
  [/at most (\d+) years back/i, "tooOld"],
  [/(date_to|end_date|end) is before (date_from|start_date|start)/i, "dateOrder"],
  [/email address/i, "invalidEmail"],
  [/should match pattern/i, "invalidMobile", /mobile/],
  [/should match pattern/i, "badFormat"],
  [/valid date/i, "invalidDate"],
  [/valid time/i, "invalidTime"],
  [/valid (integer|number)/i, "invalidNumber"],
  [/valid URL|URL scheme|starts with https/i, "invalidUrl"],
  [/String should have at least (\d+)/i, "tooShort"],
  [/String should have at most (\d+)/i, "tooLong"],
  [/should have at most (\d+)/i, "tooMany"],
  [/greater than or equal to (-?[\d.]+)/i, "minValue"],
  [/less than or equal to (-?[\d.]+)/i, "maxValue"],
  [/greater than (-?[\d.]+)/i, "aboveValue"],
  [/less than (-?[\d.]+)/i, "belowValue"],
  [/^no post /i, "noSuchPost"],
  [/^Input should be '[^']*'((, | or )'[^']*')*$/i, "notAllowed"],
];

/** The server's words about a field, without pydantic's "Value error, " in front. */
const serverWords = (message) => String(message || "").replace(/^Value error, /, "");

/** A field's message in the user's language: a known wording becomes a clear message; any other
 * is "please correct this field" followed by the server's own words (English). A field left empty
 * that the server finds too short (an e-mail of at least 3 characters) is simply required. */
function fieldMessage(message, name, empty = false) {
  if (empty && /at least \d+ characters?/i.test(message)) return [t("fieldRequired")];
  for (const [pattern, key, only] of MESSAGES) {
    const found = pattern.exec(message);
    if (found && (!only || only.test(name))) return [t(key, { n: found[1] === undefined ? "" : Number(found[1]) })];
  }
  const words = serverWords(message);
  return [t("errorField"), " ", h("span", { lang: "en" }, `(${words})`)];
}

/** The field a problem names: "body.subject", "letter.subject" or "subject" -> "subject";
 * "body.body" (a note's text) -> "body"; "body.sender_email.function-after[...]" -> "sender_email".
 * Only the leading location (body, query, path, the multipart part) is not a field. */
function fieldName(path) {
  const parts = String(path).split(".");
  if (parts.length > 1 && ["body", "query", "path", "letter", "form"].includes(parts[0])) parts.shift();
  return parts[0];
}

export function clearProblems(form) {
  form.querySelectorAll(".field-error").forEach((e) => { e.hidden = true; e.textContent = ""; });
  form.querySelectorAll("[aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
  form.querySelector(".form-problem")?.remove();
}

/**
 * What went wrong, for people: the kind of problem in the user's language, then the server's
 * own words (English, secondary) when they say more. Any error: an ApiError, or one of ours.
 */
export function explain(error) {
  const api = error instanceof ApiError;
  const problem = api ? error.problem : { detail: error?.message || String(error) };
  const key = `problem_${(api ? error.type : "internal").replaceAll("-", "_")}`;
  const words = problem.detail || (has(key) ? null : problem.title);
  return [has(key) ? t(key) : t("error"), words ? h("span", { lang: "en", class: "detail" }, ` ${words}`) : null];
}

/** A failure where something was to be drawn: what went wrong and a button to try again. */
export function failed(error, retry) {
  return h("div", { class: "notice error", role: "alert" }, explain(error), " ",
    h("button", { type: "button", onclick: retry }, t("retry")));
}

/**
 * Shows an API problem: each named field gets its message beside it, in the user's language,
 * the first bad field takes the focus, and the problem's title goes above the form, with why
 * whenever that is not at a field (a problem naming no field, or one this form does not have).
 */
export function showProblem(form, error) {
  clearProblems(form);
  const problem = error instanceof ApiError ? error.problem : {};
  const named = problem.errors?.length ? problem.errors : problem.field ? [{ field: problem.field, message: problem.detail }] : [];
  const elsewhere = []; // named, but not a field of this form: said above it
  for (const { field: path, message, text } of named) {
    const name = fieldName(path);
    const input = name ? form.elements.namedItem(name) : null;
    const el = input instanceof RadioNodeList ? input[0] : input;
    const slot = el && el.getRootNode().querySelector(`#${CSS.escape(`${el.id}-err`)}`); // the form may not be shown yet
    if (!slot) { elsewhere.push(text ? [text] : fieldMessage(message || "", name || "")); continue; }
    // One message a field, the first: a union type names each of its branches.
    if (el.getAttribute("aria-invalid") === "true") continue;
    el.setAttribute("aria-invalid", "true");
    const empty = typeof el.value === "string" && !["checkbox", "radio", "file"].includes(el.type) && !el.value.trim();
    slot.replaceChildren(...(text ? [text] : fieldMessage(message || "", name, empty))); // `text`: ours, already translated
    slot.hidden = false;
  }
  const why = named.length ? elsewhere.map((m) => h("span", { class: "detail" }, " ", ...m)) : explain(error).slice(1);
  const box = h("div", { class: "form-problem", role: "alert" }, explain(error)[0], why);
  form.prepend(box);
  const first = form.querySelector("[aria-invalid=true]"); // the first in reading order, not in the server's
  if (first) first.focus();
  else { box.setAttribute("tabindex", "-1"); box.focus(); }
}

/**
 * "Load more" under a list whose next page starts at `cursor` (nothing when there is none):
 * `load(cursor)` answers {items, next_cursor}; `add(items, more)` draws them (`more`: the list
 * goes on) and returns the first new element, which takes the focus. A failure is said beside
 * the button, which then tries again.
 */
export function loadMore(cursor, load, add) {
  if (!cursor) return null;
  const box = h("p", { class: "more" });
  const button = h("button", { type: "button", onclick: () => busy(button, async () => {
    try {
      const page = await load(cursor);
      cursor = page.next_cursor;
      const first = add(page.items, !!cursor);
      if (cursor) box.replaceChildren(button); else box.remove();
      (first?.querySelector("a, button") || first)?.focus();
    } catch (e) {
      if (e instanceof SignedOut) throw e;
      box.replaceChildren(button, " ", h("span", { role: "alert", class: "field-error" }, explain(e)));
    }
  }, { box }) }, t("loadMore"));
  box.append(button);
  return box;
}

/**
 * Runs `work()` while `button` is disabled and its form (or `box`) is marked aria-busy, with
 * `label` on the button meanwhile if given ("Signing and issuing…"): a step that takes a while
 * shows it is running and cannot be started twice. Answers what `work()` answers; the button and
 * its form are given back as they were whatever happens.
 */
export async function busy(button, work, { label, box = button.closest("form") || button.parentElement } = {}) {
  const [text, was] = [button.textContent, button.disabled];
  button.disabled = true;
  box.setAttribute("aria-busy", "true");
  if (label) button.textContent = label;
  try { return await work(); } finally {
    button.disabled = was;
    box.removeAttribute("aria-busy");
    if (label) button.textContent = text;
  }
}

/** A file the API refuses is named by its own name (the name it was uploaded under): the
 * problem is moved to the file field of `form` it was chosen in, so showProblem says it there. */
export function atFileFields(form, error) {
  for (const input of form.querySelectorAll("input[type=file]")) {
    const chosen = [...input.files].map((f) => f.name);
    error.problem?.errors?.forEach((x) => { if (chosen.includes(x.field)) x.field = input.name; });
    if (chosen.includes(error.problem?.field)) error.problem.field = input.name;
  }
  return error;
}

/**
 * For a part of a screen drawn from an answer that may come after the user asked again (another
 * office chosen, another document, a filter changed): `const ask = lastAsked();`, then per
 * request `const fresh = ask();` before asking and `if (!fresh()) return;` once answered. Only
 * the answer to the last request asked is drawn; an earlier one, come late, is dropped.
 */
export function lastAsked() {
  let asked = 0;
  return () => {
    const mine = ++asked;
    return () => mine === asked;
  };
}

/** loadMore for a list element: each next page's items drawn by `draw(item)` and appended to `list`. */
export function loadMoreInto(list, cursor, load, draw) {
  return loadMore(cursor, load, (items) => {
    const more = items.map(draw);
    list.append(...more);
    return more[0];
  });
}

/** Keeps `text` to show, as a notice of `kind`, atop the next screen drawn (app.js): for a step
 * that goes on to another screen. */
export function flash(text, kind = "ok") {
  sessionStorage.setItem("eoffice.flash", text);
  sessionStorage.setItem("eoffice.flash.kind", kind);
}

/** A table that may be wider than the screen (a phone) scrolls within its own box, named by
 * `label`, which the keyboard reaches: the page itself never scrolls sideways. */
export function wide(label, table) {
  return h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": label }, table);
}

/** A message line that screen readers announce. */
export function notice(text, kind = "ok") {
  return h("p", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}

/** Text in Hindi or English as the data says, marked with its language for screen readers and fonts. */
export function bi(en, hi) {
  return lang() === "hi" && hi ? h("span", { lang: "hi" }, hi) : h("span", { lang: "en" }, en);
}

/** Marks text that may be Devanagari (user content) so it gets the right font and voice. */
export function userText(text, tag = "span", attrs = {}) {
  const isHindi = /[\u0900-\u097F]/.test(text || "");
  return h(tag, { lang: isHindi ? "hi" : "en", ...attrs }, text || "");
}

/** Replaces what `parent` shows with `children`, skipping the empty ones (null, false). */
export function show(parent, ...children) {
  parent.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

/** Lets the browser free the documents that `el` shows from memory (the object URLs of its images
 * and frames): for a screen, or part of one, replaced or dropped. An object URL lives until the
 * page is closed otherwise, and a clerk's page stays open all day. */
export function releaseDocuments(el) {
  el?.querySelectorAll("img[src^='blob:'],iframe[src^='blob:']").forEach((d) => URL.revokeObjectURL(d.src));
}

/** Fetches the document at `path` with the token and hands it to the browser to save as `filename`. */
export async function downloadAs(path, filename) {
  const url = await blobUrl(path);
  const a = h("a", { href: url, download: filename.replace(/[^\p{L}\p{N}._-]+/gu, "_") });
  document.body.append(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

// Small helpers for building the page: elements from data (never from HTML strings, so text
// from the server cannot become markup), labelled form fields, and problems shown at the field.
import { t, has, lang, parseDate, dateInput } from "./i18n.js";
import { ApiError } from "./api.js";

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

const MESSAGES = [
  [/field required|missing/i, "fieldRequired"],
  [/at least/i, "tooShort"],
  [/at most/i, "tooLong"],
  [/after today|future/i, "futureDate"],
];

function fieldMessage(message) {
  for (const [pattern, key] of MESSAGES) if (pattern.test(message)) return t(key);
  return t("errorField");
}

/** The field a problem names: "body.subject" or "letter.subject" or "subject" -> "subject". */
function fieldName(path) {
  const parts = String(path).split(".").filter((p) => !["body", "query", "path", "letter", "form"].includes(p));
  return parts[0];
}

export function clearProblems(form) {
  form.querySelectorAll(".field-error").forEach((e) => { e.hidden = true; e.textContent = ""; });
  form.querySelectorAll("[aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
  form.querySelector(".form-problem")?.remove();
}

/**
 * Shows an API problem: each named field gets its message beside it, in the user's language
 * (with the server's own words after, marked English), the first bad field takes the focus,
 * and the problem's title goes above the form.
 */
export function showProblem(form, error) {
  clearProblems(form);
  const problem = error instanceof ApiError ? error.problem : { detail: String(error) };
  const type = error instanceof ApiError ? error.type : "internal";
  const named = problem.errors?.length ? problem.errors : problem.field ? [{ field: problem.field, message: problem.detail }] : [];
  let first = null;
  for (const { field: path, message, text } of named) {
    const input = form.elements.namedItem(fieldName(path));
    const el = input instanceof RadioNodeList ? input[0] : input;
    if (!el) continue;
    el.setAttribute("aria-invalid", "true");
    const slot = document.getElementById(`${el.id}-err`);
    if (slot && text) slot.replaceChildren(text); // found here, already in the user's language
    else if (slot) {
      slot.replaceChildren(fieldMessage(message || ""), lang() === "en" ? "" : " ",
        lang() === "en" ? ` (${message})` : h("span", { lang: "en" }, `(${message})`));
    }
    if (slot) slot.hidden = false;
    first ||= el;
  }
  const key = `problem_${type.replaceAll("-", "_")}`;
  const box = h("div", { class: "form-problem", role: "alert" }, has(key) ? t(key) : t("error"),
    !named.length && problem.detail ? h("span", { lang: "en", class: "detail" }, ` ${problem.detail}`) : null);
  form.prepend(box);
  first = form.querySelector("[aria-invalid=true]"); // the first in reading order, not in the server's
  if (first) first.focus();
  else { box.setAttribute("tabindex", "-1"); box.focus(); }
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

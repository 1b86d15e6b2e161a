// The post picker: a combobox (ARIA 1.2 pattern) that asks GET /posts?q= as the user types a
// designation or marking code, in Hindi or English; chosen posts become removable chips.
// Arrow keys move in the list, Enter picks, Escape closes, Backspace in an empty box removes
// the last chip. A marking code typed in full is the post it names, even before the list shows
// (Enter at once, or the form sent); typed text that names no post asks for one from the list.
import { get } from "./api.js";
import { h, nextId, bi, showProblem, FieldProblems, lastAsked } from "./dom.js";
import { t } from "./i18n.js";

export function postPicker({ name, label, multiple = true, hint }) {
  const id = nextId("picker");
  const chosen = [];
  const chips = h("ul", { class: "chips", "aria-label": label });
  const list = h("ul", { id: `${id}-list`, role: "listbox", class: "options", hidden: true });
  const err = h("p", { class: "field-error", id: `${id}-err`, hidden: true, "aria-live": "polite" });
  const hintEl = hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null;
  const input = h("input", {
    id, name, type: "text", role: "combobox", autocomplete: "off", "aria-autocomplete": "list",
    "aria-expanded": "false", "aria-controls": `${id}-list`, "aria-describedby": `${hint ? `${id}-hint ` : ""}${id}-err`,
    placeholder: t("pickPost"),
  });
  const status = h("p", { class: "visually-hidden", role: "status" });
  let options = [];
  let active = -1;
  let timer = null;
  const asking = lastAsked(); // a list still on its way when asked again (or a post chosen) is not shown
  let listed = null; // the text the list on screen was asked for

  function renderChips() {
    chips.replaceChildren(...chosen.map((p, i) => h("li", { class: "chip" },
      h("span", { class: "code" }, p.code), " ", bi(p.designation_en, p.designation_hi),
      h("button", { type: "button", class: "chip-remove", "aria-label": `${t("remove")} ${p.code}`,
        onclick: () => { chosen.splice(i, 1); renderChips(); refocus(); } }, "×"))));
    input.hidden = !multiple && chosen.length > 0;
  }

  // Where the focus goes after a choice: the box, or (one post only, the box gone) the chip's button.
  const refocus = () => (input.hidden ? chips.querySelector(".chip-remove") : input).focus();

  function close() {
    list.hidden = true; input.setAttribute("aria-expanded", "false"); input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function highlight(i) {
    active = i;
    [...list.children].forEach((li, j) => li.setAttribute("aria-selected", String(j === i)));
    if (i >= 0 && list.children[i]) {
      input.setAttribute("aria-activedescendant", list.children[i].id);
      list.children[i].scrollIntoView({ block: "nearest" });
    }
  }

  function choose(p) {
    if (!p) return;
    if (!chosen.some((c) => c.code === p.code)) chosen.push(p);
    input.value = ""; close(); renderChips(); refocus();
    err.hidden = true; input.removeAttribute("aria-invalid"); // a post is chosen now
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }

  const exact = (posts, q) => posts.find((p) => p.code.toLowerCase() === q.toLowerCase());
  const ask = (q) => get(`/posts?q=${encodeURIComponent(q)}&limit=15`).catch(() => []);

  /** The post whose code is typed in full, chosen now (no list needed); false if none is. */
  async function chooseTyped() {
    const q = input.value.trim();
    clearTimeout(timer);
    const fresh = asking(); // a list still on its way is not shown over the choice
    const p = exact(options, q) || exact(await ask(q), q);
    if (fresh()) close();
    if (p) choose(p);
    return !!p;
  }

  async function lookUp() {
    const q = input.value.trim();
    if (!q) return close();
    const fresh = asking();
    const found = await ask(q);
    if (!fresh()) return; // a later keystroke already asked again
    options = found.filter((p) => !chosen.some((c) => c.code === p.code));
    listed = q;
    list.replaceChildren(...(options.length ? options.map((p, i) => h("li", {
      id: `${id}-o${i}`, role: "option", "aria-selected": "false",
      onmousedown: (e) => { e.preventDefault(); choose(p); },
    }, h("span", { class: "code" }, p.code), " ", bi(p.designation_en, p.designation_hi),
    p.holders.length ? h("span", { class: "muted" }, " — ", bi(p.holders[0].name_en, p.holders[0].name_hi)) : null))
      : [h("li", { class: "muted", role: "option", "aria-disabled": "true", id: `${id}-none` }, t("noPosts"))]));
    list.hidden = false; input.setAttribute("aria-expanded", "true");
    status.textContent = options.length ? `${options.length}` : t("noPosts");
    const typed = exact(options, q); // a code typed in full: Enter picks it, whatever comes first
    highlight(typed ? options.indexOf(typed) : options.length ? 0 : -1);
  }

  input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(lookUp, 150); });
  input.addEventListener("blur", () => setTimeout(close, 100));
  input.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown" && !list.hidden) { e.preventDefault(); highlight(Math.min(active + 1, options.length - 1)); }
    else if (e.key === "ArrowUp" && !list.hidden) { e.preventDefault(); highlight(Math.max(active - 1, 0)); }
    else if (e.key === "Enter" && !list.hidden && active >= 0 && listed === input.value.trim()) {
      e.preventDefault(); e.stopPropagation(); choose(options[active]);
    } else if (e.key === "Enter" && input.value.trim()) { // before the list for it came, or with none to pick from
      e.preventDefault(); e.stopPropagation();
      chooseTyped().then((found) => found || showProblem(input.form, askForPost()));
    } else if (e.key === "Escape") close();
    else if (e.key === "Backspace" && !input.value && chosen.length) { chosen.pop(); renderChips(); }
  });

  const root = h("div", { class: "field picker" }, h("label", { for: id }, label), hintEl, chips,
    h("div", { class: "combo" }, input, list), err, status);
  const askForPost = () => new FieldProblems([{ field: name, text: t("choosePost") }]);
  root.chosen = () => chosen.map((p) => p.code);
  /** The chosen posts' codes, a code typed in full counted as chosen; throws FieldProblems
   * (shown at the picker by showProblem) asking for a post from the list when there is none. */
  root.picked = async () => {
    if (input.value.trim() && !(await chooseTyped())) throw askForPost();
    if (!chosen.length) throw askForPost();
    return root.chosen();
  };
  root.input = input;
  return root;
}

// The difference between two versions of a draft, word by word (longest common subsequence),
// shown as <ins> and <del> so it is visible without colour and read out by screen readers.
import { h } from "./dom.js";
import { t } from "./i18n.js";

function lcsTable(a, b) {
  const m = a.length, n = b.length;
  const table = Array.from({ length: m + 1 }, () => new Uint32Array(n + 1));
  for (let i = m - 1; i >= 0; i--) for (let j = n - 1; j >= 0; j--)
    table[i][j] = a[i] === b[j] ? table[i + 1][j + 1] + 1 : Math.max(table[i + 1][j], table[i][j + 1]);
  return table;
}

/** [["=", text] | ["-", text] | ["+", text]] between old and new text, by words and spaces. */
export function diffWords(oldText, newText) {
  const a = oldText.split(/(\s+)/), b = newText.split(/(\s+)/);
  const table = lcsTable(a, b);
  const out = [];
  let i = 0, j = 0;
  const push = (op, s) => (out.length && out[out.length - 1][0] === op ? (out[out.length - 1][1] += s) : out.push([op, s]));
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) { push("=", a[i]); i++; j++; }
    else if (table[i + 1][j] >= table[i][j + 1]) push("-", a[i++]);
    else push("+", b[j++]);
  }
  while (i < a.length) push("-", a[i++]);
  while (j < b.length) push("+", b[j++]);
  return out;
}

export function diffView(oldText, newText, textLang) {
  return h("div", { class: "diff", lang: textLang }, diffWords(oldText, newText).map(([op, s]) =>
    op === "=" ? s : op === "+" ? h("ins", { title: t("added") }, s) : h("del", { title: t("removed") }, s)));
}

// A physical receipt or file reaches its holder on paper: nothing else can be done with it until
// the holder says it has (rule 3). The one action shown then, on the receipt's and the file's screen.
import { call, newKey } from "./api.js";
import { h, showProblem } from "./dom.js";
import { t } from "./i18n.js";

/** "The paper has reached me" for the item at `path` (/receipts/{id} or /files/{id}); then `onDone()`. */
export function receiveForm(path, onDone) {
  const key = newKey();
  const form = h("form", { class: "card receive", novalidate: true, "aria-label": t("receivePaper") },
    h("p", {}, t("paperNotReceived")), h("button", { type: "submit", class: "primary" }, t("receivePaper")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try { await call("POST", `${path}/receive`, { key }); onDone(); } catch (err) { showProblem(form, err); }
  });
  return form;
}

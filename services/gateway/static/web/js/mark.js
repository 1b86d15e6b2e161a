// Marking (sending) a receipt to one or several posts: the post picker, remarks, priority and
// due date, posted to /receipts/{id}/send. The first post chosen gets the receipt, the others a
// copy each. Used by the clerk after diarising and by the holder of a receipt.
import { call, newKey } from "./api.js";
import { h, field, dateField, values, showProblem } from "./dom.js";
import { t } from "./i18n.js";
import { postPicker } from "./picker.js";

export function markForm({ receiptId, label, button, priority = "normal", onDone }) {
  const picker = postPicker({ name: "to_post", label, hint: t("markHint") });
  const key = newKey(); // one marking: a second submit after a lost answer marks once
  const form = h("form", { class: "card", novalidate: true, "aria-label": label }, picker,
    field({ name: "remarks", label: t("remarks") }),
    field({ name: "priority", label: t("priority"), type: "select", value: priority,
      options: ["normal", "urgent", "immediate"].map((v) => [v, t(`priority_${v}`)]) }),
    dateField({ name: "due_date", label: t("dueDate") }),
    h("button", { type: "submit", class: "primary" }, button));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const [to, ...copies] = await picker.picked();
      const v = values(form);
      await call("POST", `/receipts/${receiptId}/send`, { key, body: { to_post: to, copy_to: copies, remarks: v.remarks,
        priority: v.priority, ...(v.due_date ? { due_date: v.due_date } : {}) } });
      onDone(picker.chosen(), form);
    } catch (err) {
      err.problem?.errors?.forEach((x) => { if (/to_post|copy_to/.test(x.field)) x.field = "to_post"; });
      showProblem(form, err);
    }
  });
  form.picker = picker;
  return form;
}

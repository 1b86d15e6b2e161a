// A file as officers know it: the notesheet on the left (green notes, your yellow notes, the
// note you are writing), the correspondence and drafts on the right. Clicking a page or a note
// adds it to the references of the note being written. The note being written is kept in
// localStorage as you type (drafts.js), and a note sent while the session has ended is sent
// again after the next sign-in (pending.js).
import { get, call, newKey, session, upload } from "../api.js";
import { show, h, field, dateField, values, showProblem, clearProblems, notice, userText, flash, busy, atFileFields,
  FieldProblems, downloadAs } from "../dom.js";
import { t, word, fmtDate, fmtDateTime, lang } from "../i18n.js";
import { postPicker } from "../picker.js";
import { holds, acting } from "../actor.js";
import { sendKept } from "../pending.js";
import { receiveForm } from "../receive.js";
import { draftKey } from "../drafts.js";
import { diffView } from "../diff.js";
import { route } from "../app.js";
import { MOST_LEVELS, warningText } from "../movements.js";

const refsText = (refs) => [...(refs.pages || []).map((p) => `${t("page")} ${p}`), ...(refs.notes || []).map((n) => `${t("note")} #${n}`)].join(", ");

export async function render(main, id) {
  // The chain's check names the signed notes; without a signing service it still answers.
  const [f, checked] = await Promise.all([get(`/files/${id}`), get(`/files/${id}/verify`).catch(() => null)]);
  const signedNotes = new Set((checked?.signatures || []).map((x) => x.seq));
  const myLast = [...f.notes].reverse().find((n) => n.author_post === acting().code)?.seq;
  // A physical file not yet received is received before anything else is done with it (rule 3).
  const toReceive = holds(f.holder_post) && f.status !== "closed" && f.physical && !f.received;
  const mine = holds(f.holder_post) && f.status !== "closed" && !toReceive;
  // Pulled back by the post that sent it, until the recipient opens it.
  const lastMove = f.movements.at(-1);
  const mayPullBack = !f.opened && lastMove && holds(lastMove.from_post) && lastMove.to_post === f.holder_post;
  const kept = draftKey(session(), id); // the note being written: this person's, as this post
  const refs = { pages: new Set(), notes: new Set() };
  const refList = h("ul", { class: "chips", "aria-label": t("refs") });
  const rerender = () => route(); // drawn again from the server, as the router does

  function drawRefs() {
    refList.replaceChildren(...[...refs.pages].map((p) => ["pages", p, `${t("page")} ${p}`]).concat([...refs.notes].map((n) => ["notes", n, `${t("note")} #${n}`]))
      .map(([kind, n, label]) => h("li", { class: "chip" }, label, h("button", { type: "button", class: "chip-remove",
        "aria-label": `${t("remove")} ${label}`, onclick: () => { refs[kind].delete(n); drawRefs(); } }, "×"))));
  }
  const refer = (kind, n) => { refs[kind].add(n); drawRefs(); composer.elements.body?.focus(); };

  // --- the notesheet -------------------------------------------------------------------
  const green = h("ol", { class: "notes" }, f.notes.map((n) => h("li", { class: "note green", id: `note-${n.seq}` },
    h("header", {}, h("span", { class: "seq" }, `#${n.seq}`), " ", t("noteBy", { post: n.author_post }), " · ",
      h("time", { datetime: n.confirmed_at }, fmtDateTime(n.confirmed_at))),
    userText(n.body, "p", { class: "body" }),
    (n.refs.pages?.length || n.refs.notes?.length) ? h("p", { class: "refs" }, `${t("refs")}: `,
      ...(n.refs.pages || []).map((p) => h("a", { href: `#page-${p}`, class: "ref" }, `${t("page")} ${p}`)),
      ...(n.refs.notes || []).map((m) => h("a", { href: `#note-${m}`, class: "ref" }, `${t("note")} #${m}`))) : null,
    mine ? h("button", { type: "button", class: "link", onclick: () => refer("notes", n.seq) }, t("refNote", { n: n.seq })) : null,
    signedNotes.has(n.seq) ? h("p", { class: "signed" }, h("a", { href: `#/files/${id}/notes/${n.seq}/signature` }, t("signedVerify")))
      : mine && n.seq === myLast ? h("p", {}, h("a", { href: `#/files/${id}/notes/${n.seq}/sign` }, t("signWithToken"))) : null)));
  green.addEventListener("click", (e) => {  // in-page references: move focus, not the router
    const a = e.target.closest("a.ref");
    if (!a) return;
    e.preventDefault();
    const target = document.getElementById(a.getAttribute("href").slice(1));
    target?.setAttribute("tabindex", "-1"); target?.focus(); target?.scrollIntoView({ block: "center" });
  });

  const yellow = f.my_yellow_notes.filter((n) => n.state === "draft" || n.state === "yellow" || !n.state || n.state === "open").map((n) => {
    const form = h("form", { class: "note yellow", novalidate: true, "aria-label": t("yellowNote") },
      h("p", { class: "tag-yellow" }, t("yellowNote"), n.refs && (n.refs.pages?.length || n.refs.notes?.length) ? ` · ${refsText(n.refs)}` : ""),
      field({ name: "body", label: t("noteBody"), type: "textarea", value: n.body, attrs: { rows: "3" } }),
      h("div", { class: "buttons" },
        h("button", { type: "submit" }, t("save")),
        h("button", { type: "button", onclick: () => step("confirm") }, t("confirm")),
        h("button", { type: "button", onclick: () => step("discard") }, t("discard"))));
    async function step(what) {
      try { await call("POST", `/files/${id}/yellow-notes/${n.id}/${what}`, { body: { version: n.version } }); rerender(); }
      catch (err) { showProblem(form, err); }
    }
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      try { await call("PATCH", `/files/${id}/yellow-notes/${n.id}`, { body: { body: values(form).body, refs: n.refs, version: n.version } }); rerender(); }
      catch (err) { showProblem(form, err); }
    });
    return form;
  });

  const composer = h("form", { class: "card composer", novalidate: true, "aria-label": t("noteBody") },
    field({ name: "body", label: t("noteBody"), type: "textarea", value: localStorage.getItem(kept) || "",
      attrs: { rows: "5" }, lang: lang() }),
    h("p", { class: "hint" }, t("refs")), refList,
    h("div", { class: "buttons" },
      h("button", { type: "submit", value: "yellow" }, t("saveYellow")),
      h("button", { type: "submit", value: "green", class: "primary" }, t("saveGreen"))));
  // One per note: pressed again before the file is drawn again (with a new composer, a new key), it is sent once.
  const noteKey = newKey();
  composer.elements.body.addEventListener("input", (e) => localStorage.setItem(kept, e.target.value));
  composer.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearProblems(composer);
    const body = { body: composer.elements.body.value, green: e.submitter?.value === "green",
      refs: { pages: [...refs.pages], notes: [...refs.notes] } };
    try {
      await sendKept("POST", `/files/${id}/notes`, body, noteKey, kept);
      localStorage.removeItem(kept);
      rerender();
    } catch (err) {
      if (err.status !== 401) showProblem(composer, err);
      else throw err; // the shell asks for a sign-in; the note is kept and sent after it
    }
  });

  // --- correspondence ------------------------------------------------------------------
  // A document uploaded or an issued letter, saved under the name it was uploaded with.
  const download = (c) => downloadAs(`/files/${id}/correspondence/${c.id}/document`, c.filename);
  // The holder flags the paper under consideration: one at a time, so the tag moves to it. On the
  // PUC itself the holder takes the flag off (once it has been dealt with): then no item is the PUC.
  const flagPuc = (c) => {
    const puc = !c.puc; // what the item is to become
    const button = h("button", { type: "submit", class: "link" }, t(puc ? "flagPuc" : "unflagPuc"));
    const form = h("form", { class: "inline-form flag-puc", novalidate: true,
      "aria-label": t(puc ? "flagPucOf" : "unflagPucOf", { title: c.title }) }, button);
    const key = newKey();
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      busy(button, async () => {
        try { await call("POST", `/files/${id}/correspondence/${c.id}/flag`, { key, body: { puc } }); rerender(); }
        catch (err) { showProblem(form, err); }
      });
    });
    return form;
  };
  const items = h("ol", { class: "items" }, f.correspondence.map((c) => {
    const pages = [];
    for (let p = c.first_page; p <= c.last_page && pages.length < 10; p++) pages.push(p);
    return h("li", { id: `page-${c.first_page}` },
      h("p", {}, c.receipt_id ? h("a", { href: `#/receipts/${c.receipt_id}` }, userText(c.title)) : userText(c.title), " ",
        c.filename ? h("button", { type: "button", class: "link", onclick: () => download(c) }, t("download")) : null, " ",
        c.puc ? h("span", { class: "tag" }, t("puc")) : null, c.fr_number ? h("span", { class: "tag" }, t("fr", { n: c.fr_number })) : null),
      h("p", { class: "muted" }, `${t("pages")} ${c.first_page}–${c.last_page}`),
      mine ? flagPuc(c) : null,
      mine ? h("p", { class: "page-refs" }, pages.map((p) => h("button", { type: "button", class: "link", onclick: () => refer("pages", p) }, t("refPage", { n: p })))) : null);
  }));

  // A document added by the holder: one on paper (its pages counted by hand), or a file uploaded
  // (the server counts its pages). A file the server refuses is said at the file's field.
  function documentForm() {
    const key = newKey();
    const pagesBox = h("div", {}, field({ name: "pages", label: t("docPages"), type: "number", value: "1", required: true,
      attrs: { min: "1", max: "2000", inputmode: "numeric" } }));
    const fileBox = h("div", { hidden: true }, field({ name: "document", label: t("docFile"), type: "file", required: true,
      attrs: { accept: "application/pdf,image/jpeg,image/png,image/tiff" } }));
    const progress = h("progress", { max: "1", value: "0", hidden: true, "aria-label": t("uploading") });
    const how = h("fieldset", { class: "kinds" }, h("legend", {}, t("docHow")),
      [["paper", "docPaper"], ["upload", "docUpload"]].map(([v, label]) => h("label", { class: "inline" },
        h("input", { type: "radio", name: "how", value: v, checked: v === "paper",
          onchange: () => { pagesBox.hidden = v !== "paper"; fileBox.hidden = v === "paper"; } }), " ", t(label))));
    const button = h("button", { type: "submit", class: "primary" }, t("addToCorrespondence"));
    const form = h("form", { class: "card add-document", novalidate: true, "aria-label": t("addDocument") },
      field({ name: "title", label: t("docTitle"), required: true }), how, pagesBox, fileBox, progress, button);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      busy(button, async () => {
        clearProblems(form);
        try {
          const v = values(form);
          if (v.how === "paper") {
            await call("POST", `/files/${id}/documents`, { key, body: { title: v.title, pages: Number(v.pages) } });
          } else {
            const chosen = form.elements.document.files[0];
            if (!chosen) throw new FieldProblems([{ field: "document", text: t("fieldRequired") }]);
            const data = new FormData();
            data.append("title", v.title);
            data.append("document", chosen);
            progress.hidden = false;
            await upload(`/files/${id}/documents/upload`, data, { key, onProgress: (p) => { progress.value = p; } });
          }
          rerender();
        } catch (err) {
          progress.hidden = true;
          showProblem(form, atFileFields(form, err));
        }
      });
    });
    return h("details", { class: "add-document" }, h("summary", {}, t("addDocument")), form);
  }

  // --- drafts and the letters issued from them ------------------------------------------
  // Without a signing service the file still opens: no letters listed, issuing answers its problem.
  const letters = await get(`/files/${id}/letters`).catch(() => []);
  const issuedDrafts = new Set(letters.map((l) => l.draft_id));
  const issued = letters.length ? h("section", { "aria-labelledby": "let-h" }, h("h3", { id: "let-h" }, t("issuedLetters")),
    h("ul", { class: "plain letters" }, letters.map((l) => h("li", {}, h("span", { class: "code" }, l.letter_number), " ",
      userText(l.title), " · ", t("signedBy", { name: l.signer_name }), " · ", h("time", { datetime: l.issued_at }, fmtDateTime(l.issued_at)),
      " · ", h("a", { href: `#/letters/${l.id}/verify` }, t("verifyLetter", { number: l.letter_number })))))) : null;
  const drafts = h("div", {}, await Promise.all(f.drafts.map(async (d) => {
    const versions = await get(`/files/${id}/drafts/${d.id}/versions`);
    const current = versions.find((v) => v.version === d.current_version) || versions[versions.length - 1];
    const diffBox = h("div", { class: "diff-box" });
    const pick = (name, value) => h("select", { name, "aria-label": name === "a" ? t("compare") : t("compareWith") },
      versions.map((v) => h("option", { value: v.version, selected: v.version === value }, t("version", { n: v.version }))));
    const a = pick("a", Math.max(1, d.current_version - 1)), b = pick("b", d.current_version);
    const showDiff = () => {
      const va = versions.find((v) => v.version === Number(a.value)), vb = versions.find((v) => v.version === Number(b.value));
      diffBox.replaceChildren(diffView(va.body, vb.body, /[\u0900-\u097F]/.test(vb.body) ? "hi" : "en"));
    };
    a.addEventListener("change", showDiff); b.addEventListener("change", showDiff);
    const revise = h("form", { class: "revise", novalidate: true, "aria-label": t("newVersion") },
      field({ name: "body", label: t("draftBody"), type: "textarea", value: current?.body || "", attrs: { rows: "4" } }),
      h("button", { type: "submit" }, t("newVersion")));
    revise.addEventListener("submit", async (e) => {
      e.preventDefault();
      try { await call("POST", `/files/${id}/drafts/${d.id}/versions`, { body: { body: values(revise).body, version: d.current_version } }); rerender(); }
      catch (err) { showProblem(revise, err); }
    });
    const approveForm = h("form", { novalidate: true, "aria-label": t("approve") }, h("button", { type: "submit", class: "primary" }, t("approve")));
    approveForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      try { await call("POST", `/files/${id}/drafts/${d.id}/approve`, { body: { version: d.current_version } }); rerender(); }
      catch (err) { showProblem(approveForm, err); }
    });
    // A draft that will not be issued is withdrawn, saying why (an approved one by an officer):
    // it stays here, and no longer keeps the file from closing.
    const withdrawKey = newKey();
    const withdrawForm = h("form", { class: "withdraw", novalidate: true, "aria-label": t("withdrawDraft") },
      field({ name: "remarks", label: t("withdrawWhy"), required: true }),
      h("button", { type: "submit" }, t("withdrawDraft")));
    withdrawForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      try { await call("POST", `/files/${id}/drafts/${d.id}/withdraw`, { key: withdrawKey, body: { remarks: values(withdrawForm).remarks } }); rerender(); }
      catch (err) { showProblem(withdrawForm, err); }
    });
    const approved = d.status === "approved", withdrawn = d.status === "withdrawn";
    const state = withdrawn ? t("withdrawnBy", { post: d.withdrawn_post })
      : approved ? t("approved", { post: d.approved_post }) : t("draftStatus_pending");
    const box = h("article", { class: "draft card", "aria-labelledby": `draft-${d.id}` },
      h("h3", { id: `draft-${d.id}` }, userText(d.title), " · ", t("version", { n: d.current_version }), " · ",
        h("span", { class: `tag ${approved ? "ok" : ""}` }, state)),
      withdrawn ? h("p", { class: "hint" }, t("withdrawWhy"), ": ", userText(d.withdrawn_remarks || "")) : null,
      userText(current?.body || "", "div", { class: "draft-body" }),
      versions.length > 1 ? h("div", { class: "compare" }, h("span", {}, t("compare")), " ", a, " ", t("compareWith"), " ", b, diffBox) : null,
      mine && !approved && !withdrawn ? h("details", {}, h("summary", {}, t("newVersion")), revise) : null,
      mine && !approved && !withdrawn ? approveForm : null,
      // Signing and issuing (the office's key, the officer's USB token or Aadhaar eSign): a screen of its own.
      mine && approved && !issuedDrafts.has(d.id) ? h("p", {}, h("a", { href: `#/files/${id}/drafts/${d.id}/sign` }, t("issue"))) : null,
      mine && !withdrawn && !issuedDrafts.has(d.id) ? h("details", {}, h("summary", {}, t("withdrawDraft")), withdrawForm) : null);
    if (versions.length > 1) showDiff();
    return box;
  })));
  if (mine) {
    const add = h("form", { class: "card", novalidate: true, "aria-label": t("addDraft") },
      field({ name: "title", label: t("draftTitle"), required: true }),
      field({ name: "body", label: t("draftBody"), type: "textarea", required: true, attrs: { rows: "4" } }),
      h("button", { type: "submit" }, t("addDraft")));
    const key = newKey();
    add.addEventListener("submit", async (e) => {
      e.preventDefault();
      try { await call("POST", `/files/${id}/drafts`, { key, body: values(add) }); rerender(); }
      catch (err) { showProblem(add, err); }
    });
    drafts.append(h("details", {}, h("summary", {}, t("addDraft")), add));
  }

  // --- linked files and references -----------------------------------------------------
  // A linked file is considered with this one and moves with it; a reference only cites a file.
  const travelling = f.links.filter((l) => l.kind === "link");
  const unlinkForm = (l) => {
    const form = h("form", { class: "inline-form", novalidate: true, "aria-label": t("unlinkFile", { number: l.file_number }) },
      h("button", { type: "submit" }, t("unlink")));
    const key = newKey();
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      try { await call("DELETE", `/files/${id}/links/${l.id}`, { key }); rerender(); }
      catch (err) { showProblem(form, err); }
    });
    return form;
  };
  const linked = f.links.length || f.linked_to ? h("section", { class: "links", "aria-labelledby": "ln-h" },
    h("h2", { id: "ln-h" }, t("linkedFiles")),
    f.linked_to ? h("p", { class: "notice" }, t("movesWith", { number: f.linked_to.file_number }), " ",
      h("a", { href: `#/files/${f.linked_to.id}` }, f.linked_to.file_number)) : null,
    f.links.length ? h("ul", { class: "plain links" }, f.links.map((l) => h("li", {},
      h("a", { href: `#/files/${l.id}` }, l.file_number), " ", userText(l.subject), " · ", word("linkKind", l.kind),
      mine ? unlinkForm(l) : null))) : null) : null;

  // --- moving the file -----------------------------------------------------------------
  let moves = null;
  if (toReceive) moves = receiveForm(`/files/${id}`, rerender);
  else if (mine) {
    const picker = postPicker({ name: "to_post", label: t("sendTo"), multiple: false, hint: t("sendFileHint") });
    const sendKey = newKey();
    const send = h("form", { class: "card", novalidate: true, "aria-label": t("send") }, picker,
      field({ name: "remarks", label: t("remarks") }),
      dateField({ name: "due_date", label: t("dueDate") }),
      travelling.length ? h("p", { class: "hint moves-along" }, t("movesAlong", { files: travelling.map((l) => l.file_number).join(", ") })) : null,
      h("button", { type: "submit", class: "primary" }, t("send")));
    send.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        const [to] = await picker.picked();
        const v = values(send);
        const sent = await call("POST", `/files/${id}/send`, { key: sendKey, body: { to_post: to, remarks: v.remarks,
          ...(v.due_date ? { due_date: v.due_date } : {}) } });
        if (sent?.warnings?.length) flash(warningText(sent.warnings), "warn"); // sent all the same: said on the next screen
        location.hash = "#/inbox";
      } catch (err) { showProblem(send, err); }
    });
    const simple = (action, label, needsRemarks) => {
      const form = h("form", { class: "inline-form", novalidate: true, "aria-label": t(label) },
        needsRemarks ? field({ name: "remarks", label: t("remarks") }) : null, h("button", { type: "submit" }, t(label)));
      const key = newKey();
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        try { await call("POST", `/files/${id}/${action}`, { key, body: needsRemarks ? values(form) : {} }); rerender(); }
        catch (err) { showProblem(form, err); }
      });
      return form;
    };
    moves = h("div", { class: "actions-grid" },
      f.linked_to ? null : h("details", {}, h("summary", {}, t("send")), send),
      f.status === "parked" ? simple("unpark", "unpark", true) : simple("park", "park", true),
      simple("close", "close", true));
  } else if (mayPullBack && f.status !== "closed" && !f.linked_to) {
    const form = h("form", { class: "inline-form", novalidate: true }, h("button", { type: "submit" }, t("pullBack")));
    const key = newKey();
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      try { await call("POST", `/files/${id}/pull-back`, { key }); rerender(); } catch (err) { showProblem(form, err); }
    });
    moves = form;
  }

  show(main, 
    h("h1", {}, `${t("file")} ${f.file_number}`),
    h("p", { class: "file-head" }, userText(f.subject, "strong"), " · ", t("holder"), ": ", f.holder_post, " · ", t("state"), ": ", word("st", f.status),
      f.due_date ? [" · ", t("due"), ": ", fmtDate(f.due_date)] : null, " · ",
      h("span", { class: f.levels_to_decision > MOST_LEVELS ? "levels over" : "levels" }, t("levelsToDecision"), ": ", String(f.levels_to_decision ?? 0)),
      " · ", h("a", { href: `#/files/${id}/track` }, t("track"))),
    moves,
    linked,
    h("div", { class: "file-layout" },
      h("section", { class: "notesheet", "aria-labelledby": "ns-h" }, h("h2", { id: "ns-h" }, t("notesheet")), green, ...yellow, mine ? composer : null),
      h("section", { class: "correspondence", "aria-labelledby": "co-h" }, h("h2", { id: "co-h" }, t("correspondence")), items,
        mine ? documentForm() : null,
        h("h2", {}, t("drafts")), drafts, issued)));
  drawRefs();
}

// Text typed and not yet saved (the note being written), kept in localStorage as it is typed so
// that a reload loses nothing. Kept per person and post: whoever signs in next on this browser
// never sees it; and all of it goes at sign-out and when the session ends. (A note sent while
// the session had ended is kept apart, for its own author only: pending.js.)
const PREFIX = "eoffice.note.";

/** The localStorage key of the note being written on file `fileId` by this session's person and post. */
export function draftKey(session, fileId) {
  return `${PREFIX}${session.me.email}/${session.acting_as}/${fileId}`;
}

/** Forgets every unsaved note this browser keeps, whoever wrote it. */
export function clearDrafts() {
  Object.keys(localStorage).filter((k) => k.startsWith(PREFIX)).forEach((k) => localStorage.removeItem(k));
}

"""What the search service indexes about files, read from the files service's own tables (the
search index is rebuilt from here, never from another index)."""

from __future__ import annotations

from sqlalchemy import and_, bindparam, exists, select
from sqlalchemy.orm import Session

from eoffice.records import add_children, add_posts, plain, selected
from services.files.models import correspondence, draft_versions, drafts, files, letters, movements, notes

FIELDS = (
    "id",
    "file_number",
    "office_code",
    "subject_head",
    "subject",
    "category",
    "priority",
    "status",
    "holder_post",
    "creator_post",
    "parent_id",
    "created_at",
    "closed_at",
)


def records(session: Session, *, ids: list[str] | None = None, after: str = "", limit: int = 100) -> list[dict]:
    """Returns files as search indexes them, in id order: the given `ids` (unknown ones left
    out), or else the `limit` files after id `after`. Each carries its metadata, `posts` (the
    creator and every post that held, sent or received it: who may open it besides the
    supervisors of its office, `eoffice.access`), `holds_receipts` (whether a receipt was put in it:
    search then asks dak for those receipts when the file's readers change), its green `notes` (seq, body, author_post,
    confirmed_at), its `drafts` (id, title, status, the current version's body and time: the
    source text, never a PDF's), its uploaded `documents` (id, title, at) and its issued `letters`
    (letter_id, letter_number, title, body, at: the text of the draft it was issued from, never
    the signed PDF's text layer; an approved draft is not revised, so its current version is the
    one issued)."""
    rows = session.execute(*selected(_FILES, files.c.id, ids=ids, after=after, limit=limit)).mappings()
    by_id = _with_posts(session, {row["id"]: {**plain(row), **{field: [] for field in _CHILDREN}} for row in rows})
    if not by_id:
        return []
    for field, query in _CHILDREN.items():
        add_children(session, query, owner="file_id", by_id=by_id, field=field)
    return [{**row, "posts": sorted(row["posts"])} for row in by_id.values()]


def readers(session: Session, ids: list[str]) -> list[dict]:
    """Who may read each of the files `ids` (unknown ones left out), as `records` gives it, with
    nothing else of the file: `id`, `office_code` (its office's supervisors, and those of the
    offices above, may read it), `posts` (`_with_posts`; its holder and creator are also given
    apart). Search gives a receipt put in a file its file's readers (dak lets them read it:
    `readable`)."""
    by_id = _with_posts(session, {row["id"]: plain(row) for row in session.execute(_READERS, {"ids": ids}).mappings()})
    return [{**row, "posts": sorted(row["posts"])} for row in by_id.values()]


def _with_posts(session: Session, by_id: dict[str, dict]) -> dict[str, dict]:
    """Gives each file (a row with its holder and creator) its `posts`: the creator and every post
    that held, sent or received it (`eoffice.access`)."""
    for row in by_id.values():
        row["posts"] = {row["holder_post"], row["creator_post"]}
    if by_id:
        add_posts(session, movements, owner="file_id", by_id=by_id)
    return by_id


# Built once (`eoffice.db`, "built once"); the children of the files whose ids are `found`.
_FILES = select(
    *(files.c[name] for name in FIELDS),
    exists().where(correspondence.c.file_id == files.c.id, correspondence.c.kind == "receipt").label("holds_receipts"),
)
_FOUND = bindparam("found", expanding=True)
_READERS = (
    select(files.c.id, files.c.office_code, files.c.holder_post, files.c.creator_post)
    .where(files.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(files.c.id)
)
_CURRENT = and_(draft_versions.c.draft_id == drafts.c.id, draft_versions.c.version == drafts.c.current_version)
_CHILDREN = {
    "notes": select(notes.c.file_id, notes.c.seq, notes.c.body, notes.c.author_post, notes.c.confirmed_at)
    .where(notes.c.file_id.in_(_FOUND))
    .order_by(notes.c.seq),
    "drafts": select(
        drafts.c.file_id, drafts.c.id, drafts.c.title, drafts.c.status, draft_versions.c.body, draft_versions.c.at
    )
    .select_from(draft_versions.join(drafts, _CURRENT))
    .where(drafts.c.file_id.in_(_FOUND))
    .order_by(drafts.c.id),
    "documents": select(
        correspondence.c.file_id, correspondence.c.id, correspondence.c.title, correspondence.c.added_at.label("at")
    )
    .where(correspondence.c.file_id.in_(_FOUND), correspondence.c.kind == "document")
    .order_by(correspondence.c.id),
    "letters": select(
        letters.c.file_id,
        letters.c.letter_id,
        letters.c.letter_number,
        drafts.c.title,
        draft_versions.c.body,
        letters.c.issued_at.label("at"),
    )
    .select_from(letters.join(drafts, drafts.c.id == letters.c.draft_id).join(draft_versions, _CURRENT))
    .where(letters.c.file_id.in_(_FOUND), letters.c.issued_at.is_not(None))
    .order_by(letters.c.letter_id),
}

"""What the search service indexes about files, read from the files service's own tables (the
search index is rebuilt from here, never from another index)."""

from __future__ import annotations

from sqlalchemy import and_, select
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
    supervisors of its office, `eoffice.access`), its green `notes` (seq, body, author_post,
    confirmed_at), its `drafts` (id, title, status, the current version's body and time: the
    source text, never a PDF's), its uploaded `documents` (id, title, at) and its issued `letters`
    (letter_id, letter_number, title, body, at: the text of the draft it was issued from, never
    the signed PDF's text layer; an approved draft is not revised, so its current version is the
    one issued)."""
    query = selected(select(*(files.c[name] for name in FIELDS)), files.c.id, ids=ids, after=after, limit=limit)
    by_id = {
        row["id"]: {
            **plain(row),
            "posts": {row["holder_post"], row["creator_post"]},
            "notes": [],
            "drafts": [],
            "documents": [],
            "letters": [],
        }
        for row in session.execute(query).mappings()
    }
    if not by_id:
        return []
    found = list(by_id)
    add_posts(session, movements, owner="file_id", by_id=by_id)
    add_children(
        session,
        select(notes.c.file_id, notes.c.seq, notes.c.body, notes.c.author_post, notes.c.confirmed_at)
        .where(notes.c.file_id.in_(found))
        .order_by(notes.c.seq),
        owner="file_id",
        by_id=by_id,
        field="notes",
    )
    current = draft_versions.join(
        drafts, and_(draft_versions.c.draft_id == drafts.c.id, draft_versions.c.version == drafts.c.current_version)
    )
    add_children(
        session,
        select(
            drafts.c.file_id, drafts.c.id, drafts.c.title, drafts.c.status, draft_versions.c.body, draft_versions.c.at
        )
        .select_from(current)
        .where(drafts.c.file_id.in_(found))
        .order_by(drafts.c.id),
        owner="file_id",
        by_id=by_id,
        field="drafts",
    )
    add_children(
        session,
        select(
            correspondence.c.file_id, correspondence.c.id, correspondence.c.title, correspondence.c.added_at.label("at")
        )
        .where(correspondence.c.file_id.in_(found), correspondence.c.kind == "document")
        .order_by(correspondence.c.id),
        owner="file_id",
        by_id=by_id,
        field="documents",
    )
    add_children(
        session,
        select(
            letters.c.file_id,
            letters.c.letter_id,
            letters.c.letter_number,
            drafts.c.title,
            draft_versions.c.body,
            letters.c.issued_at.label("at"),
        )
        .select_from(
            letters.join(drafts, drafts.c.id == letters.c.draft_id).join(
                draft_versions,
                and_(draft_versions.c.draft_id == drafts.c.id, draft_versions.c.version == drafts.c.current_version),
            )
        )
        .where(letters.c.file_id.in_(found), letters.c.issued_at.is_not(None))
        .order_by(letters.c.letter_id),
        owner="file_id",
        by_id=by_id,
        field="letters",
    )
    return [{**row, "posts": sorted(row["posts"])} for row in by_id.values()]

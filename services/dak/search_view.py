"""What the search service indexes about receipts, read from dak's own tables and store (the
search index is rebuilt from here, never from another index)."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from eoffice.contracts.dak import TEXT_SUFFIX
from eoffice.records import add_posts, plain, selected
from eoffice.storage import DocumentStore
from services.dak.models import movements, receipts, scans

FIELDS = (
    "id",
    "diary_number",
    "office_code",
    "subject",
    "sender_name",
    "sender_organisation",
    "sender_address",
    "letter_number",
    "letter_date",
    "received_date",
    "mode",
    "language",
    "security_grading",
    "category",
    "status",
    "holder_post",
    "file_id",
    "priority",
    "vip",
    "physical",
    "copy_of",
    "diarised_at",
)


def records(
    session: Session,
    store: DocumentStore,
    *,
    ids: list[str] | None = None,
    after: str = "",
    limit: int = 100,
    in_files: list[str] | None = None,
) -> list[dict]:
    """Returns receipts as search indexes them, in id order: the given `ids` (unknown ones left
    out), or else the `limit` receipts after id `after`; and every receipt put in one of the
    files `in_files` (alone, if no `ids` are given): whoever reads a file reads them, so search
    refreshes them when the file moves. Each carries its metadata, `posts` (every post that
    held, sent or received it, `eoffice.access`; whoever reads its file, `file_id`, may open it
    too) and `texts` (the text read from each of its documents, as stored beside them; a
    document not yet read has none)."""
    rows = []
    if ids or (ids is None and not in_files):
        rows += session.execute(*selected(_RECEIPTS, receipts.c.id, ids=ids, after=after, limit=limit)).mappings()
    if in_files:
        rows += session.execute(_IN_FILES, {"files": in_files}).mappings()
    by_id = {row["id"]: {**plain(row), "posts": {row["holder_post"]}, "texts": []} for row in rows}
    if not by_id:
        return []
    add_posts(session, movements, owner="receipt_id", by_id=by_id)
    for scan in session.execute(_TEXTS, {"found": list(by_id)}):
        by_id[scan.receipt_id]["texts"].append(
            store.read(scan.object_name + TEXT_SUFFIX, sha256=scan.text_sha256).decode("utf-8", "replace")
        )
    return [{**row, "posts": sorted(row["posts"])} for _, row in sorted(by_id.items())]


# Built once (`eoffice.db`, "built once").
_RECEIPTS = select(*(receipts.c[name] for name in FIELDS))
_IN_FILES = _RECEIPTS.where(receipts.c.file_id.in_(bindparam("files", expanding=True)))  # receipts_in_file
_TEXTS = (
    select(scans.c.receipt_id, scans.c.object_name, scans.c.text_sha256)
    .where(scans.c.receipt_id.in_(bindparam("found", expanding=True)), scans.c.text_sha256.is_not(None))
    .order_by(scans.c.receipt_id, scans.c.position)
)

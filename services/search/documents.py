"""The document builder: what the search index holds for a receipt or a file, built from the
owning service's record (`search_records` of dak and files). The event path, the rebuild and
the benchmark all build documents here, so they cannot disagree.

Text goes in as written: the analysis (Hindi and English, Latin letters for Hindi) happens in
Elasticsearch (`services.search.indices`), so highlights show the words as the writer wrote
them. Who may open an item travels with each of its documents (`posts`, `reach_office`), and
every query filters on them (`services.search.queries`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Any

MAX_TEXT = 200_000  # characters of one body indexed: a scanned register of hundreds of pages


def _with_digest(doc: dict) -> dict:
    doc["digest"] = hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()[:32]
    return doc


def receipt_documents(record: dict) -> list[dict]:
    """The receipt's one document: its metadata and the text read from its documents. The posts
    that handled it may open it, whatever its grading (dak has no supervisory reach over a
    receipt of its own: a secret receipt is found by nobody else); once it is put in a file,
    so may whoever may read that file (dak asks files), given as `file_readers`
    (`with_file_readers`): the file's posts and its office's supervisors."""
    sender = " ".join(part for part in (record["sender_name"], record.get("sender_organisation", "")) if part)
    body = "\n\n".join(record.get("texts") or [])[:MAX_TEXT]
    readers = record.get("file_readers") or {"posts": [], "office_code": None}
    return [
        _with_digest(
            {
                "uid": f"receipt:{record['id']}",
                "kind": "receipt",
                "item_id": record["id"],
                "file_id": record.get("file_id"),
                "number": record["diary_number"],
                "title": record["subject"],
                "body": body,
                "sender": sender,
                "office": record["office_code"],
                "status": record["status"],
                "holder": record["holder_post"],
                "category": record.get("category") or None,
                "grading": record["security_grading"],
                "language": record.get("language"),
                "date": record["received_date"],
                "posts": sorted({*record["posts"], *readers["posts"]}),
                "reach_office": readers["office_code"],
            }
        )
    ]


def with_file_readers(
    receipts: list[dict], readers_of: Callable[[list[str]], list[dict]], *, known: Iterable[dict] = ()
) -> list[dict]:
    """The receipt records, each one put in a file with that file's readers (`file_readers`:
    its `posts` and `office_code`), from `known` (file records at hand, of `files.search_records`)
    or else asked of files in one call (`readers_of(file_ids)`, `files.search_readers`). A file
    files does not list gives no readers: it cannot be read (nor, so, the receipt through it)."""
    by_file = {file["id"]: file for file in known}
    wanted = [i for i in dict.fromkeys(r["file_id"] for r in receipts if r.get("file_id")) if i not in by_file]
    if wanted:
        by_file.update((file["id"], file) for file in readers_of(wanted))
    readers = {i: {"posts": file["posts"], "office_code": file["office_code"]} for i, file in by_file.items()}
    return [{**r, "file_readers": readers[r["file_id"]]} if r.get("file_id") in readers else r for r in receipts]


def file_documents(record: dict) -> list[dict]:
    """The file's document, one per green note and one per draft, uploaded document or issued
    letter, each openable by whoever may open the file."""
    access: dict[str, Any] = {
        "posts": list(record["posts"]),
        "reach_office": record["office_code"],
        "grading": "normal",
        "file_id": record["id"],
        "item_id": record["id"],
        "office": record["office_code"],
        "status": record["status"],
        "holder": record["holder_post"],
        "category": record.get("category") or None,
        "number": record["file_number"],
        "sender": "",
        "language": None,
    }
    file_id, subject = record["id"], record["subject"]
    parts = [("file", f"file:{file_id}", subject, "", record["created_at"])]
    parts += [
        ("note", f"note:{file_id}:{note['seq']}", f"{subject} (note {note['seq']})", note["body"], note["confirmed_at"])
        for note in record.get("notes", [])
    ]
    parts += [
        ("document", f"draft:{file_id}:{draft['id']}", draft["title"], draft["body"], draft["at"])
        for draft in record.get("drafts", [])
    ]
    parts += [
        ("document", f"attachment:{file_id}:{document['id']}", document["title"], "", document["at"])
        for document in record.get("documents", [])
    ]
    parts += [  # issued letters, from their draft's own text
        (
            "document",
            f"letter:{file_id}:{letter['letter_id']}",
            f"{letter['letter_number']}: {letter['title']}",
            letter["body"],
            letter["at"],
        )
        for letter in record.get("letters", [])
    ]
    return [
        _with_digest({**access, "kind": kind, "uid": uid, "title": title, "body": body[:MAX_TEXT], "date": day})
        for kind, uid, title, body, day in parts
    ]


def owner_of(uid: str) -> tuple[str, str]:
    """The item a document (by uid) is built from: ("receipt", its id) or ("file", its id)."""
    kind, rest = uid.split(":", 1)
    return ("receipt", rest) if kind == "receipt" else ("file", rest.split(":", 1)[0])


def index_of(doc: dict) -> str:
    """The kind whose index holds the document (drafts and attachments are `document`s)."""
    return doc["kind"]

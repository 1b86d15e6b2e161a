"""The notesheet: green notes nobody can alter, yellow drafts their author may.

A green note is appended, never updated or deleted: this module has no function that changes
one. Each note's hash covers its content and the previous note's hash, so the notesheet is a
chain, and the file row keeps the count and the last hash. Each green note is also written as
a locked record (object lock, compliance mode) to the object store. `verify` recomputes the
chain from the database and compares every note with its locked record, so a change made
behind the service's back, in the database or in the store, is found and reported."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from eoffice.actor import Actor
from eoffice.errors import Conflict, Forbidden, InvalidInput, NotFound
from eoffice.storage import DocumentStore
from services.files.models import RECORD_CATEGORIES, draft_notes, files, notes
from services.files.schemas import Refs

REVIEW_AFTER_YEARS = 25  # A and B records are reviewed at 25 years; C ones kept at most 10


def record_name(file_id: str, seq: int) -> str:
    return f"notes/{file_id}/{seq:06d}.json"


def canonical(note: dict) -> bytes:
    """The bytes a note's hash covers: its content, author, time and the previous hash."""
    confirmed = note["confirmed_at"].astimezone(UTC).isoformat()
    return json.dumps(
        {
            "file_id": note["file_id"],
            "seq": note["seq"],
            "body": note["body"],
            "author_user": note["author_user"],
            "author_post": note["author_post"],
            "refs": note["refs"],
            "confirmed_at": confirmed,
            "prev_hash": note["prev_hash"],
        },
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    ).encode()


def note_hash(note: dict) -> str:
    """Returns the SHA-256 of the note's canonical bytes (`canonical`)."""
    return hashlib.sha256(canonical(note)).hexdigest()


def link(note: dict) -> str:
    """The hash the next note (and the file's head) commits to: the note's own hash, or, once
    it is signed, the SHA-256 of its hash and its signature's, so the chain covers the signature."""
    if not note.get("signature_sha256"):
        return note["hash"]
    return hashlib.sha256(f"{note['hash']}:{note['signature_sha256']}".encode()).hexdigest()


def signature_record_name(file_id: str, seq: int) -> str:
    return f"note-signatures/{file_id}/{seq:06d}.p7s"


def next_note(file: dict, *, body: str, refs: dict, author_user: str, author_post: str, confirmed_at: datetime) -> dict:
    """Returns the green note that follows the file's chain (`notes_count`, `notes_head`), with
    its sequence number, the previous note's hash and its own hash. Writes nothing."""
    note = {
        "file_id": file["id"],
        "seq": file["notes_count"] + 1,
        "body": body,
        "author_user": author_user,
        "author_post": author_post,
        "refs": refs,
        "confirmed_at": confirmed_at,
        "prev_hash": file["notes_head"],
    }
    return {**note, "hash": note_hash(note)}


def chain_problems(rows: list[dict], *, notes_count: int, notes_head: str | None) -> list[str]:
    """Checks green notes (ordered by `seq`) as a hash chain, and against the count and last
    hash the file row keeps; returns what is wrong, each problem naming the note (empty when
    intact). A gap, a note edited, one put in or taken out: each breaks the chain somewhere."""
    problems: list[str] = []
    previous = None
    for expected_seq, note in enumerate(rows, start=1):
        label = f"note {note['seq']}"
        if note["seq"] != expected_seq:
            problems.append(f"note {expected_seq} is missing from the database")
        if note["prev_hash"] != previous:
            problems.append(f"{label} does not follow the note before it (the chain is broken)")
        if note_hash(note) != note["hash"]:
            problems.append(f"{label} was changed in the database: its content no longer matches its hash")
        previous = link(note)
    if notes_count != len(rows) or notes_head != previous:
        problems.append(
            f"the file records {notes_count} notes ending in {notes_head}, "
            f"the database holds {len(rows)}: notes were deleted or added behind the service's back"
        )
    return problems


def _check_refs(file: dict, refs: Refs, last_page: int) -> dict:
    bad_pages = [p for p in refs.pages if not 1 <= p <= last_page]
    if bad_pages:
        raise InvalidInput(
            f"file {file['file_number']} has no page {bad_pages[0]} (it has {last_page})", field="refs.pages"
        )
    bad_notes = [n for n in refs.notes if not 1 <= n <= file["notes_count"]]
    if bad_notes:
        raise InvalidInput(f"file {file['file_number']} has no note {bad_notes[0]}", field="refs.notes")
    return refs.model_dump()


def append_green(session: Session, *, store: DocumentStore, actor: Actor, file: dict, body: str, refs: dict) -> dict:
    """Appends a green note to the locked file row's chain and writes its locked record."""
    note = next_note(
        file,
        body=body,
        refs=refs,
        author_user=actor.user_id,
        author_post=actor.acting_post(),
        confirmed_at=datetime.now(UTC),
    )
    seq = note["seq"]
    years = RECORD_CATEGORIES[file["record_category"]] or REVIEW_AFTER_YEARS
    stored = store.put(
        io.BytesIO(canonical(note)),
        content_type="application/json",
        name=record_name(file["id"], seq),
        retain_until=datetime.now(UTC) + timedelta(days=365 * years),
    )
    note.update(record_name=stored.name, record_version=stored.version_id)
    session.execute(notes.insert().values(**note))
    session.execute(
        update(files)
        .where(files.c.id == file["id"])
        .values(notes_count=seq, notes_head=note["hash"], version=files.c.version + 1)
    )
    return note


def write(
    session: Session,
    *,
    store: DocumentStore,
    actor: Actor,
    file: dict,
    body: str,
    refs: Refs,
    green: bool,
    last_page: int,
) -> dict:
    """Writes a note on a file the actor holds: green at once, or a yellow draft."""
    checked = _check_refs(file, refs, last_page)
    if green:
        return {
            **append_green(session, store=store, actor=actor, file=file, body=body, refs=checked),
            "colour": "green",
        }
    row = (
        session.execute(
            draft_notes.insert()
            .values(file_id=file["id"], body=body, author_user=actor.user_id, author_post=actor.post_id, refs=checked)
            .returning(*draft_notes.c)
        )
        .mappings()
        .one()
    )
    return {**row, "colour": "yellow"}


def _own_draft(session: Session, actor: Actor, file: dict, *, note_id: int, version: int) -> dict:
    row = (
        session.execute(
            select(draft_notes)
            .where(draft_notes.c.id == note_id, draft_notes.c.file_id == file["id"])
            .with_for_update()
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"file {file['file_number']} has no yellow note {note_id}")
    if row["state"] == "confirmed":
        raise Conflict(
            f"note {note_id} is green now (note {row['confirmed_seq']}): green notes never change; "
            "write a new note to correct it"
        )
    if row["state"] == "discarded":
        raise Conflict(f"yellow note {note_id} was discarded")
    if row["author_user"] != actor.user_id:
        raise Forbidden("only its author edits, discards or confirms a yellow note")
    if row["version"] != version:
        raise Conflict(f"yellow note {note_id} is at version {row['version']}, not {version}: reload it")
    return dict(row)


def edit_draft(
    session: Session, *, actor: Actor, file: dict, note_id: int, body: str, refs: Refs, version: int, last_page: int
) -> dict:
    _own_draft(session, actor, file, note_id=note_id, version=version)
    return {
        **session.execute(
            update(draft_notes)
            .where(draft_notes.c.id == note_id)
            .values(
                body=body, refs=_check_refs(file, refs, last_page), version=version + 1, updated_at=datetime.now(UTC)
            )
            .returning(*draft_notes.c)
        )
        .mappings()
        .one(),
        "colour": "yellow",
    }


def discard_draft(session: Session, *, actor: Actor, file: dict, note_id: int, version: int) -> dict:
    _own_draft(session, actor, file, note_id=note_id, version=version)
    return {
        **session.execute(
            update(draft_notes)
            .where(draft_notes.c.id == note_id)
            .values(state="discarded", version=version + 1)
            .returning(*draft_notes.c)
        )
        .mappings()
        .one(),
        "colour": "yellow",
    }


def confirm_draft(
    session: Session, *, store: DocumentStore, actor: Actor, file: dict, note_id: int, version: int
) -> dict:
    """Makes a yellow note green: appended to the chain, from then on unchangeable."""
    draft = _own_draft(session, actor, file, note_id=note_id, version=version)
    note = append_green(session, store=store, actor=actor, file=file, body=draft["body"], refs=draft["refs"])
    session.execute(
        update(draft_notes)
        .where(draft_notes.c.id == note_id)
        .values(state="confirmed", confirmed_seq=note["seq"], version=version + 1)
    )
    return {**note, "colour": "green"}


def green_notes(session: Session, file_id: str) -> list[dict]:
    return [
        dict(n)
        for n in session.execute(select(notes).where(notes.c.file_id == file_id).order_by(notes.c.seq)).mappings()
    ]


def green_note(session: Session, file: dict, seq: int) -> dict:
    row = session.execute(select(notes).where(notes.c.file_id == file["id"], notes.c.seq == seq)).mappings().first()
    if row is None:
        raise NotFound(f"file {file['file_number']} has no note {seq}")
    return dict(row)


def yellow_notes(session: Session, actor: Actor, file_id: str) -> list[dict]:
    """The actor's own drafts on the file (nobody else sees a draft)."""
    return [
        dict(n)
        for n in session.execute(
            select(draft_notes)
            .where(
                draft_notes.c.file_id == file_id,
                draft_notes.c.state == "draft",
                draft_notes.c.author_user == actor.user_id,
            )
            .order_by(draft_notes.c.id)
        ).mappings()
    ]


def verify(session: Session, store: DocumentStore, file: dict) -> dict:
    """Checks the file's notesheet as held in the database (`check`)."""
    return check(file, green_notes(session, file["id"]), store)


def check(file: dict, rows: list[dict], store: DocumentStore) -> dict:
    """Checks green notes (`rows`, by `seq`) against themselves and the file row
    (`chain_problems`), then each against its locked record in `store`, and the store for
    records of notes `rows` lack; returns {"intact": bool, "notes": n, "problems": [...]}, each
    problem naming the note. Reads the store only (`read`, `latest_version`, `names`)."""
    problems = chain_problems(rows, notes_count=file["notes_count"], notes_head=file["notes_head"])
    for note in rows:
        label = f"note {note['seq']}"
        try:
            record = store.read(note["record_name"], version_id=note["record_version"], check=False)
        except Exception as exc:
            problems.append(f"{label} has no readable locked record ({type(exc).__name__})")
        else:
            if record != canonical(note):
                problems.append(f"{label} differs from its locked record: it was changed in the database")
        latest = store.latest_version(note["record_name"], locked=True)
        if latest and note["record_version"] and latest != note["record_version"]:
            problems.append(f"{label}'s record was overwritten in the store (the locked original is intact)")
    signatures = []
    for note in rows:
        if not note.get("signature_sha256"):
            continue
        label = f"note {note['seq']}"
        try:
            cms = store.read(note["signature_record"], version_id=note["signature_version"], check=False)
        except Exception as exc:
            problems.append(f"{label}'s signature has no readable locked record ({type(exc).__name__})")
            cms = b""
        intact = hashlib.sha256(cms).hexdigest() == note["signature_sha256"]
        if cms and not intact:
            problems.append(f"{label}'s signature differs from the one the chain records")
        signatures.append(
            {
                "seq": note["seq"],
                "signature_sha256": note["signature_sha256"],
                "signed_by_user": note["signed_by_user"],
                "signed_at": note["signed_at"],
                "record_intact": intact,
            }
        )
    stored = store.names(f"notes/{file['id']}/", locked=True)
    missing = sorted(set(stored) - {n["record_name"] for n in rows})
    problems += [
        f"{name.rsplit('/', 1)[-1]} is in the object store but not in the database (deleted?)" for name in missing
    ]
    return {"intact": not problems, "notes": len(rows), "problems": problems, "signatures": signatures}


def to_sign(session: Session, *, actor: Actor, file: dict, seq: int) -> dict:
    """The green note `seq` of a file the actor holds (`file`, locked), which the actor may sign
    now: their own, the last note (the chain's head), not signed yet. Returns it with its
    canonical bytes; raises Forbidden, Conflict or NotFound saying which rule failed."""
    note = green_note(session, file, seq)
    if note["author_user"] != actor.user_id:
        raise Forbidden(f"note {seq} of file {file['file_number']} is not yours: only its author signs a note")
    if note.get("signature_sha256"):
        raise Conflict(f"note {seq} of file {file['file_number']} is signed already")
    if seq != file["notes_count"]:
        raise Conflict(
            f"note {seq} of file {file['file_number']} is followed by note {file['notes_count']}: "
            "a note is signed before the next one is written"
        )
    return {**note, "canonical": canonical(note)}


def sign(session: Session, *, store: DocumentStore, actor: Actor, file: dict, seq: int, cms: bytes) -> dict:
    """Records the signature `cms` (DER, made by the signing service over the note's canonical
    bytes) on note `seq` (`to_sign`'s rules): a locked record of its own, its hash on the note,
    the file's head moved to the note's new link. Returns the note."""
    note = to_sign(session, actor=actor, file=file, seq=seq)
    years = RECORD_CATEGORIES[file["record_category"]] or REVIEW_AFTER_YEARS
    stored = store.put(
        io.BytesIO(cms),
        content_type="application/pkcs7-signature",
        name=signature_record_name(file["id"], seq),
        retain_until=datetime.now(UTC) + timedelta(days=365 * years),
    )
    signed = {
        "signature_sha256": hashlib.sha256(cms).hexdigest(),
        "signature_record": stored.name,
        "signature_version": stored.version_id,
        "signed_by_user": actor.user_id,
        "signed_at": datetime.now(UTC),
    }
    session.execute(update(notes).where(notes.c.file_id == file["id"], notes.c.seq == seq).values(**signed))
    note.update(signed)
    session.execute(
        update(files).where(files.c.id == file["id"]).values(notes_head=link(note), version=files.c.version + 1)
    )
    del note["canonical"]
    return {**note, "file_number": file["file_number"]}

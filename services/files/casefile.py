"""Files: numbering, who may see and act, correspondence, drafts for approval, movement and
tracking. (The notesheet is `notesheet.py`.)

Only the current holder acts (rule 1): every change locks the file row first and checks the
holder after the lock, so of two officers acting at once one wins and the other is told who
holds the file now. Each change bumps the file's `version`; a caller may pass the version it
saw and is refused if the file changed meanwhile."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from eoffice import clock
from eoffice.access import acting_posts, require_holder, require_visible
from eoffice.actor import Actor
from eoffice.contracts.common import Page
from eoffice.errors import Conflict, Forbidden, InvalidInput, NotFound, Undispatched
from eoffice.idempotency import replayed
from eoffice.movement import (
    arriving,
    level_warnings,
    needs_receiving,
    opens,
    pull_back_from,
    pulled_back,
    require_actable,
    require_elsewhere,
)
from eoffice.paging import keyset_page
from services.files.models import (
    DEFAULT_OVERDUE_DAYS,
    DEFAULT_PATTERN,
    category_limits,
    correspondence,
    counters,
    draft_notes,
    draft_versions,
    drafts,
    files,
    idempotency_keys,
    letters,
    links,
    movements,
    notes,
    schemes,
    subject_heads,
)
from services.files.schemas import CreateFile, FilesQuery, Scheme, StoredDocument, SubjectHead

# Columns a step may read with the file, in the same query (`visible(also=...)`).
READ_WITH_FILE = {
    # Working days a file of its category may stay with one holder: no query of its own on a movement.
    "category_days": func.coalesce(
        select(category_limits.c.working_days).where(category_limits.c.category == files.c.category).scalar_subquery(),
        DEFAULT_OVERDUE_DAYS,
    ),
}

PAGES_PER_VOLUME = 200  # a new volume starts past this; page numbers continue


# --- numbering ---------------------------------------------------------------------------


def set_scheme(session: Session, office_code: str, scheme: Scheme, *, is_office: Callable[[str], bool]) -> dict:
    """Sets the office's numbering. `Scheme` has checked that its pattern numbers each file of
    the office apart; here, that what it prints as {office} is the office's own, so that no
    other office prints the same: InvalidInput naming `office_suffix` if it is another office's
    code (`is_office` asks the directory) or another office's suffix already."""
    values = {"prefix": scheme.prefix, "pattern": scheme.pattern, "office_suffix": scheme.office_suffix}
    suffix = scheme.office_suffix
    if suffix and suffix != office_code:
        if is_office(suffix):
            raise InvalidInput(
                f"office_suffix {suffix} is the code of another office: {office_code}'s file numbers would be "
                f"{suffix}'s; print {office_code}'s own name (or leave it empty for {office_code})",
                field="office_suffix",
            )
        # Two admins setting one suffix at once: the second waits here, then sees the first's.
        session.execute(text(f"LOCK TABLE {schemes.fullname} IN SHARE ROW EXCLUSIVE MODE"))
        taken = session.execute(
            select(schemes.c.office_code).where(schemes.c.office_suffix == suffix, schemes.c.office_code != office_code)
        ).scalar()
        if taken:
            raise InvalidInput(
                f"office_suffix {suffix} is office {taken}'s already: two offices printing it could give two files "
                "one number; choose one of this office's own",
                field="office_suffix",
            )
    session.execute(
        insert(schemes)
        .values(office_code=office_code, **values)
        .on_conflict_do_update(index_elements=[schemes.c.office_code], set_=values)
    )
    return {"office_code": office_code, **values}


def add_subject_head(session: Session, office_code: str, head: SubjectHead) -> dict:
    session.execute(
        insert(subject_heads)
        .values(office_code=office_code, code=head.code, title=head.title)
        .on_conflict_do_update(
            index_elements=[subject_heads.c.office_code, subject_heads.c.code], set_={"title": head.title}
        )
    )
    return {"office_code": office_code, "code": head.code, "title": head.title}


def heads_of(session: Session, office_code: str) -> list[dict]:
    return [
        dict(h)
        for h in session.execute(
            select(subject_heads).where(subject_heads.c.office_code == office_code).order_by(subject_heads.c.code)
        ).mappings()
    ]


def _scheme_of(session: Session, office_code: str) -> dict:
    """The office's numbering: its own, or the defaults."""
    scheme = session.execute(select(schemes).where(schemes.c.office_code == office_code)).mappings().first()
    return dict(scheme) if scheme else {"prefix": "N", "pattern": DEFAULT_PATTERN, "office_suffix": None}


def _number(scheme: dict, office_code: str, *, head: str, serial: int, year: int) -> str:
    return scheme["pattern"].format(
        prefix=scheme["prefix"], head=head, serial=serial, year=year, office=scheme["office_suffix"] or office_code
    )


def next_file_number(session: Session, office_code: str, *, head: str, year: int) -> str:
    """The next number in the office's scheme: gap-free per office, subject head and year."""
    session.execute(
        insert(counters).values(office_code=office_code, head=head, year=year, last_serial=0).on_conflict_do_nothing()
    )
    serial = session.execute(
        update(counters)
        .where(counters.c.office_code == office_code, counters.c.head == head, counters.c.year == year)
        .values(last_serial=counters.c.last_serial + 1)
        .returning(counters.c.last_serial)
    ).scalar_one()
    return _number(_scheme_of(session, office_code), office_code, head=head, serial=serial, year=year)


def _give_back(session: Session, file: dict) -> None:
    """Gives a withdrawn file's number back to its counter if it is still the last one taken
    (no later file of its office, head and year has one): the next file gets it. Otherwise
    the counter stays and the number is not used again."""
    year = file["created_at"].astimezone(clock.IST).year
    where = (
        counters.c.office_code == file["office_code"],
        counters.c.head == file["subject_head"],
        counters.c.year == year,
    )
    last = session.execute(select(counters.c.last_serial).where(*where).with_for_update()).scalar()
    scheme = _scheme_of(session, file["office_code"])
    if (
        last
        and _number(scheme, file["office_code"], head=file["subject_head"], serial=last, year=year)
        == file["file_number"]
    ):
        session.execute(update(counters).where(*where).values(last_serial=last - 1))


def _number_taken(session: Session, office_code: str, number: str) -> Conflict:
    """The refusal of a file whose number another file has: the office's numbering does not
    give numbers of its own (or two offices' numberings print alike)."""
    scheme = _scheme_of(session, office_code)
    return Conflict(
        f"file number {number} is another file's already: the numbering of {office_code} (pattern "
        f"{scheme['pattern']}, {{office}} printed as {scheme['office_suffix'] or office_code}) does not give its "
        "files numbers of their own. Nothing was opened; the office admin changes the numbering (its file scheme)"
    )


# --- seeing and holding ------------------------------------------------------------------


def _row(session: Session, file_id: str, lock: bool = False) -> dict:
    query = select(files).where(files.c.id == file_id)
    row = session.execute(query.with_for_update() if lock else query).mappings().first()
    if row is None:
        raise NotFound(f"no file {file_id}")
    return dict(row)


@functools.cache
def _file_query(lock: bool, also: tuple[str, ...]) -> Select:
    """A file by `file_id`, locked or not, with the columns of READ_WITH_FILE named in `also`
    (built once for each: `eoffice.db`, "built once")."""
    query = select(files, *(READ_WITH_FILE[name].label(name) for name in also)).where(
        files.c.id == bindparam("file_id")
    )
    return query.with_for_update() if lock else query


def history(session: Session, file_id: str) -> list[dict]:
    return [
        dict(m)
        for m in session.execute(
            select(movements).where(movements.c.file_id == file_id).order_by(movements.c.id)
        ).mappings()
    ]


Supervises = Callable[[str], bool]  # whether the actor oversees an office (rule 10)


def visible(
    session: Session,
    actor: Actor,
    *,
    file_id: str,
    supervises: Supervises,
    lock: bool = False,
    with_history: bool = False,
    also: tuple[str, ...] = (),
) -> tuple[dict, list[dict]]:
    """Returns the file and, if `with_history`, its movements (else an empty list), if the
    actor's post holds it, created it, ever held or moved it, or supervises its office (rule
    10); NotFound otherwise, whatever the caller meant to do, so strangers learn nothing
    (`eoffice.access`). Every step on a file starts here. The movements are read only when the
    caller wants them or the holder and creator alone do not make the file visible: most steps
    are the holder's, and a file's history grows with every move. `also` names more columns to
    read with the file, in the same query (of `READ_WITH_FILE`)."""
    row: Mapping[Any, Any] | None = session.execute(_file_query(lock, also), {"file_id": file_id}).mappings().first()
    mine = row is not None and bool(acting_posts(actor) & {row["holder_post"], row["creator_post"]})
    moves = history(session, file_id) if row is not None and (with_history or not mine) else []
    file = require_visible(
        actor,
        "file",
        file_id,
        item=row,
        movements=moves,
        also=[row["creator_post"]] if row else [],
        oversees=lambda found: supervises(found["office_code"]),
    )
    return dict(file), moves if with_history else []


def held(
    session: Session,
    *,
    actor: Actor,
    file_id: str,
    supervises: Supervises,
    version: int | None = None,
    statuses: tuple[str, ...] = ("open", "parked"),
    also: tuple[str, ...] = (),
) -> dict:
    """Returns the file, locked, if the actor's post holds it (rule 1) and it may be acted on:
    received if physical (rule 3), in one of `statuses`, and at `version` if one is given.
    NotFound if the actor may not see it (`visible`), NotCurrentHolder if they may but another
    post holds it."""
    row, _ = visible(session, actor, file_id=file_id, supervises=supervises, lock=True, also=also)
    require_actable(actor, row, label=f"file {row['file_number']}", statuses=statuses, version=version)
    return row


def _log(
    session: Session,
    file: dict,
    action: str,
    *,
    actor: Actor,
    to_post: str | None = None,
    remarks: str = "",
    due_date: date | None = None,
    skipped: Sequence[str] = (),
    levels_to_decision: int | None = None,
    levels_before: int | None = None,
) -> dict:
    movement = {
        "file_id": file["id"],
        "action": action,
        "from_post": file["holder_post"],
        "to_post": to_post,
        "by_user": actor.user_id,
        "remarks": remarks,
        "due_date": due_date,
        "skipped": list(skipped),
        "levels_to_decision": levels_to_decision,
        "levels_before": levels_before,
    }
    session.execute(ADD_MOVEMENT, movement)
    return {**movement, "file_number": file["file_number"]}


def _new_round(post: str) -> dict:
    """The columns of `files` for a decision (a draft approved, the file reopened): the file's
    levels to a decision count again from `post`, where its new round starts."""
    return {"round_post": post, "levels_to_decision": 0}


def round_post(file: Mapping[str, Any]) -> str:
    """The post where the file's current round started: the last decision's, else its creator."""
    return file["round_post"] or file["creator_post"]


def _bump(session: Session, file_id: str, **values) -> None:
    """Sets `values` (columns of `files`) on the file and counts a new version of it."""
    session.execute(BUMP, {"bumped": file_id, **values})


# Built once (`eoffice.db`, "built once"): a step's own writes, values given when run.
ADD_MOVEMENT = movements.insert()
BUMP = update(files).where(files.c.id == bindparam("bumped")).values(version=files.c.version + 1)


# --- creating ----------------------------------------------------------------------------


def create(session: Session, actor: Actor, request: CreateFile, *, parent: dict | None = None) -> dict:
    """Opens a file in the actor's office, held by the actor's post, numbered in the year of
    the office day."""
    if (
        parent is None
        and not session.execute(
            select(subject_heads.c.code).where(
                subject_heads.c.office_code == actor.office_id, subject_heads.c.code == request.subject_head
            )
        ).first()
    ):
        raise InvalidInput(
            f"{request.subject_head} is not a subject head of {actor.office_id}; the office admin adds heads",
            field="subject_head",
        )
    now = clock.now()
    if parent:
        part = (
            session.execute(select(func.max(files.c.part_number)).where(files.c.parent_id == parent["id"])).scalar()
            or 0
        ) + 1
        number, extra = f"{parent['file_number']}/Part-{part}", {"parent_id": parent["id"], "part_number": part}
    else:
        number, extra = (
            next_file_number(session, actor.acting_office(), head=request.subject_head, year=clock.today().year),
            {},
        )
    row = {
        "id": str(uuid.uuid4()),
        "file_number": number,
        "office_code": actor.office_id,
        "subject_head": request.subject_head,
        "subject": request.subject,
        "category": request.category,
        "priority": request.priority,
        "record_category": request.record_category,
        "physical": request.physical,
        "creator_post": actor.post_id,
        "created_by": actor.user_id,
        "holder_post": actor.post_id,
        "held_since": now,
        **extra,
    }
    # A numbering that does not give numbers of their own (or two offices' that print alike):
    # refused, nothing written, rather than the unique index's error.
    made = session.execute(
        insert(files).values(**row).on_conflict_do_nothing(index_elements=[files.c.file_number]).returning(files.c.id)
    ).first()
    if made is None:
        raise _number_taken(session, actor.acting_office(), number)
    created = _row(session, row["id"])
    _log(
        session,
        created,
        "created",
        actor=actor,
        to_post=actor.post_id,
        remarks=f"part {extra['part_number']} of {parent['file_number']}" if parent else "",
    )
    return created


# --- withdrawing a file opened for a receipt dak then refused -----------------------------

# A row of one of these naming the file shows it was worked on.
WORK_IN_A_FILE = (
    notes.c.file_id,
    draft_notes.c.file_id,
    correspondence.c.file_id,
    drafts.c.file_id,
    links.c.file_id,
    links.c.other_id,
    files.c.parent_id,
)


def opened_with(session: Session, *, scope: str, lock: bool = False) -> dict | None:
    """What `create` answered under an idempotency key (its scope, `eoffice.idempotency`), the
    key's record locked if `lock`; None if it opened no file under it."""
    query = select(idempotency_keys.c.answer).where(idempotency_keys.c.scope == scope)
    answer = session.execute(query.with_for_update() if lock else query).scalar()
    return replayed(answer) if answer else None


def withdraw(session: Session, actor: Actor, *, scope: str, remarks: str) -> dict | None:
    """Deletes the file `create` opened under an idempotency key (its scope), if nothing was
    done in it since: with the post that opened it, open, unchanged (no note, paper, draft,
    link, part, nor movement but its opening). Its number goes back to the counter unless a
    later one was taken (`_give_back`), and the key is forgotten: it may be used again. Returns
    the step (for eoffice.file.withdrawn.v1); None if the key opened no file (withdrawn already,
    or never). Conflict if the file was worked on: it stays."""
    opened = opened_with(session, scope=scope, lock=True)
    if opened is None:
        return None
    file = _row(session, opened["id"], lock=True)
    label = f"file {file['file_number']}"
    worked = (
        file["version"] != 1
        or (file["status"], file["holder_post"]) != ("open", file["creator_post"])
        or file["creator_post"] != actor.post_id
        or [m["action"] for m in history(session, file["id"])] != ["created"]
        or any(
            session.execute(select(column).where(column == file["id"]).limit(1)).first() for column in WORK_IN_A_FILE
        )
    )
    if worked:
        raise Conflict(f"{label} was worked on since it was opened: it stays")
    session.execute(delete(movements).where(movements.c.file_id == file["id"]))
    session.execute(delete(files).where(files.c.id == file["id"]))
    session.execute(delete(idempotency_keys).where(idempotency_keys.c.scope == scope))
    _give_back(session, file)
    return {
        "file_id": file["id"],
        "file_number": file["file_number"],
        "by_user": actor.user_id,
        "from_post": file["holder_post"],
        "remarks": remarks,
    }


# --- correspondence ----------------------------------------------------------------------


def last_page(session: Session, file_id: str) -> int:
    return session.execute(
        select(func.coalesce(func.max(correspondence.c.last_page), 0)).where(correspondence.c.file_id == file_id)
    ).scalar_one()


def add_correspondence(
    session: Session,
    file: dict,
    *,
    kind: str,
    title: str,
    pages: int,
    by_user: str,
    receipt_id: str | None = None,
    document: StoredDocument | None = None,
    puc: bool = False,
) -> dict:
    """Adds pages to the right side: numbered on from the last page of the file; a new volume
    starts when the current one is full. A receipt added to a file that already has
    correspondence is a fresh receipt (FR I, FR II ...)."""
    first = last_page(session, file["id"]) + 1
    volume = file["volume"]
    in_volume = session.execute(
        select(func.coalesce(func.sum(correspondence.c.last_page - correspondence.c.first_page + 1), 0)).where(
            correspondence.c.file_id == file["id"], correspondence.c.volume == volume
        )
    ).scalar_one()
    if in_volume and in_volume + pages > PAGES_PER_VOLUME:
        volume += 1
    fr = None
    if kind == "receipt" and first > 1 and not puc:
        fr = (
            session.execute(
                select(func.max(correspondence.c.fr_number)).where(correspondence.c.file_id == file["id"])
            ).scalar()
            or 0
        ) + 1
    row = (
        session.execute(
            correspondence.insert()
            .values(
                file_id=file["id"],
                kind=kind,
                receipt_id=receipt_id,
                title=title,
                first_page=first,
                last_page=first + pages - 1,
                volume=volume,
                puc=puc,
                fr_number=fr,
                added_by=by_user,
                **_stored(document),
            )
            .returning(*correspondence.c)
        )
        .mappings()
        .one()
    )
    _bump(session, file["id"], volume=volume)
    return dict(row)


def pages_of(session: Session, file_id: str) -> list[dict]:
    return [
        dict(c)
        for c in session.execute(
            select(correspondence).where(correspondence.c.file_id == file_id).order_by(correspondence.c.first_page)
        ).mappings()
    ]


def flag_puc(session: Session, file: dict, *, item_id: int, puc: bool) -> dict:
    """Flags one item as the paper under consideration (one PUC at a time), or unflags it."""
    item = (
        session.execute(
            select(correspondence).where(correspondence.c.id == item_id, correspondence.c.file_id == file["id"])
        )
        .mappings()
        .first()
    )
    if item is None:
        raise NotFound(f"file {file['file_number']} has no correspondence item {item_id}")
    if puc:
        session.execute(update(correspondence).where(correspondence.c.file_id == file["id"]).values(puc=False))
    session.execute(update(correspondence).where(correspondence.c.id == item_id).values(puc=puc))
    _bump(session, file["id"])
    return {**dict(item), "puc": puc}


# --- drafts for approval -----------------------------------------------------------------


def _draft(session: Session, file: dict, draft_id: int) -> dict:
    row = (
        session.execute(select(drafts).where(drafts.c.id == draft_id, drafts.c.file_id == file["id"]).with_for_update())
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"file {file['file_number']} has no draft {draft_id}")
    return dict(row)


def _stored(document: StoredDocument | None) -> dict:
    """The columns that record an uploaded document."""
    return document.model_dump(exclude={"pages"}) if document else {}


def add_draft(
    session: Session,
    actor: Actor,
    file: dict,
    *,
    title: str,
    body: str,
    document: StoredDocument | None = None,
) -> dict:
    draft = (
        session.execute(drafts.insert().values(file_id=file["id"], title=title).returning(*drafts.c)).mappings().one()
    )
    session.execute(
        draft_versions.insert().values(
            draft_id=draft["id"],
            version=1,
            body=body,
            author_user=actor.user_id,
            author_post=actor.post_id,
            **_stored(document),
        )
    )
    _bump(session, file["id"])
    return {**draft, "body": body, **_stored(document)}


def revise_draft(
    session: Session,
    actor: Actor,
    file: dict,
    *,
    draft_id: int,
    body: str,
    version: int,
    document: StoredDocument | None = None,
) -> dict:
    """A new version of a draft, by whoever holds the file now (seniors edit drafts)."""
    draft = _draft(session, file, draft_id)
    if draft["status"] != "draft":
        raise Conflict(f"draft {draft_id} is {draft['status']}: it cannot change any more")
    if draft["current_version"] != version:
        raise Conflict(f"draft {draft_id} is at version {draft['current_version']}, not {version}: reload it")
    session.execute(
        draft_versions.insert().values(
            draft_id=draft_id,
            version=version + 1,
            body=body,
            author_user=actor.user_id,
            author_post=actor.post_id,
            **_stored(document),
        )
    )
    session.execute(update(drafts).where(drafts.c.id == draft_id).values(current_version=version + 1))
    _bump(session, file["id"])
    return {**draft, "current_version": version + 1, "body": body, **_stored(document)}


def approve_draft(session: Session, actor: Actor, file: dict, *, draft_id: int, version: int) -> dict:
    """The holder approves the draft's current version; it then goes to signing and issue."""
    draft = _draft(session, file, draft_id)
    if draft["status"] != "draft":
        raise Conflict(f"draft {draft_id} is already {draft['status']}")
    if draft["current_version"] != version:
        raise Conflict(
            f"draft {draft_id} is at version {draft['current_version']}, not {version}: approve what you read"
        )
    if not actor.has_role("officer") and not actor.has_role("supervisor"):
        raise Forbidden("an officer approves drafts")
    now = datetime.now(UTC)
    session.execute(
        update(drafts)
        .where(drafts.c.id == draft_id)
        .values(status="approved", approved_by=actor.user_id, approved_post=actor.post_id, approved_at=now)
    )
    _bump(session, file["id"], **_new_round(file["holder_post"]))
    return {
        **draft,
        "status": "approved",
        "approved_by": actor.user_id,
        "approved_post": actor.post_id,
        "approved_at": now,
    }


def withdraw_draft(session: Session, actor: Actor, file: dict, *, draft_id: int, remarks: str) -> dict:
    """The holder gives up a draft that will not be issued (a changed decision, a duplicate):
    it stays in the file with its versions, marked withdrawn with who, when and why, and no
    longer keeps the file from closing (rule 6). One approved already is withdrawn by an officer,
    as it was approved by one. Conflict once it is withdrawn or issued as a letter; signing then
    refuses to issue it (`draft_for_issue`), a signature prepared for it included."""
    draft = _draft(session, file, draft_id)
    if draft["status"] == "withdrawn":
        raise Conflict(f"draft {draft_id} is withdrawn already")
    issued = session.execute(select(letters.c.letter_number).where(letters.c.draft_id == draft_id)).scalars().first()
    if issued is not None:
        raise Conflict(f"draft {draft_id} was issued as letter {issued}: an issued letter is not withdrawn")
    if draft["status"] == "approved" and not (actor.has_role("officer") or actor.has_role("supervisor")):
        raise Forbidden(f"draft {draft_id} is approved: an officer withdraws it")
    now = datetime.now(UTC)
    facts = {
        "status": "withdrawn",
        "withdrawn_by": actor.user_id,
        "withdrawn_post": actor.post_id,
        "withdrawn_at": now,
        "withdrawn_remarks": remarks,
    }
    session.execute(update(drafts).where(drafts.c.id == draft_id).values(**facts))
    _bump(session, file["id"])
    return {**draft, **facts}


def draft_for_issue(session: Session, file: dict, *, draft_id: int, version: int) -> dict:
    """The approved draft version the holder of `file` may sign and issue: its title, text,
    approval and `document` (the one uploaded with that version, which the letter carries as its
    enclosure: object_name, sha256, filename, content_type, uploaded_at; None without one), with
    the file's number, office and record category. Conflict if the draft is not approved or
    `version` is not its approved (current) version."""
    draft = _draft(session, file, draft_id)
    if draft["status"] != "approved":
        raise Conflict(f"draft {draft_id} is {draft['status']}, not approved: only an approved draft is issued")
    if draft["current_version"] != version:
        raise Conflict(f"version {version} of draft {draft_id} is not the approved one ({draft['current_version']})")
    approved = (
        session.execute(
            select(draft_versions).where(draft_versions.c.draft_id == draft_id, draft_versions.c.version == version)
        )
        .mappings()
        .one()
    )
    document = None
    if approved["object_name"]:
        document = {k: approved[k] for k in ("object_name", "sha256", "filename", "content_type")}
        document["uploaded_at"] = approved["at"]
    return {
        "file_id": file["id"],
        "file_number": file["file_number"],
        "office_code": file["office_code"],
        "record_category": file["record_category"],
        "subject": file["subject"],
        "draft_id": draft_id,
        "version": version,
        "title": draft["title"],
        "body": approved["body"],
        "document": document,
        "approved_by": draft["approved_by"],
        "approved_post": draft["approved_post"],
        "approved_at": draft["approved_at"],
    }


def add_issued_letter(session: Session, file: dict, *, letter: dict) -> dict:
    """Adds an issued letter (eoffice.letter.issued.v1's payload) to the correspondence: its
    pages numbered on, the signed PDF a locked record of the signing service."""
    row = add_correspondence(
        session,
        file,
        kind="letter",
        title=f"{letter['letter_number']}: {letter['title']}",
        pages=max(int(letter["pages"]), 1),
        by_user=letter["signer_user"],
        document=StoredDocument(
            object_name=letter["object_name"],
            sha256=letter["sha256"],
            filename=f"{letter['letter_number'].replace('/', '-')}.pdf",
            content_type="application/pdf",
            pages=max(int(letter["pages"]), 1),
        ),
    )
    session.execute(
        update(correspondence)
        .where(correspondence.c.id == row["id"])
        .values(record_version=letter.get("record_version"))
    )
    return {**row, "record_version": letter.get("record_version")}


def record_letter(session: Session, *, letter_id: str, file_id: str, letter_number: str, **facts: Any) -> None:
    """Records what signing or notify reported about a letter of a file (`facts`: draft_id and
    issued_at from eoffice.letter.issued.v1, dispatched_at from eoffice.letter.dispatched.v1), in
    whichever order the two events arrive; a redelivery changes nothing."""
    session.execute(
        insert(letters)
        .values(letter_id=letter_id, file_id=file_id, letter_number=letter_number, **facts)
        .on_conflict_do_update(index_elements=[letters.c.letter_id], set_=facts)
    )


def undispatched(session: Session, file_id: str) -> tuple[list[dict], list[str]]:
    """Rule 6: the file's drafts approved but not issued yet, and the numbers of its letters
    issued but not dispatched yet. Both empty when the file may close."""
    not_issued = [
        dict(r)
        for r in session.execute(
            select(drafts.c.id, drafts.c.title)
            .where(drafts.c.file_id == file_id, drafts.c.status == "approved")
            .where(~select(letters.c.letter_id).where(letters.c.draft_id == drafts.c.id).exists())
            .order_by(drafts.c.id)
        ).mappings()
    ]
    not_sent = list(
        session.execute(
            select(letters.c.letter_number)
            .where(letters.c.file_id == file_id, letters.c.dispatched_at.is_(None))
            .order_by(letters.c.letter_number)
        ).scalars()
    )
    return not_issued, not_sent


def drafts_of(session: Session, file_id: str) -> list[dict]:
    rows = session.execute(
        select(drafts, draft_versions.c.body, draft_versions.c.author_post)
        .join(
            draft_versions,
            (draft_versions.c.draft_id == drafts.c.id) & (draft_versions.c.version == drafts.c.current_version),
        )
        .where(drafts.c.file_id == file_id)
        .order_by(drafts.c.id)
    ).mappings()
    return [dict(r) for r in rows]


def stored_document(
    session: Session, file: dict, *, item_id: int | None = None, draft_id: int | None = None, version: int | None = None
) -> dict:
    """The uploaded document of a correspondence item or of a draft version, to stream it."""
    if item_id is not None:
        row = (
            session.execute(
                select(correspondence).where(correspondence.c.id == item_id, correspondence.c.file_id == file["id"])
            )
            .mappings()
            .first()
        )
    elif draft_id is not None:
        _draft(session, file, draft_id)
        row = (
            session.execute(
                select(draft_versions).where(draft_versions.c.draft_id == draft_id, draft_versions.c.version == version)
            )
            .mappings()
            .first()
        )
    else:
        row = None  # neither an item nor a draft named: no such document
    if row is None or not row["object_name"]:
        raise NotFound(f"file {file['file_number']} has no such uploaded document")
    found = {k: row[k] for k in ("object_name", "sha256", "filename", "content_type")}
    if row.get("record_version"):  # an issued letter: a locked record, read by its version
        found["version_id"] = row["record_version"]
    return found


def versions_of(session: Session, file: dict, draft_id: int) -> list[dict]:
    _draft(session, file, draft_id)
    return [
        dict(v)
        for v in session.execute(
            select(draft_versions).where(draft_versions.c.draft_id == draft_id).order_by(draft_versions.c.version)
        ).mappings()
    ]


# --- movement ----------------------------------------------------------------------------


def set_limit(session: Session, category: str, working_days: int) -> dict:
    session.execute(
        insert(category_limits)
        .values(category=category, working_days=working_days)
        .on_conflict_do_update(index_elements=[category_limits.c.category], set_={"working_days": working_days})
    )
    return {"category": category, "working_days": working_days}


def send(
    session: Session,
    *,
    actor: Actor,
    file: dict,
    to_post: str,
    remarks: str,
    due_date: date,
    skipped: Sequence[str] = (),
    levels: int = 0,
) -> dict:
    """Moves the file to `to_post`, due by `due_date`; the movement records the levels the send
    `skipped` (`eoffice.movement.skipped_levels`): those posts may read the file from then on,
    and the file's `levels` to a decision after it (`eoffice.movement.levels_to_decision`). A send
    up past the fourth level goes through: the step carries `warnings` saying so. The movement
    keeps the file's levels before the send too (`levels_before`): a pull back restores them."""
    label = f"file {file['file_number']}"
    require_elsewhere(file, [to_post], label=label)
    step = _log(
        session,
        file,
        "sent",
        actor=actor,
        to_post=to_post,
        remarks=remarks,
        due_date=due_date,
        skipped=skipped,
        levels_to_decision=levels,
        levels_before=file["levels_to_decision"],
    )
    _bump(
        session,
        file["id"],
        holder_post=to_post,
        **arriving(file),
        status="open",
        due_date=due_date,
        held_since=datetime.now(UTC),
        levels_to_decision=levels,
    )
    return {**step, "warnings": level_warnings(label, before=file["levels_to_decision"], after=levels)}


def moving_with(session: Session, actor: Actor, file: dict) -> list[dict]:
    """The files linked to the file, locked, to send with it: each held by the actor's post
    (as the file is), open or parked and received, else nothing is sent (NotCurrentHolder, Conflict)."""
    linked = linked_files(session, file["id"])
    for other in linked:
        label = f"file {other['file_number']} (linked to file {file['file_number']}, it moves with it)"
        require_actable(actor, other, label=label, statuses=("open", "parked"))
    return linked


def moved(step: dict) -> dict:
    """What a send or pull back answers of a file that moved with the file."""
    return {k: step[k] for k in ("file_id", "file_number", "action", "to_post", "due_date", "levels_to_decision")}


def open_file(session: Session, actor: Actor, file: dict) -> dict | None:
    """The holder opening the file: from then on it cannot be pulled back (rule 4)."""
    if not opens(actor, file):
        return None
    _bump(session, file["id"], opened=True)
    step = _log(session, file, "opened", actor=actor, to_post=file["holder_post"])
    file.update(opened=True, version=file["version"] + 1)
    return step


def receive(session: Session, *, actor: Actor, file_id: str, supervises: Supervises) -> dict | None:
    file, _ = visible(session, actor, file_id=file_id, supervises=supervises, lock=True)
    if not needs_receiving(actor, file, label=f"file {file['file_number']}"):
        return None
    _bump(session, file_id, received=True, opened=True)
    return _log(session, file, "received", actor=actor, to_post=file["holder_post"])


def pull_back(session: Session, *, actor: Actor, file_id: str, supervises: Supervises) -> list[dict]:
    """Takes the file back (rule 4), and with it each file linked to it: the steps, the file's
    first. The recipient looking at or acting on a file opens it (a note, a draft, a link made or
    removed under it: `FilesService._opened`), so that any of these ends the pull back. A linked
    file is pulled back if the actor's post sent it last, it has not moved on and the recipient
    has not opened it either, else nothing is (Conflict). A linked file is not pulled back on its
    own (Conflict naming its main file, once the recipient's opening it is not the answer)."""
    file, moves = visible(session, actor, file_id=file_id, supervises=supervises, lock=True, with_history=True)
    last = pull_back_from(actor, file, moves, label=f"file {file['file_number']}", sends=("sent",))
    require_unlinked(session, file, doing="pull back")
    steps = [_pull_back(session, actor, file, last=last)]
    for other in linked_files(session, file_id):
        went = pull_back_from(
            actor,
            other,
            history(session, other["id"]),
            label=f"file {other['file_number']} (linked to file {file['file_number']})",
            sends=("sent",),
        )
        steps.append(
            _pull_back(session, actor, other, last=went, remarks=f"pulled back with file {file['file_number']}")
        )
    return steps


def _pull_back(session: Session, actor: Actor, file: dict, *, last: dict, remarks: str = "") -> dict:
    """Undoes the send `last`: the file is with its sender again, at the levels to a decision it
    had before that send (recorded on its movement; a send recorded before they were, in
    migration files_levels_undo_0009, leaves the levels as they are)."""
    step = _log(session, file, "pulled_back", actor=actor, to_post=last["from_post"], remarks=remarks)
    levels = {} if last["levels_before"] is None else {"levels_to_decision": last["levels_before"]}
    _bump(session, file["id"], **pulled_back(last), **levels, held_since=datetime.now(UTC))
    return step


def park(session: Session, actor: Actor, file: dict, *, parked: bool, remarks: str) -> dict:
    if (file["status"] == "parked") == parked:
        raise Conflict(f"file {file['file_number']} is {'already' if parked else 'not'} parked")
    _bump(session, file["id"], status="parked" if parked else "open")
    return _log(
        session, file, "parked" if parked else "unparked", actor=actor, to_post=file["holder_post"], remarks=remarks
    )


def close(session: Session, actor: Actor, file: dict, *, remarks: str) -> dict:
    """Only the post that created the file closes it (rule 5), and only while it holds it. A file
    linked to another is not closed on its own, nor a main file while files are linked to it
    (Conflict naming them): they are unlinked first, and each closed for itself."""
    if file["creator_post"] != actor.post_id:
        raise Forbidden(f"only its creator ({file['creator_post']}) closes file {file['file_number']}")
    require_unlinked(session, file, doing="close")
    attached = session.execute(
        select(files.c.file_number).where(files.c.linked_to == file["id"]).order_by(files.c.file_number)
    ).scalars()
    if attached := list(attached):
        raise Conflict(
            f"file {file['file_number']} cannot be closed while files are linked to it: "
            f"{', '.join(attached)}. Unlink them first (each is then closed, or sent, on its own)"
        )
    pending = session.execute(
        select(func.count()).select_from(drafts).where(drafts.c.file_id == file["id"], drafts.c.status == "draft")
    ).scalar_one()
    if pending:
        raise Conflict(f"file {file['file_number']} has {pending} draft(s) not yet approved: approve or withdraw them")
    not_issued, not_sent = undispatched(session, file["id"])
    if not_issued or not_sent:  # rule 6; the receipts in the file close with it, so this guards them too
        why = [f"draft {d['id']} ({d['title']}) is approved but not issued" for d in not_issued]
        why += [f"letter {n} is issued but not dispatched" for n in not_sent]
        raise Undispatched(
            f"file {file['file_number']} cannot be closed: {'; '.join(why)}",
            drafts=[d["id"] for d in not_issued],
            letters=not_sent,
        )
    _bump(session, file["id"], status="closed", closed_at=datetime.now(UTC), due_date=None)
    return _log(session, file, "closed", actor=actor, to_post=file["holder_post"], remarks=remarks)


def request_reopen(session: Session, actor: Actor, *, file_id: str, supervises: Supervises, remarks: str) -> dict:
    """The holder of a closed file asks for it to be reopened. Conflict if it is not closed, or
    if a request is pending already (asked once, approved once: a second would only be noise)."""
    file, _ = visible(session, actor, file_id=file_id, supervises=supervises, lock=True)
    require_holder(actor, file, f"file {file['file_number']}")
    if file["status"] != "closed":
        raise Conflict(f"file {file['file_number']} is not closed")
    if file["reopen_requested_by"]:
        raise Conflict(
            f"a request to reopen file {file['file_number']} is already pending (asked by "
            f"{file['reopen_requested_by']}); a supervisor of that post approves it"
        )
    _bump(session, file_id, reopen_requested_by=actor.post_id)
    return _log(session, file, "reopen_asked", actor=actor, to_post=file["holder_post"], remarks=remarks)


def approve_reopen(
    session: Session,
    actor: Actor,
    *,
    file_id: str,
    supervisors: list[str],
    supervises: Supervises,
    remarks: str,
) -> dict:
    """A supervisor of the post that asked approves: the file is open again, with that post.
    The posts above the one that asked (`supervisors`) may see the file for this."""
    approver = bool(acting_posts(actor) & set(supervisors))
    file, _ = visible(
        session, actor, file_id=file_id, supervises=lambda office: approver or supervises(office), lock=True
    )
    if file["status"] != "closed" or not file["reopen_requested_by"]:
        raise Conflict(f"nobody has asked to reopen file {file['file_number']}")
    if not approver:
        raise Forbidden(f"a supervisor of {file['reopen_requested_by']} approves reopening")
    _bump(
        session,
        file_id,
        status="open",
        closed_at=None,
        reopen_requested_by=None,
        holder_post=file["reopen_requested_by"],
        opened=True,
        held_since=datetime.now(UTC),
        **_new_round(file["reopen_requested_by"]),
    )
    return _log(session, file, "reopened", actor=actor, to_post=file["reopen_requested_by"], remarks=remarks)


def link(session: Session, actor: Actor, file: dict, *, other: dict, kind: str) -> dict:
    """Links `other` to the file (kind link: considered together, it moves with the file from
    then on, `may_travel`) or makes it a reference (cited, nothing moves). A link made again with
    another kind takes that kind. `other` is locked, after the file (the order a send locks them)."""
    if other["id"] == file["id"]:
        raise InvalidInput("a file cannot be linked to itself", field="other_file_id")
    if kind == "link":
        may_travel(session, actor, file, other=other)
    session.execute(
        insert(links)
        .values(file_id=file["id"], other_id=other["id"], kind=kind, by_user=actor.user_id)
        .on_conflict_do_update(index_elements=[links.c.file_id, links.c.other_id], set_={"kind": kind})
    )
    if (kind == "link") != (other["linked_to"] == file["id"]):  # linked to the file now, or no longer
        _bump(session, other["id"], linked_to=file["id"] if kind == "link" else None)
    _bump(session, file["id"])
    return {
        "file_id": file["id"],
        "other_file_id": other["id"],
        "other_file_number": other["file_number"],
        "kind": kind,
    }


def may_travel(session: Session, actor: Actor, file: dict, *, other: dict) -> None:
    """Whether `other` may be linked to the file (the actor's post holds the file): Conflict
    naming `other_file_id` unless the actor's post holds it too, open or parked and received, and
    neither file is part of another link already (one main file per linked file, no chains)."""
    label, main = f"file {other['file_number']}", f"file {file['file_number']}"
    if file["linked_to"]:
        raise Conflict(
            f"{main} is itself linked to file {_number_of(session, file['linked_to'])}: a linked file has no files "
            "linked to it (no chains); link both to that main file, or unlink it first"
        )
    if other["holder_post"] not in acting_posts(actor):
        raise Conflict(
            f"{label} is with {other['holder_post']}: a linked file moves with {main}, so your post must hold both. "
            "Link it as a reference to cite a file held elsewhere",
            field="other_file_id",
        )
    if other["status"] not in ("open", "parked") or not other["received"]:
        raise Conflict(
            f"{label} is {other['status'] if other['received'] else 'physical: receive it before linking it'}",
            field="other_file_id",
        )
    if other["linked_to"] not in (None, file["id"]):
        raise Conflict(
            f"{label} is linked to file {_number_of(session, other['linked_to'])} already: a file moves with one "
            "main file; unlink it there first",
            field="other_file_id",
        )
    if session.execute(select(files.c.id).where(files.c.linked_to == other["id"]).limit(1)).first():
        raise Conflict(
            f"{label} has files linked to it: it cannot be linked to {main} as well (no chains); link its files "
            f"to {main} instead, or unlink them first",
            field="other_file_id",
        )


def _number_of(session: Session, file_id: str) -> str:
    return session.execute(select(files.c.file_number).where(files.c.id == file_id)).scalar_one()


def require_unlinked(session: Session, file: dict, *, doing: str) -> None:
    """A file linked to a main file moves with it, never on its own: Conflict naming the main
    file, if the file is one (`doing`: what was asked, e.g. "send")."""
    if file["linked_to"]:
        main = _number_of(session, file["linked_to"])
        raise Conflict(
            f"file {file['file_number']} is linked to file {main} and moves with it: to {doing} it on its own, "
            f"unlink it from file {main} first"
        )


# Built once (`eoffice.db`, "built once"): a main file's linked files, locked after it (the only
# query a send makes for them, on the index files_linked_to), with their days' limit for the due date.
LINKED_FILES = (
    select(files, READ_WITH_FILE["category_days"].label("category_days"))
    .where(files.c.linked_to == bindparam("main"))
    .order_by(files.c.id)
    .with_for_update()
)


def linked_files(session: Session, file_id: str) -> list[dict]:
    """The files linked to the file (kind link: they move with it), locked."""
    return [dict(r) for r in session.execute(LINKED_FILES, {"main": file_id}).mappings()]


def unlink(
    session: Session, actor: Actor, file: dict, *, other_id: str, opening: Callable[[dict], Any] = lambda other: None
) -> dict:
    """Removes the file's link to (or reference of) another file: from then on that file moves on
    its own. NotFound if there is none. The movements of the file (and of a linked file) record
    who unlinked it, and who had linked it when. A linked file (locked) is passed to `opening`
    first: unlinking it acts on it, as on the file."""
    found = (
        session.execute(
            select(links, files.c.file_number)
            .join(files, files.c.id == links.c.other_id)
            .where(links.c.file_id == file["id"], links.c.other_id == other_id)
        )
        .mappings()
        .first()
    )
    if found is None:
        raise NotFound(f"file {file['file_number']} has no link to file {other_id}")
    other = _row(session, other_id, lock=True)
    session.execute(delete(links).where(links.c.file_id == file["id"], links.c.other_id == other_id))
    if other["linked_to"] == file["id"]:
        opening(other)
        _bump(session, other_id, linked_to=None)
        _log(
            session,
            other,
            "unlinked",
            actor=actor,
            to_post=other["holder_post"],
            remarks=f"unlinked from file {file['file_number']}: moves on its own",
        )
    _bump(session, file["id"])
    linked = f"{found['kind']} made by {found['by_user']} on {found['at'].astimezone(clock.IST):%Y-%m-%d %H:%M}"
    step = _log(
        session,
        file,
        "unlinked",
        actor=actor,
        to_post=file["holder_post"],
        remarks=f"unlinked file {found['file_number']} ({linked})",
    )
    return {**step, "other_file_id": other_id, "other_file_number": found["file_number"], "kind": found["kind"]}


def links_of(session: Session, file_id: str) -> list[dict]:
    """The files linked to the file and those it refers to, each with its holder (a linked file
    is with the file's holder)."""
    rows = session.execute(
        select(links.c.kind, files.c.id, files.c.file_number, files.c.subject, files.c.holder_post)
        .join(files, files.c.id == links.c.other_id)
        .where(links.c.file_id == file_id)
        .order_by(links.c.at, files.c.id)
    )
    return [dict(r) for r in rows.mappings()]


def main_file(session: Session, file: dict) -> dict | None:
    """The main file the file is linked to (it moves with it), or None."""
    if not file["linked_to"]:
        return None
    row = session.execute(
        select(files.c.id, files.c.file_number, files.c.subject).where(files.c.id == file["linked_to"])
    ).mappings()
    return dict(row.one())


# --- lists and tracking ------------------------------------------------------------------


def sent(session: Session, actor: Actor, *, page: Page) -> dict:
    """Returns the open or parked files the actor's post (or a post delegated to it) sent that
    another post holds now, the one sent last first: the sender's "sent" list, from which a
    pull back starts."""
    posts = acting_posts(actor)
    last_sent = (
        select(movements.c.file_id, func.max(movements.c.id).label("last_sent"))
        .where(movements.c.from_post.in_(posts), movements.c.action == "sent")
        .group_by(movements.c.file_id)
        .subquery()
    )
    query = (
        select(files, last_sent.c.last_sent)
        .join(last_sent, last_sent.c.file_id == files.c.id)
        .where(files.c.status.in_(("open", "parked")), files.c.holder_post.not_in(posts))
    )
    return keyset_page(session, query, last_sent.c.last_sent, after=page.after, limit=page.limit, descending=True)


def inbox(session: Session, actor: Actor, *, query: FilesQuery, today: date) -> dict:
    """Files with the actor's post (and posts delegated to it), open or parked."""
    where: list[ColumnElement[bool]] = [
        files.c.holder_post.in_(acting_posts(actor)),
        files.c.status.in_(("open", "parked")),
    ]
    if query.parked is not None:
        where.append(files.c.status == ("parked" if query.parked else "open"))
    if query.overdue is not None:
        late = files.c.due_date.is_not(None) & (files.c.due_date < today)
        where.append(late if query.overdue else ~late)
    return keyset_page(session, select(files).where(*where), files.c.id, after=query.after, limit=query.limit)


def holdings(moves: list[dict]) -> list[dict]:
    """Who held the file from when to when: one entry per stay, from the movements."""
    stays: list[dict] = []
    for move in moves:
        arrives = move["action"] in ("created", "sent", "pulled_back", "reopened")
        if move["action"] == "closed" and stays and stays[-1]["until"] is None:
            stays[-1]["until"] = move["at"]
        if arrives and move["to_post"]:
            if stays and stays[-1]["until"] is None:
                stays[-1]["until"] = move["at"]
            stays.append({"post": move["to_post"], "since": move["at"], "until": None, "how": move["action"]})
    return stays


def unreferenced(session: Session, object_names: list[str]) -> set[str]:
    """Those of `object_names` that no correspondence item or draft version holds."""
    held_names = set(
        session.execute(
            select(correspondence.c.object_name).where(correspondence.c.object_name.in_(object_names))
        ).scalars()
    )
    held_names |= set(
        session.execute(
            select(draft_versions.c.object_name).where(draft_versions.c.object_name.in_(object_names))
        ).scalars()
    )
    return set(object_names) - held_names
